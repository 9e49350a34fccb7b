// The one HTTP stack of the process, shared by the Partner Center client and MSAL's sign-in
// (msal-network-client.ts): an undici EnvHttpProxyAgent, which sends each origin through the proxy
// the environment names (HTTPS_PROXY for https:, HTTP_PROXY for http:, either spelling case,
// NO_PROXY honoured) and keeps a keep-alive pool per origin; with no proxy named, the plain Agent
// it would use for every origin.
//
// Idle sockets are closed well before servers close theirs (Node's own server closes after 5 s,
// load balancers after a few minutes), and a server's shorter `Keep-Alive: timeout` hint is
// honoured less a margin: reusing a connection the other side is closing costs a reset.
// What is left of that race is healed in http-exchange.ts, which needs to know whether the socket
// a failed request went out on had carried an exchange before; undici's diagnostics channel tells.
import { subscribe } from "node:diagnostics_channel";
import { Agent, EnvHttpProxyAgent, type Dispatcher } from "undici";

/** Sockets per origin: above the highest --concurrency (256) plus the reads beside the writes. */
export const MAX_CONNECTIONS_PER_ORIGIN = 512;
/** An idle pooled socket is closed after this long (or the server's shorter hint less 1 s). */
export const IDLE_SOCKET_MS = 4_000;

let shared: Dispatcher | undefined;

export function createDispatcher(options: { httpProxy?: string; httpsProxy?: string; noProxy?: string } = {}, env: NodeJS.ProcessEnv = process.env): Dispatcher {
  watchSocketReuse();
  const pool = {
    connections: MAX_CONNECTIONS_PER_ORIGIN,
    keepAliveTimeout: IDLE_SOCKET_MS,
    keepAliveMaxTimeout: IDLE_SOCKET_MS,
    keepAliveTimeoutThreshold: 1_000,
  };
  // No proxy named (an empty value names none, as EnvHttpProxyAgent reads it): it would hand every
  // request to a plain Agent, after parsing its origin and matching NO_PROXY each time.
  const httpProxy = options.httpProxy ?? env.http_proxy ?? env.HTTP_PROXY;
  const httpsProxy = options.httpsProxy ?? env.https_proxy ?? env.HTTPS_PROXY;
  if (!httpProxy && !httpsProxy) return new Agent(pool);
  return new EnvHttpProxyAgent({
    ...options,
    // Read once, as the proxies are: left to undici, NO_PROXY is read from the environment again on every request.
    noProxy: options.noProxy ?? env.no_proxy ?? env.NO_PROXY ?? "",
    ...pool,
  });
}

/** The process's dispatcher, built on first use from the environment of that moment. */
export function sharedDispatcher(): Dispatcher {
  return (shared ??= createDispatcher());
}

// --- which requests went out on a reused socket ------------------------------------------------

const exchangesBySocket = new WeakMap<object, number>();
let headersSent: ((reused: boolean) => void) | undefined;
let watching = false;

function watchSocketReuse(): void {
  if (watching) return;
  watching = true;
  subscribe("undici:client:sendHeaders", (message) => {
    const { socket } = message as { socket: object };
    const sent = exchangesBySocket.get(socket) ?? 0;
    exchangesBySocket.set(socket, sent + 1);
    headersSent?.(sent > 0);
  });
}

/**
 * `listener` is told, as undici writes each request's headers, whether the socket had carried an
 * exchange before. It runs in the same synchronous step as that request's handler's onConnect
 * (http-exchange.ts pairs the two), for every request on the process's pools.
 */
export function onHeadersSent(listener: (reused: boolean) => void): void {
  headersSent = listener;
}

// --- what may be said about the proxy in a log ---------------------------------------------------

/** A proxy URL without its user name and password ("http://***@proxy:3128"); never the credentials. */
export function redactProxyUrl(value: string): string {
  try {
    const url = new URL(value);
    const hadCredentials = url.username !== "" || url.password !== "";
    url.username = "";
    url.password = "";
    const text = url.toString().replace(/\/$/, "");
    return hadCredentials ? text.replace("://", "://***@") : text;
  } catch {
    return "(unreadable proxy URL)";
  }
}

/** Credentials of any URL inside a text (an error message naming a proxy) replaced by ***. */
export function redactUrlCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s@]+@/gi, "$1***@");
}

/** The proxy settings in force, safe to log. */
export function describeProxyEnvironment(env: NodeJS.ProcessEnv = process.env): { httpsProxy?: string; httpProxy?: string; noProxy?: string } {
  const https = env.https_proxy ?? env.HTTPS_PROXY;
  const http = env.http_proxy ?? env.HTTP_PROXY;
  const no = env.no_proxy ?? env.NO_PROXY;
  return {
    ...(https ? { httpsProxy: redactProxyUrl(https) } : {}),
    ...(http ? { httpProxy: redactProxyUrl(http) } : {}),
    ...(no ? { noProxy: no } : {}),
  };
}
