// The one HTTP stack of the process, shared by the Partner Center client and MSAL's sign-in
// (msal-network-client.ts): an undici EnvHttpProxyAgent, which sends each origin through the proxy
// the environment names (HTTPS_PROXY for https:, HTTP_PROXY for http:, either spelling case,
// NO_PROXY honoured) and keeps a keep-alive pool per origin.
//
// Idle sockets are closed well before servers close theirs (Node's own server closes after 5 s,
// load balancers after a few minutes), and a server's shorter `Keep-Alive: timeout` hint is
// honoured less a margin: reusing a connection the other side is closing costs a reset.
// What is left of that race is healed in http-exchange.ts, which needs to know whether the socket
// a failed request went out on had carried an exchange before; undici's diagnostics channel tells.
import { subscribe } from "node:diagnostics_channel";
import { EnvHttpProxyAgent, type Dispatcher } from "undici";

/** Sockets per origin: above the highest --concurrency (256) plus the reads beside the writes. */
export const MAX_CONNECTIONS_PER_ORIGIN = 512;
/** An idle pooled socket is closed after this long (or the server's shorter hint less 1 s). */
export const IDLE_SOCKET_MS = 4_000;

let shared: Dispatcher | undefined;

export function createDispatcher(options: { httpProxy?: string; httpsProxy?: string; noProxy?: string } = {}): Dispatcher {
  watchSocketReuse();
  return new EnvHttpProxyAgent({
    ...options,
    connections: MAX_CONNECTIONS_PER_ORIGIN,
    keepAliveTimeout: IDLE_SOCKET_MS,
    keepAliveMaxTimeout: IDLE_SOCKET_MS,
    keepAliveTimeoutThreshold: 1_000,
  });
}

/** The process's dispatcher, built on first use from the environment of that moment. */
export function sharedDispatcher(): Dispatcher {
  return (shared ??= createDispatcher());
}

// --- which requests went out on a reused socket ------------------------------------------------

const exchangesBySocket = new WeakMap<object, number>();
/** MS-RequestId -> whether its latest send went out on a socket that had carried one before. */
const reusedByRequestId = new Map<string, boolean>();
const REQUEST_ID_LINE = /\r\nms-requestid:\s*([^\r\n]+)/i;
let watching = false;

function watchSocketReuse(): void {
  if (watching) return;
  watching = true;
  subscribe("undici:client:sendHeaders", (message) => {
    const { headers, socket } = message as { headers: string; socket: object };
    const sent = exchangesBySocket.get(socket) ?? 0;
    exchangesBySocket.set(socket, sent + 1);
    const requestId = REQUEST_ID_LINE.exec(headers)?.[1]?.trim();
    // Only while an exchange waits for the answer: taken (and so removed) once it settles.
    if (requestId !== undefined && pendingRequestIds.has(requestId)) reusedByRequestId.set(requestId, sent > 0);
  });
}

const pendingRequestIds = new Set<string>();

/** Marks `requestId` as in flight, so its socket's reuse is noted when its headers are sent. */
export function noteSending(requestId: string | undefined): void {
  if (requestId !== undefined) pendingRequestIds.add(requestId);
}

/** Whether the request's latest send used a socket that had carried an exchange before; forgets it. */
export function takeSocketReuse(requestId: string | undefined): boolean {
  if (requestId === undefined) return false;
  pendingRequestIds.delete(requestId);
  const reused = reusedByRequestId.get(requestId) ?? false;
  reusedByRequestId.delete(requestId);
  return reused;
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
