// One HTTP/1.1 exchange with the Partner Center host on undici: a keep-alive pool per origin, the
// proxy the environment names (HTTPS_PROXY / HTTP_PROXY / NO_PROXY, see http-stack.ts), the whole
// body read and decoded (Content-Encoding gzip, deflate, br), settling once with either the answer
// or the error that ended it. The per-attempt timeout and the caller's AbortSignal cover the whole
// exchange (queueing, connecting, sending, the headers and the body); either aborts the request,
// and with it the socket, so a cut or abandoned connection never goes back to the pool.
//
// A connection the server (or a load balancer) closed while it sat idle in the pool fails the next
// request sent on it with a reset before any answer byte: that request is sent once more on a fresh
// connection, with the same headers (the same MS-RequestId), and the caller never sees the reset.
import { STATUS_CODES } from "node:http";
import type { Dispatcher } from "undici";
import { decodeContent } from "./content-encoding.js";
import { onHeadersSent, sharedDispatcher } from "./http-stack.js";
import { stripByteOrderMark } from "./response-body.js";

export interface HttpExchangeRequest {
  method: "GET" | "POST" | "PATCH";
  /** Path and query as sent, already resolved and encoded. */
  path: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

export interface HttpAnswer {
  ok: true;
  status: number;
  statusText: string;
  /** Every value of a header joined with ", ", as fetch's Headers.get gives them. */
  header(name: string): string | null;
  /** The body decoded (Content-Encoding, then UTF-8), a leading byte-order mark removed. */
  text: string;
}

/**
 * The status line and headers arrived but the body did not, whole or readable: cut short, or
 * compressed in a way that does not decode. For a 2xx that is an answer nobody can read.
 */
export interface HttpUnreadableBody {
  ok: false;
  status: number;
  header(name: string): string | null;
  error: unknown;
}

export type HttpOutcome = HttpAnswer | HttpUnreadableBody | { ok: false; status?: undefined; error: unknown };

/** What ends an attempt that outlives its time; named as AbortSignal.timeout's reason is. */
export class AttemptTimeoutError extends Error {
  override name = "TimeoutError";
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}

export interface HttpExchanger {
  /** The origin requests go to (`http://host:port`). */
  readonly origin: string;
  exchange(request: HttpExchangeRequest): Promise<HttpOutcome>;
}

/** What undici reports when the peer closed a connection before the answer. */
const RESET_BEFORE_ANSWER = new Set(["ECONNRESET", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_CLOSED"]);

// undici says, as it writes a request's headers, whether the socket carried an exchange before.
onHeadersSent((reused) => {
  if (connecting) connecting.reused = reused;
  connecting = undefined;
});

function errorCode(error: unknown): string | undefined {
  const code = error !== null && typeof error === "object" ? (error as { code?: unknown }).code : undefined;
  return typeof code === "string" ? code : undefined;
}

/**
 * Every value of the header `name` (case-insensitive) joined with ", ", as fetch's Headers.get and
 * undici's parsed headers give them; read from the raw name/value pairs, only the values asked for
 * decoded (latin1, as undici decodes them).
 */
function headerReader(rawHeaders: Buffer[] | null): (name: string) => string | null {
  return (name) => {
    if (rawHeaders === null) return null;
    let joined: string | null = null;
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      if (!isHeaderName(rawHeaders[i]!, name)) continue;
      const value = rawHeaders[i + 1]!.toString("latin1");
      joined = joined === null ? value : `${joined}, ${value}`;
    }
    return joined;
  };
}

/** Whether the raw header name is `name`, ASCII letters compared without case (header names are ASCII tokens). */
function isHeaderName(raw: Buffer, name: string): boolean {
  if (raw.length !== name.length) return false;
  for (let i = 0; i < raw.length; i++) {
    const byte = raw[i]!;
    const char = name.charCodeAt(i);
    if (byte === char) continue;
    const lower = byte | 0x20;
    if (lower !== (char | 0x20) || lower < 0x61 || lower > 0x7a) return false;
  }
  return true;
}

/**
 * One exchange's stop: the per-attempt timeout or the caller's signal. Once given, a reason ends the
 * request on the wire (undici's abort, which destroys its socket) or, not yet on a socket, as soon as
 * it gets one, as undici's own request() does with a signal.
 */
interface Stop {
  reason: unknown;
  stopped: boolean;
  /** The abort of the request on the wire, if one is. */
  abort: ((error: Error) => void) | undefined;
}

function stop(state: Stop, reason: unknown): void {
  if (state.stopped) return;
  state.stopped = true;
  state.reason = reason;
  state.abort?.(reason instanceof Error ? reason : new Error(String(reason)));
}

/**
 * The one send in progress whose headers undici is about to write: its handler's onConnect runs in
 * the same synchronous step as undici's sendHeaders message (http-stack.ts), which says whether the
 * socket carried an exchange before.
 */
let connecting: { reused: boolean } | undefined;

/** An exchanger for the origin of `baseUrl` (http: or https:), on the process's one proxy-aware pool. */
export function createHttpExchanger(baseUrl: string, dispatcher: Dispatcher = sharedDispatcher()): HttpExchanger {
  const url = new URL(baseUrl);
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error(`expected an http(s) base URL, not ${url.protocol}`);
  const origin = `${url.protocol}//${url.host}`;

  // undici's dispatch with a handler of our own: no response stream, no AbortSignal, no promise per
  // phase; the body's chunks are kept as they come and joined once at the end.
  function once(request: HttpExchangeRequest, state: Stop): Promise<{ outcome: HttpOutcome; reused: boolean }> {
    return new Promise((resolve) => {
      const send = { reused: false };
      let status: number | undefined;
      let rawHeaders: Buffer[] | null = null;
      const chunks: Buffer[] = [];
      let size = 0;
      const settle = (outcome: HttpOutcome): void => {
        state.abort = undefined;
        resolve({ outcome, reused: send.reused });
      };
      const handler: Dispatcher.DispatchHandler = {
        onConnect(abort) {
          if (state.stopped) {
            abort(state.reason instanceof Error ? state.reason : new Error(String(state.reason)));
            return;
          }
          state.abort = abort;
          connecting = send;
        },
        onHeaders(statusCode, headers) {
          // 1xx: informational, the answer is still to come.
          if (statusCode < 200) return true;
          status = statusCode;
          rawHeaders = headers;
          return true;
        },
        onData(chunk) {
          chunks.push(chunk);
          size += chunk.length;
          return true;
        },
        onComplete() {
          const header = headerReader(rawHeaders);
          const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
          const decoded = decodeContent(raw, header("content-encoding"));
          if (!decoded.ok) return settle({ ok: false, status: status!, header, error: decoded.error });
          settle({ ok: true, status: status!, statusText: STATUS_CODES[status!] ?? "", header, text: stripByteOrderMark(decoded.body.toString("utf8")) });
        },
        onError(error) {
          const cause = state.stopped ? state.reason : error;
          if (status === undefined) return settle({ ok: false, error: cause });
          settle({ ok: false, status, header: headerReader(rawHeaders), error: cause });
        },
      };
      try {
        dispatcher.dispatch(
          {
            origin,
            path: request.path,
            method: request.method,
            headers: request.headers,
            body: request.body ?? null,
            // The whole-exchange timer below rules; undici's own per-phase timers must not fire first.
            headersTimeout: 0,
            bodyTimeout: 0,
          },
          handler,
        );
      } catch (error) {
        handler.onError!(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  async function exchange(request: HttpExchangeRequest): Promise<HttpOutcome> {
    const caller = request.signal;
    if (caller?.aborted) return { ok: false, error: caller.reason };
    const state: Stop = { reason: undefined, stopped: false, abort: undefined };
    const onAbort = (): void => stop(state, caller?.reason);
    caller?.addEventListener("abort", onAbort, { once: true });
    const timer = setTimeout(() => stop(state, new AttemptTimeoutError(request.timeoutMs)), request.timeoutMs);
    // Like AbortSignal.timeout: the pending exchange's socket is what keeps the process alive.
    timer.unref();
    try {
      const first = await once(request, state);
      // A reset before any answer on a connection that had already carried an exchange: the pool
      // handed out a socket its peer had closed. Once more, on a fresh one; never counted.
      const failed = first.outcome;
      if (!failed.ok && failed.status === undefined && !state.stopped && first.reused && RESET_BEFORE_ANSWER.has(errorCode(failed.error) ?? "")) {
        return (await once(request, state)).outcome;
      }
      return failed;
    } finally {
      clearTimeout(timer);
      caller?.removeEventListener("abort", onAbort);
    }
  }

  return { origin, exchange };
}
