// The Partner Center HTTP client: one attempt per call with built-in fetch, the headers of §5,
// safe URLs (ids encoded, continuation links kept on our host), bodies read as text (BOM stripped,
// keys camelCased) and every failure returned as an ApiResult. Retrying and pacing live in execute/.
import type { AccessTokenProvider, ApiResult, CallContext, PartnerCenterApi } from "./api.js";
import { classifyNetworkError } from "./network-error.js";
import { parseJsonBody, readApiError } from "./response-body.js";
import { readResponseMeta } from "./response-meta.js";
import type { Collection, CustomerUser, LicenseGroupId, LicenseUpdate, SubscribedSku } from "./types.js";
import { HEADER } from "./types.js";

export interface PartnerCenterClientOptions {
  baseUrl: string;
  tokens: AccessTokenProvider;
  /** Per attempt; default 30000. */
  timeoutMs?: number;
  /** MS-PartnerCenter-Application; default "license-runner". */
  applicationName?: string;
  /** `size` of a users page; default 500. */
  usersPageSize?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_USERS_PAGE_SIZE = 500;

const GROUP_QUERY: Readonly<Record<LicenseGroupId, string>> = { group1: "Group1", group2: "Group2" };

interface Exchange {
  method: "GET" | "POST";
  /** Path and query below the base URL, starting with "/v1/". */
  pathAndQuery: string;
  body?: unknown;
  extraHeaders?: Record<string, string>;
}

function credentialsFailure(error: unknown): ApiResult<never> {
  const message = error instanceof Error ? error.message : "the access token could not be obtained";
  const reason = error !== null && typeof error === "object" ? (error as { reason?: unknown }).reason : undefined;
  const apiError: { code?: string; description: string; data: string[] } = { description: message, data: [] };
  if (typeof reason === "string" && reason !== "") apiError.code = reason;
  return { ok: false, kind: "credentials", error: apiError };
}

/** Path and query of a continuation link, forced onto our own host and under /v1. */
export function continuationPath(uri: string): string {
  // Resolving against a placeholder origin keeps only the path and query, whatever host the link names.
  const resolved = new URL(uri, "http://continuation.invalid");
  const path = resolved.pathname.startsWith("/v1/") ? resolved.pathname : `/v1${resolved.pathname.startsWith("/") ? "" : "/"}${resolved.pathname}`;
  return `${path}${resolved.search}`;
}

export function createPartnerCenterClient(options: PartnerCenterClientOptions): PartnerCenterApi {
  const base = options.baseUrl.replace(/\/+$/, "");
  const origin = new URL(base).origin;
  const basePath = new URL(base).pathname.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const applicationName = options.applicationName ?? "license-runner";
  const pageSize = options.usersPageSize ?? DEFAULT_USERS_PAGE_SIZE;

  async function send<T>(exchange: Exchange, ctx: CallContext): Promise<ApiResult<T>> {
    let token: string;
    try {
      token = await options.tokens.getToken();
    } catch (error) {
      return credentialsFailure(error);
    }
    const headers: Record<string, string> = {
      Authorization: `Bearer ${token}`,
      Accept: "application/json",
      [HEADER.requestId]: ctx.requestId,
      [HEADER.correlationId]: ctx.correlationId,
      [HEADER.locale]: "en-US",
      [HEADER.application]: applicationName,
      ...exchange.extraHeaders,
    };
    if (exchange.body !== undefined) headers["Content-Type"] = "application/json";
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = ctx.signal ? AbortSignal.any([timeout, ctx.signal]) : timeout;
    let status: number;
    let statusText: string;
    let text: string;
    let meta;
    try {
      const init: RequestInit = { method: exchange.method, headers, signal, redirect: "error" };
      if (exchange.body !== undefined) init.body = JSON.stringify(exchange.body);
      const response = await fetch(`${origin}${basePath}${exchange.pathAndQuery}`, init);
      status = response.status;
      statusText = response.statusText;
      meta = readResponseMeta(response);
      // The body is read under the same timeout: a connection cut mid-body is a network failure.
      text = await response.text();
    } catch (error) {
      const { cause, description } = classifyNetworkError(error, ctx.signal?.aborted === true, timeoutMs);
      return { ok: false, kind: "network", error: { description, data: [], cause } };
    }
    const parsed = parseJsonBody(text);
    if (status >= 200 && status < 300) {
      if (parsed.ok) return { ok: true, body: parsed.value as T, meta };
      return { ok: false, kind: "http", error: { description: `HTTP ${status}: the response body is not JSON`, data: [] }, meta };
    }
    return { ok: false, kind: "http", error: readApiError(parsed, status, statusText), meta };
  }

  const customerPath = (customerId: string): string => `/v1/customers/${encodeURIComponent(customerId)}`;

  return {
    getSubscribedSkus(customerId, groups, ctx) {
      const query = groups.map((g) => `licenseGroupIds=${GROUP_QUERY[g]}`).join("&");
      return send<Collection<SubscribedSku>>({ method: "GET", pathAndQuery: `${customerPath(customerId)}/subscribedskus${query ? `?${query}` : ""}` }, ctx);
    },
    getUsersPage(customerId, continuation, ctx) {
      if (continuation === undefined) {
        return send<Collection<CustomerUser>>({ method: "GET", pathAndQuery: `${customerPath(customerId)}/users?size=${pageSize}` }, ctx);
      }
      return send<Collection<CustomerUser>>(
        { method: "GET", pathAndQuery: continuationPath(continuation.uri), extraHeaders: { [HEADER.continuationToken]: continuation.token } },
        ctx,
      );
    },
    postLicenseUpdate(customerId, userId, update, ctx) {
      return send<LicenseUpdate>(
        { method: "POST", pathAndQuery: `${customerPath(customerId)}/users/${encodeURIComponent(userId)}/licenseupdates`, body: update },
        ctx,
      );
    },
  };
}
