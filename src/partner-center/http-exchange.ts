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
import { noteSending, sharedDispatcher, takeSocketReuse } from "./http-stack.js";
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

function errorCode(error: unknown): string | undefined {
  const code = error !== null && typeof error === "object" ? (error as { code?: unknown }).code : undefined;
  return typeof code === "string" ? code : undefined;
}

function headerReader(headers: Dispatcher.ResponseData["headers"]): (name: string) => string | null {
  return (name) => {
    const value = headers[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(", ") : value;
  };
}

/** An exchanger for the origin of `baseUrl` (http: or https:), on the process's one proxy-aware pool. */
export function createHttpExchanger(baseUrl: string, dispatcher: Dispatcher = sharedDispatcher()): HttpExchanger {
  const url = new URL(baseUrl);
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error(`expected an http(s) base URL, not ${url.protocol}`);
  const origin = `${url.protocol}//${url.host}`;

  async function once(request: HttpExchangeRequest, signal: AbortSignal): Promise<HttpOutcome> {
    let response: Dispatcher.ResponseData;
    try {
      response = await dispatcher.request({
        origin,
        path: request.path,
        method: request.method,
        headers: request.headers,
        body: request.body ?? null,
        signal,
        // The whole-exchange timer below rules; undici's own per-phase timers must not fire first.
        headersTimeout: 0,
        bodyTimeout: 0,
      });
    } catch (error) {
      return { ok: false, error: signal.aborted ? signal.reason : error };
    }
    const header = headerReader(response.headers);
    let raw: Buffer;
    try {
      raw = Buffer.from(await response.body.arrayBuffer());
    } catch (error) {
      return { ok: false, status: response.statusCode, header, error: signal.aborted ? signal.reason : error };
    }
    const decoded = decodeContent(raw, header("content-encoding"));
    if (!decoded.ok) return { ok: false, status: response.statusCode, header, error: decoded.error };
    return {
      ok: true,
      status: response.statusCode,
      statusText: STATUS_CODES[response.statusCode] ?? "",
      header,
      text: stripByteOrderMark(decoded.body.toString("utf8")),
    };
  }

  async function exchange(request: HttpExchangeRequest): Promise<HttpOutcome> {
    const caller = request.signal;
    if (caller?.aborted) return { ok: false, error: caller.reason };
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(caller?.reason);
    caller?.addEventListener("abort", onAbort, { once: true });
    const timer = setTimeout(() => controller.abort(new AttemptTimeoutError(request.timeoutMs)), request.timeoutMs);
    // Like AbortSignal.timeout: the pending exchange's socket is what keeps the process alive.
    timer.unref();
    const requestId = request.headers["MS-RequestId"];
    try {
      noteSending(requestId);
      const first = await once(request, controller.signal);
      const reused = takeSocketReuse(requestId);
      // A reset before any answer on a connection that had already carried an exchange: the pool
      // handed out a socket its peer had closed. Once more, on a fresh one; never counted.
      if (!first.ok && first.status === undefined && !controller.signal.aborted && reused && RESET_BEFORE_ANSWER.has(errorCode(first.error) ?? "")) {
        return await once(request, controller.signal);
      }
      return first;
    } finally {
      takeSocketReuse(requestId);
      clearTimeout(timer);
      caller?.removeEventListener("abort", onAbort);
    }
  }

  return { origin, exchange };
}
