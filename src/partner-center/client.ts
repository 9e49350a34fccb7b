// The Partner Center HTTP client: one attempt per call (undici, proxy-aware, see http-exchange.ts),
// the headers of "Partner Center REST request/response headers" (MS-Contract-Version: v1, one
// MS-CorrelationId for the whole run, one MS-RequestId per logical call), safe URLs (ids encoded,
// continuation links kept on our host), bodies decoded and read as text (BOM stripped, keys
// camelCased) and every failure returned as an ApiResult. A 2xx counts only when its body is the
// resource asked for; otherwise it is `unconfirmed`. A redirect is never followed: a 3xx is an http
// failure. Retrying and pacing live in execute/.
import type { Dispatcher } from "undici";
import type { AccessTokenProvider, ApiResult, CallContext, PartnerCenterApi, UserAccountsApi } from "./api.js";
import { ACCEPTED_ENCODINGS } from "./content-encoding.js";
import { createHttpExchanger } from "./http-exchange.js";
import { createDispatcher } from "./http-stack.js";
import { confirmsCollection, confirmsLicenseUpdate, confirmsResource, type Confirmation } from "./confirmation.js";
import { classifyNetworkError } from "./network-error.js";
import { parseJsonBody, readApiError } from "./response-body.js";
import { readResponseMeta } from "./response-meta.js";
import type { Collection, Customer, CustomerUser, License, LicenseGroupId, LicenseUpdate, SubscribedSku } from "./types.js";
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
  /** The HTTP stack; default a proxy-aware pool of the client's own, from the environment. */
  dispatcher?: Dispatcher;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_USERS_PAGE_SIZE = 500;

/**
 * A path and query the URL parser gives back unchanged: "/" then unreserved characters, "/", "%XX",
 * and at most one "?" followed by a non-empty query of the same characters and "=", "&". No dot and
 * no "%2e" in the path (either may make a dot segment), no "#", "\\", space or other character it
 * would encode.
 */
const PLAIN_PATH = /^(?:\/(?:[A-Za-z0-9_~-]|%(?!2[Ee])[0-9A-Fa-f]{2})*)+(?:\?(?:[A-Za-z0-9_~=&-]|%[0-9A-Fa-f]{2})+)?$/;

const GROUP_QUERY: Readonly<Record<LicenseGroupId, string>> = { group1: "Group1", group2: "Group2" };

interface Exchange {
  method: "GET" | "POST" | "PATCH";
  /** Path and query below the base URL, starting with "/v1/". */
  pathAndQuery: string;
  body?: unknown;
  extraHeaders?: Record<string, string>;
  /** Whether a 2xx body is the answer asked for. */
  confirms: Confirmation;
}

function credentialsFailure(error: unknown): ApiResult<never> {
  const message = error instanceof Error ? error.message : "the access token could not be obtained";
  const reason = error !== null && typeof error === "object" ? (error as { reason?: unknown }).reason : undefined;
  const apiError: { code?: string; description: string; data: string[] } = { description: message, data: [] };
  if (typeof reason === "string" && reason !== "") apiError.code = reason;
  return { ok: false, kind: "credentials", error: apiError };
}

/** The first users page's path with seekOperation=Next: where a top-level continuationToken seeks. */
export function seekNextPath(firstPagePath: string): string {
  return `${firstPagePath}${firstPagePath.includes("?") ? "&" : "?"}seekOperation=Next`;
}

/** Path and query of a continuation link, forced onto our own host and under /v1. */
export function continuationPath(uri: string): string {
  // Resolving against a placeholder origin keeps only the path and query, whatever host the link names.
  const resolved = new URL(uri, "http://continuation.invalid");
  const path = resolved.pathname.startsWith("/v1/") ? resolved.pathname : `/v1${resolved.pathname.startsWith("/") ? "" : "/"}${resolved.pathname}`;
  return `${path}${resolved.search}`;
}

