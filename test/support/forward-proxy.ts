// A loopback forward proxy for the tests: CONNECT tunnels (https, and http as undici tunnels it)
// and absolute-URI HTTP forwarding, with its own host table, so the names a run uses resolve only
// through it (the network of a partner whose API is reachable only through a proxy). Records every
// request it carried and can demand Proxy-Authorization.
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";

export interface ProxiedRequest {
  /** "CONNECT" or the forwarded method. */
  method: string;
  /** host:port asked for. */
  target: string;
  /** The Proxy-Authorization header, when sent. */
  proxyAuthorization?: string;
}

export interface ForwardProxy {
  /** http://127.0.0.1:PORT */
  url: string;
  readonly seen: ProxiedRequest[];
  close(): Promise<void>;
}

export interface ForwardProxyOptions {
  /** Names only this proxy resolves: host name -> address (the loopback one). */
  hosts?: Record<string, string>;
  /** When set, requests without this exact Proxy-Authorization are answered 407. */
  requireAuthorization?: string;
}

function resolveTarget(target: string, hosts: Record<string, string>): { host: string; port: number } | undefined {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(target);
  if (!match) return undefined;
  const name = match[1]!.toLowerCase();
  const host = hosts[name] ?? (name === "127.0.0.1" || name === "localhost" ? "127.0.0.1" : undefined);
  return host === undefined ? undefined : { host, port: Number(match[2]) };
}

export async function startForwardProxy(options: ForwardProxyOptions = {}): Promise<ForwardProxy> {
  const hosts = Object.fromEntries(Object.entries(options.hosts ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const seen: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  const note = (req: IncomingMessage, target: string): boolean => {
    const auth = req.headers["proxy-authorization"];
    seen.push({ method: req.method ?? "", target, ...(auth ? { proxyAuthorization: auth } : {}) });
    return options.requireAuthorization === undefined || auth === options.requireAuthorization;
  };

  const server: Server = createServer((req, res) => {
    // Absolute-URI forwarding (a plain HTTP proxy request).
    let url: URL;
    try {
      url = new URL(req.url ?? "");
    } catch {
      res.writeHead(400).end();
      return;
    }
    const target = `${url.hostname}:${url.port || "80"}`;
    if (!note(req, target)) return void res.writeHead(407, { "Proxy-Authenticate": 'Basic realm="test"' }).end();
    const to = resolveTarget(target, hosts);
    if (!to) return void res.writeHead(502).end("unknown host");
    const headers = { ...req.headers };
    delete headers["proxy-authorization"];
    delete headers["proxy-connection"];
    const upstream = httpRequest({ host: to.host, port: to.port, method: req.method, path: `${url.pathname}${url.search}`, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("connect", (req: IncomingMessage, client: Socket, head: Buffer) => {
    const target = req.url ?? "";
    if (!note(req, target)) return void client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n\r\n');
    const to = resolveTarget(target, hosts);
    if (!to) return void client.end("HTTP/1.1 502 Bad Gateway\r\n\r\n");
    const upstream = connect(to.port, to.host, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
