// What went wrong when an exchange failed instead of answering: a timeout, a connection reset (the write
// may or may not have landed: retry with the same MS-RequestId), or anything else. The text kept
// is the error's code or message, which never carries a header or token.

export type NetworkCause = "timeout" | "reset" | "other";

const RESET_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "UND_ERR_SOCKET", "UND_ERR_CLOSED", "ERR_STREAM_PREMATURE_CLOSE"]);
const TIMEOUT_CODES = new Set(["ETIMEDOUT", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  // fetch wraps the socket error: TypeError("fetch failed", { cause: { code } }).
  for (let depth = 0; depth < 4 && current !== null && typeof current === "object"; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export function classifyNetworkError(error: unknown, callerAborted: boolean, timeoutMs: number): { cause: NetworkCause; description: string } {
  const name = error instanceof Error ? error.name : "";
  if (callerAborted) return { cause: "other", description: "request aborted by the runner" };
  if (name === "TimeoutError" || name === "AbortError") return { cause: "timeout", description: `no answer within ${timeoutMs} ms` };
  const code = errorCode(error);
  if (code !== undefined && RESET_CODES.has(code)) return { cause: "reset", description: `connection reset (${code})` };
  if (code !== undefined && TIMEOUT_CODES.has(code)) return { cause: "timeout", description: `network timeout (${code})` };
  const message = error instanceof Error ? error.message : String(error);
  return { cause: "other", description: `network error (${code ?? message})` };
}
