// A reverse proxy between the CLI and the emulator that misbehaves where the emulator cannot on
// its own (what a gateway, a captive portal or a flaky network does to answers): per request, a
// rule decides to pass it, answer in the emulator's place, or forward it and then change or cut
// the answer. Records when each request arrived and what it answered, for the test to assert on.
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface ProxiedCall {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** performance.now() at arrival. */
  atMs: number;
}

export interface Upstream {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type FaultRule =
  | { kind: "pass" }
  /** Answer without forwarding (the emulator never sees the request). */
  | { kind: "answer"; status: number; headers?: Record<string, string>; body?: string | Buffer }
  /** Forward, then send this instead of the emulator's answer. */
  | { kind: "replace"; with: (upstream: Upstream) => { status: number; headers?: Record<string, string>; body?: string | Buffer } }
  /** Forward, then send the emulator's status and headers and only the first `bytes` of its body, and close. */
  | { kind: "cut"; bytes: number };

export interface FaultProxy {
  url: string;
  readonly calls: ProxiedCall[];
  close(): Promise<void>;
}

export async function startFaultProxy(targetUrl: string, rule: (call: ProxiedCall, index: number) => FaultRule): Promise<FaultProxy> {
  const target = new URL(targetUrl);
  const calls: ProxiedCall[] = [];
  const sockets = new Set<Socket>();
  const forward = (call: ProxiedCall): Promise<Upstream> =>
    new Promise((resolve, reject) => {
      const headers = { ...call.headers, host: target.host };
      const upstream = httpRequest({ host: target.hostname, port: target.port, method: call.method, path: call.url, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      });
      upstream.on("error", reject);
      upstream.end(call.body);
    });

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const call: ProxiedCall = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), atMs: performance.now() };
      calls.push(call);
      const decided = rule(call, calls.length - 1);
      const send = (status: number, headers: Record<string, string | string[] | undefined>, body: string | Buffer = ""): void => {
        const payload = typeof body === "string" ? Buffer.from(body) : body;
        const clean: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(headers)) if (v !== undefined && k !== "content-length" && k !== "transfer-encoding" && k !== "connection") clean[k] = v;
        res.writeHead(status, { ...clean, "content-length": String(payload.length) });
        res.end(payload);
      };
      if (decided.kind === "answer") return send(decided.status, decided.headers ?? {}, decided.body);
      forward(call).then(
        (upstream) => {
          if (decided.kind === "pass") return send(upstream.status, upstream.headers, upstream.body);
          if (decided.kind === "replace") {
            const replaced = decided.with(upstream);
            return send(replaced.status, replaced.headers ?? {}, replaced.body);
          }
          // cut: promise the whole length, deliver a part, close.
          const clean: Record<string, string | string[]> = {};
          for (const [k, v] of Object.entries(upstream.headers)) if (v !== undefined && k !== "content-length" && k !== "transfer-encoding" && k !== "connection") clean[k] = v;
          res.writeHead(upstream.status, { ...clean, "content-length": String(upstream.body.length) });
          res.write(upstream.body.subarray(0, decided.bytes));
          setImmediate(() => res.socket?.destroy());
        },
        () => res.socket?.destroy(),
      );
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