export function createPartnerCenterClient(options: PartnerCenterClientOptions): PartnerCenterApi & UserAccountsApi {
  const base = options.baseUrl.replace(/\/+$/, "");
  const exchanger = createHttpExchanger(base, options.dispatcher ?? createDispatcher());
  const origin = exchanger.origin;
  const basePath = new URL(base).pathname.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const applicationName = options.applicationName ?? "license-runner";
  const pageSize = options.usersPageSize ?? DEFAULT_USERS_PAGE_SIZE;
  // Parsed as fetch parsed it: dot segments resolved, stray characters percent-encoded, no fragment.
  // A path of only characters the URL parser keeps as they are (ids are percent-encoded) is that already.
  const requestPath = (pathAndQuery: string): string => {
    const path = `${basePath}${pathAndQuery}`;
    if (PLAIN_PATH.test(path)) return path;
    const url = new URL(`${origin}${path}`);
    return `${url.pathname}${url.search}`;
  };

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
      "Accept-Encoding": ACCEPTED_ENCODINGS,
      [HEADER.contractVersion]: "v1",
      [HEADER.requestId]: ctx.requestId,
      [HEADER.correlationId]: ctx.correlationId,
      [HEADER.locale]: "en-US",
      [HEADER.application]: applicationName,
    };
    if (exchange.extraHeaders) Object.assign(headers, exchange.extraHeaders);
    const body = exchange.body === undefined ? undefined : JSON.stringify(exchange.body);
    if (body !== undefined) headers["Content-Type"] = "application/json";
    // The timeout covers the whole exchange, body included: a connection cut mid-body is a network failure.
    const outcome = await exchanger.exchange({ method: exchange.method, path: requestPath(exchange.pathAndQuery), headers, body, timeoutMs, signal: ctx.signal });
    if (!outcome.ok) {
      const { cause, description, reach } = classifyNetworkError(outcome.error, ctx.signal?.aborted === true, timeoutMs);
      // A 2xx whose body never arrived whole may have been applied: not a plain network failure.
      if (outcome.status !== undefined && outcome.status >= 200 && outcome.status < 300 && !ctx.signal?.aborted) {
        const meta = readResponseMeta({ status: outcome.status, headers: { get: outcome.header } });
        return { ok: false, kind: "unconfirmed", error: { description: `HTTP ${outcome.status} but the body could not be read: ${description}`, data: [] }, meta };
      }
      return { ok: false, kind: "network", error: { description, data: [], cause, ...(reach ? { reach } : {}) } };
    }
    const { status, statusText, text } = outcome;
    // readResponseMeta only calls headers.get, which the answer provides with fetch's semantics.
    const meta = readResponseMeta({ status, headers: { get: outcome.header } });
    const parsed = parseJsonBody(text);
    if (status >= 200 && status < 300) {
      const contentType = outcome.header("content-type") ?? "no Content-Type";
      if (!parsed.ok || text.trim() === "") {
        const what = text.trim() === "" ? "an empty body" : `a body that is not JSON (${contentType})`;
        return { ok: false, kind: "unconfirmed", error: { description: `HTTP ${status} with ${what}`, data: [] }, meta };
      }
      const problem = exchange.confirms(parsed.value);
      if (problem !== undefined) return { ok: false, kind: "unconfirmed", error: { description: `HTTP ${status} but ${problem}`, data: [] }, meta };
      return { ok: true, body: parsed.value as T, meta };
    }
    return { ok: false, kind: "http", error: readApiError(parsed, status, statusText), meta };
  }

  // Every call names its customer, and a run has far fewer customers than calls: encoded once each.
  const customerPaths = new Map<string, string>();
  const customerPath = (customerId: string): string => {
    let path = customerPaths.get(customerId);
    if (path === undefined) customerPaths.set(customerId, (path = `/v1/customers/${encodeURIComponent(customerId)}`));
    return path;
  };

  return {
    getSubscribedSkus(customerId, groups, ctx) {
      const query = groups.map((g) => `licenseGroupIds=${GROUP_QUERY[g]}`).join("&");
      return send<Collection<SubscribedSku>>({ method: "GET", pathAndQuery: `${customerPath(customerId)}/subscribedskus${query ? `?${query}` : ""}`, confirms: confirmsCollection }, ctx);
    },
    getUsersPage(customerId, continuation, ctx) {
      const firstPage = `${customerPath(customerId)}/users?size=${pageSize}`;
      if (continuation === undefined) return send<Collection<CustomerUser>>({ method: "GET", pathAndQuery: firstPage, confirms: confirmsCollection }, ctx);
      const pathAndQuery = continuation.uri === undefined ? seekNextPath(firstPage) : continuationPath(continuation.uri);
      return send<Collection<CustomerUser>>({ method: "GET", pathAndQuery, extraHeaders: { [HEADER.continuationToken]: continuation.token }, confirms: confirmsCollection }, ctx);
    },
    getUserLicenses(customerId, userId, groups, ctx) {
      const query = groups.map((g) => `licenseGroupIds=${GROUP_QUERY[g]}`).join("&");
      return send<Collection<License>>(
        { method: "GET", pathAndQuery: `${customerPath(customerId)}/users/${encodeURIComponent(userId)}/licenses${query ? `?${query}` : ""}`, confirms: confirmsCollection },
        ctx,
      );
    },
    getCustomer(customerId, ctx) {
      return send<Customer>({ method: "GET", pathAndQuery: customerPath(customerId), confirms: confirmsResource("Customer") }, ctx);
    },
    updateUser(customerId, userId, update, ctx) {
      return send<CustomerUser>({ method: "PATCH", pathAndQuery: `${customerPath(customerId)}/users/${encodeURIComponent(userId)}`, body: update, confirms: confirmsResource("CustomerUser") }, ctx);
    },
    postLicenseUpdate(customerId, userId, update, ctx) {
      return send<LicenseUpdate>(
        { method: "POST", pathAndQuery: `${customerPath(customerId)}/users/${encodeURIComponent(userId)}/licenseupdates`, body: update, confirms: (body) => confirmsLicenseUpdate(body, update) },
        ctx,
      );
    },
  };
}
