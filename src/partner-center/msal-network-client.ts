// MSAL's network module (its INetworkModule: sendGetRequestAsync / sendPostRequestAsync) on the
// process's one HTTP stack (http-stack.ts), so sign-in goes through the same proxy as the API calls
// (HTTPS_PROXY / NO_PROXY), where MSAL's own client uses the built-in fetch and ignores them.
// Behaves as MSAL's HttpClient does: the JSON body parsed whatever the status (MSAL reads the
// authority's error answers), headers as a flat object, failures as the AuthError codes MSAL's
// callers already recognise ("network_error" for the network, "token_parsing_error" for a body
// that is not JSON). Error texts never carry a URL's credentials (a proxy's user and password).
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from "@azure/msal-node";
import type { Dispatcher } from "undici";
import { decodeContent, ACCEPTED_ENCODINGS } from "./content-encoding.js";
import { redactUrlCredentials, sharedDispatcher } from "./http-stack.js";
import { stripByteOrderMark } from "./response-body.js";

/** Without a caller's timeout, an exchange with the authority still ends. */
const DEFAULT_TIMEOUT_MS = 30_000;

function reasonOf(error: unknown): string {
  const code = error !== null && typeof error === "object" ? (error as { code?: unknown }).code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return redactUrlCredentials(typeof code === "string" ? `${code}: ${message}` : message);
}

function flatHeaders(headers: Dispatcher.ResponseData["headers"]): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return flat;
}

/**
 * The AuthError MSAL's own network module throws, loaded when one is thrown: MSAL is loaded by then
 * (only MSAL calls this client), and a run signed in with an access token never loads it at all.
 */
async function authError(code: string, message: string): Promise<Error> {
  const { AuthError } = await import("@azure/msal-node");
  return new AuthError(code, "", message);
}

export function createMsalNetworkClient(dispatcher?: Dispatcher): INetworkModule {
  const stack = (): Dispatcher => dispatcher ?? sharedDispatcher();

  async function send<T>(url: string, method: "GET" | "POST", options: NetworkRequestOptions | undefined, timeoutMs: number | undefined): Promise<NetworkResponse<T>> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs && timeoutMs > 0 ? timeoutMs : DEFAULT_TIMEOUT_MS);
    timer.unref();
    try {
      let response: Dispatcher.ResponseData;
      let raw: Buffer;
      try {
        const target = new URL(url);
        response = await stack().request({
          origin: target.origin,
          path: `${target.pathname}${target.search}`,
          method,
          headers: { "accept-encoding": ACCEPTED_ENCODINGS, ...(options?.headers ?? {}) },
          body: method === "POST" ? (options?.body ?? "") : null,
          signal: controller.signal,
          headersTimeout: 0,
          bodyTimeout: 0,
        });
        raw = Buffer.from(await response.body.arrayBuffer());
      } catch (error) {
        const reason = controller.signal.aborted ? "Request timeout" : `Network request failed: ${reasonOf(error)}`;
        throw await authError("network_error", reason);
      }
      const decoded = decodeContent(raw, flatHeaders(response.headers)["content-encoding"] ?? null);
      let body: T;
      try {
        if (!decoded.ok) throw decoded.error;
        body = JSON.parse(stripByteOrderMark(decoded.body.toString("utf8"))) as T;
      } catch (error) {
        throw await authError("token_parsing_error", `Failed to parse response: ${reasonOf(error)}`);
      }
      return { headers: flatHeaders(response.headers), body, status: response.statusCode };
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    sendGetRequestAsync: <T>(url: string, options?: NetworkRequestOptions, timeout?: number) => send<T>(url, "GET", options, timeout),
    sendPostRequestAsync: <T>(url: string, options?: NetworkRequestOptions) => send<T>(url, "POST", options, undefined),
  };
}
