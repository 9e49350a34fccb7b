// The loopback redirect listener of `login` (RFC 8252 7.3, "OAuth 2.0 for Native Apps"): an http
// server on 127.0.0.1 (and ::1 when the machine has it) at the port of the redirect URI
// http://localhost:PORT, which receives the browser once the partner has signed in. It hands each
// answer carrying `code` or `error` to its caller and 404s anything else (a favicon). Never logs the
// query: it carries the authorization code.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface RedirectAnswer {
  query: URLSearchParams;
  /** Sends the page the browser shows, then the listener is done with this request. */
  respond(status: number, html: string): void;
}

export interface LoopbackListener {
  port: number;
  /** `http://localhost:PORT`: what the app registration lists as a redirect URI. */
  redirectUri: string;
  /** The next answer from the browser; rejects when `signal` aborts. */
  next(signal: AbortSignal): Promise<RedirectAnswer>;
  close(): Promise<void>;
}

export async function startLoopbackListener(port: number): Promise<LoopbackListener> {
  const waiting: ((answer: RedirectAnswer) => void)[] = [];
  const queued: RedirectAnswer[] = [];
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method !== "GET" || (!url.searchParams.has("code") && !url.searchParams.has("error"))) {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("Not found: this listener waits for the sign-in's redirect.\n");
      return;
    }
    const answer: RedirectAnswer = {
      query: url.searchParams,
      respond: (status, html) => {
        res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "content-length": Buffer.byteLength(html) });
        res.end(html);
      },
    };
    const waiter = waiting.shift();
    if (waiter) waiter(answer);
    else queued.push(answer);
  };

  const servers: Server[] = [];
  const listen = (host: string, at: number): Promise<Server> =>
    new Promise((resolve, reject) => {
      const server = createServer(handle);
      server.once("error", reject);
      server.listen(at, host, () => {
        server.off("error", reject);
        resolve(server);
      });
    });
  const first = await listen("127.0.0.1", port);
  servers.push(first);
  const bound = (first.address() as AddressInfo).port;
  // A browser may resolve localhost to ::1: listen there too when the machine has IPv6 loopback.
  await listen("::1", bound).then(
    (server) => servers.push(server),
    () => undefined,
  );

  return {
    port: bound,
    redirectUri: `http://localhost:${bound}`,
    next: (signal) =>
      new Promise<RedirectAnswer>((resolve, reject) => {
        const ready = queued.shift();
        if (ready) return resolve(ready);
        if (signal.aborted) return reject(signal.reason);
        const waiter = (answer: RedirectAnswer): void => {
          signal.removeEventListener("abort", onAbort);
          resolve(answer);
        };
        const onAbort = (): void => {
          const index = waiting.indexOf(waiter);
          if (index >= 0) waiting.splice(index, 1);
          reject(signal.reason);
        };
        signal.addEventListener("abort", onAbort, { once: true });
        waiting.push(waiter);
      }),
    close: async () => {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      );
    },
  };
}
