// The client's view of one HTTP exchange with Partner Center: every call returns an ApiResult,
// never throws for an HTTP or network failure. Retrying, pacing and classification live in
// execute/; this layer makes exactly one attempt per call.
import type { Collection, Customer, CustomerUser, CustomerUserUpdate, License, LicenseUpdate, SubscribedSku, LicenseGroupId } from "./types.js";

/** Headers Partner Center answers with that support asks for. */
export interface ResponseMeta {
  status: number;
  requestId?: string;
  correlationId?: string;
  cv?: string;
  serverId?: string;
  /** Parsed `Retry-After` (seconds, or HTTP date converted to seconds from now). */
  retryAfterSeconds?: number;
}

export interface ApiError {
  /** Partner Center's code as a string ("60012"), or undefined when the body carried none. */
  code?: string;
  /** Human text, HTML entities decoded. */
  description: string;
  data: string[];
}

export type ApiResult<T> =
  | { ok: true; body: T; meta: ResponseMeta }
  | { ok: false; kind: "http"; error: ApiError; meta: ResponseMeta }
  | { ok: false; kind: "network"; error: ApiError & { cause: "timeout" | "reset" | "other" }; meta?: undefined }
  /** The token provider could not get a token (refresh token refused, bad client secret...): run-fatal. */
  | { ok: false; kind: "credentials"; error: ApiError; meta?: undefined };

/** Per-attempt context, set by the retry layer: the same requestId on every retry of one logical call. */
export interface CallContext {
  requestId: string;
  correlationId: string;
  signal?: AbortSignal;
}

/** One access token for the next call; `forceRefresh` after a 401. Never logged. */
export interface AccessTokenProvider {
  getToken(options?: { forceRefresh?: boolean }): Promise<string>;
}

/** The calls this project makes (partner-center-api.md §1-4), one attempt each. */
export interface PartnerCenterApi {
  getSubscribedSkus(customerId: string, groups: readonly LicenseGroupId[], ctx: CallContext): Promise<ApiResult<Collection<SubscribedSku>>>;
  /** First page when `continuation` is undefined; otherwise follows links.next. */
  getUsersPage(customerId: string, continuation: { uri: string; token: string } | undefined, ctx: CallContext): Promise<ApiResult<Collection<CustomerUser>>>;
  postLicenseUpdate(customerId: string, userId: string, update: LicenseUpdate, ctx: CallContext): Promise<ApiResult<LicenseUpdate>>;
}

/** The calls of `--diff`, usage locations and company names (§2, §4), one attempt each. */
export interface UserAccountsApi {
  getCustomer(customerId: string, ctx: CallContext): Promise<ApiResult<Customer>>;
  getUserLicenses(customerId: string, userId: string, groups: readonly LicenseGroupId[], ctx: CallContext): Promise<ApiResult<Collection<License>>>;
  updateUser(customerId: string, userId: string, update: CustomerUserUpdate, ctx: CallContext): Promise<ApiResult<CustomerUser>>;
}
