// One HTTP/1.1 exchange with the Partner Center host over node:http / node:https and a keep-alive
// Agent owned by one client: send, read the whole body, and settle once with either the answer or
// the error that ended it. The per-attempt timeout and the caller's AbortSignal cover the whole
// exchange (queueing, connecting, sending, the headers and the body); either destroys the request,
// and with it the socket, so a cut or abandoned connection never goes back to the pool.
// Built-in fetch did the same for about 5x the CPU per request.
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders, type RequestOptions } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { stripByteOrderMark } from "./response-body.js";

/** Sockets per client: above the highest --concurrency (256) plus the reads that run beside the writes. */
const MAX_SOCKETS = 512;
/**
 * An idle socket is closed after this long, or one second before the server's `Keep-Alive: timeout`
 * when that is shorter (Node's Agent honours the hint only when a timeout is set). Reusing a
 * connection the server is closing would cost an attempt on a spurious reset.
 */
const IDLE_SOCKET_MS = 4_000;

export interface HttpExchangeRequest {
  method: "GET" | "POST" | "PATCH";
  /** Path and query as sent, already resolved and encoded. */
  path: string;
  headers: OutgoingHttpHeaders;
  body?: string;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

export interface HttpAnswer {
  ok: true;
  status: number;
  statusText: string;
  /** Every value of a header joined with ", ", as fetch's Headers.get gives them; names lower-case. */
  header(name: string): string | null;
  /** The body decoded as UTF-8, a leading byte-order mark removed (as fetch's text() does). */
  text: string;
}

export type HttpOutcome = HttpAnswer | { ok: false; error: unknown };

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

function decodeBody(chunks: Buffer[]): string {
  const text = chunks.length === 0 ? "" : chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8");
  return stripByteOrderMark(text);
}

function prematureClose(): Error {
  return Object.assign(new Error("the connection closed before the whole answer arrived"), { code: "ECONNRESET" });
}

/** An exchanger for the origin of `baseUrl` (http: or https:), with its own keep-alive Agent. */
export function createHttpExchanger(baseUrl: string): HttpExchanger {
  const url = new URL(baseUrl);
  const secure = url.protocol === "https:";
  if (!secure && url.protocol !== "http:") throw new Error(`expected an http(s) base URL, not ${url.protocol}`);
  // Idle keep-alive sockets are unref'd by the Agent, so a client never keeps the process alive.
  const agentOptions = { keepAlive: true, maxSockets: MAX_SOCKETS, timeout: IDLE_SOCKET_MS };
  const agent = secure ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
  const send = secure ? httpsRequest : httpRequest;
  // URL keeps the brackets of an IPv6 literal; the socket wants the bare address.
  const hostname = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === "" ? (secure ? 443 : 80) : Number(url.port);

  function exchange(request: HttpExchangeRequest): Promise<HttpOutcome> {
    const { signal } = request;
    if (signal?.aborted) return Promise.resolve({ ok: false, error: signal.reason });
    return new Promise<HttpOutcome>((resolve) => {
      let settled = false;
      let req: ClientRequest | undefined;
      const finish = (outcome: HttpOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        resolve(outcome);
      };
      // Destroying the request destroys its socket: the Agent drops it instead of pooling it.
      const fail = (error: unknown): void => {
        if (settled) return;
        finish({ ok: false, error });
        req?.destroy();
      };
      const onAbort = (): void => fail(signal?.reason);
      const timer = setTimeout(() => fail(new AttemptTimeoutError(request.timeoutMs)), request.timeoutMs);
      // Like AbortSignal.timeout: the pending exchange's socket is what keeps the process alive.
      timer.unref();
      signal?.addEventListener("abort", onAbort, { once: true });

      const onResponse = (res: IncomingMessage): void => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", fail);
        res.on("end", () => {
          const distinct = res.headersDistinct;
          finish({
            ok: true,
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? "",
            header: (name) => distinct[name.toLowerCase()]?.join(", ") ?? null,
            text: decodeBody(chunks),
          });
        });
        // A body cut short ends in "close" without "end" (and usually an "error" first).
        res.on("close", () => {
          if (!res.complete) fail(prematureClose());
        });
      };

      const options: RequestOptions = { agent, hostname, port, method: request.method, path: request.path, headers: request.headers };
      try {
        req = send(options, onResponse);
      } catch (error) {
        // Invalid header characters or path: refused before anything is sent.
        fail(error);
        return;
      }
      req.on("error", fail);
      req.end(request.body);
    });
  }

  return { origin: `${url.protocol}//${url.host}`, exchange };
}
