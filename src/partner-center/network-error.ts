// What went wrong when an exchange failed instead of answering: a timeout, a connection reset (the write
// may or may not have landed: retry with the same MS-RequestId), or anything else; and, when the
// network itself is at fault for every call alike (the name does not resolve, the TLS certificate is
// not trusted, the proxy refuses), which of those it is. The text kept is the error's code or
// message with any URL credentials (a proxy's user:password) masked; it never carries a header or token.
import { redactUrlCredentials } from "./http-stack.js";

export type NetworkCause = "timeout" | "reset" | "other";
/** A failure of the way to the service, not of one call: every call will fail alike. */
export type NetworkReach = "dns" | "tls" | "proxy";

const RESET_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "UND_ERR_SOCKET", "UND_ERR_CLOSED", "ERR_STREAM_PREMATURE_CLOSE"]);
const TIMEOUT_CODES = new Set(["ETIMEDOUT", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);
const DNS_CODES = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_FAIL", "EAI_NONAME"]);
const TLS_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);
/** undici's tunnel refusal: "Proxy response (407) !== 200 when HTTP Tunneling". */
const PROXY_REFUSAL = /^Proxy response \(\d+\)/;

function errorChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  // fetch and undici wrap the socket error: TypeError("fetch failed", { cause: { code } }).
  for (let depth = 0; depth < 4 && current !== null && typeof current === "object"; depth++) {
    chain.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

function errorCode(error: unknown): string | undefined {
  for (const link of errorChain(error)) {
    const code = (link as { code?: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}

/** Whether the failure is of the way to the service (DNS, TLS verification, the proxy). */
export function networkReach(error: unknown): NetworkReach | undefined {
  for (const link of errorChain(error)) {
    const code = (link as { code?: unknown }).code;
    if (typeof code === "string" && DNS_CODES.has(code)) return "dns";
    if (typeof code === "string" && TLS_CODES.has(code)) return "tls";
    const message = link instanceof Error ? link.message : "";
    if (PROXY_REFUSAL.test(message)) return "proxy";
  }
  return undefined;
}

export function classifyNetworkError(error: unknown, callerAborted: boolean, timeoutMs: number): { cause: NetworkCause; description: string; reach?: NetworkReach } {
  const name = error instanceof Error ? error.name : "";
  if (callerAborted) return { cause: "other", description: "request aborted by the runner" };
  // Before the name: undici reports a proxy's refusal as an AbortError of its own.
  const reach = networkReach(error);
  if (!reach && (name === "TimeoutError" || name === "AbortError")) return { cause: "timeout", description: `no answer within ${timeoutMs} ms` };
  const code = errorCode(error);
  if (!reach && code !== undefined && RESET_CODES.has(code)) return { cause: "reset", description: `connection reset (${code})` };
  if (!reach && code !== undefined && TIMEOUT_CODES.has(code)) return { cause: "timeout", description: `network timeout (${code})` };
  const message = error instanceof Error ? error.message : String(error);
  const detail = redactUrlCredentials(reach === "proxy" ? message : (code ?? message));
  const what = reach === "dns" ? "the host name does not resolve" : reach === "tls" ? "the TLS certificate is not trusted" : reach === "proxy" ? "the proxy refused the connection" : "network error";
  return reach ? { cause: "other", description: `${what} (${detail})`, reach } : { cause: "other", description: `network error (${detail})` };
}
