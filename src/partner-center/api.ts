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
  | { ok: false; kind: "network"; error: ApiError & { cause: "timeout" | "reset" | "other"; reach?: "dns" | "tls" | "proxy" }; meta?: undefined }
  /**
   * A 2xx whose body is empty, cut short, not JSON or not the resource asked for (a gateway, a
   * captive portal answering 200): the call may or may not have taken effect. Retry it with the
   * same MS-RequestId (the service replays a repeated one); a write still unconfirmed after that
   * is settled by reading what is true.
   */
  | { ok: false; kind: "unconfirmed"; error: ApiError; meta: ResponseMeta }
  /** The token provider could not get a token (refresh token refused, bad client secret...): run-fatal. */
  | { ok: false; kind: "credentials"; error: ApiError; meta?: undefined };

/** Where the next users page is: the next link's uri (absent: seek from the first page's path) and its token. */
export interface UsersContinuation {
  uri?: string;
  token: string;
}

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

/** The calls this project makes (licenses, user licenses, users, license updates), one attempt each. */
export interface PartnerCenterApi {
  getSubscribedSkus(customerId: string, groups: readonly LicenseGroupId[], ctx: CallContext): Promise<ApiResult<Collection<SubscribedSku>>>;
  /**
   * First page when `continuation` is undefined; otherwise the next page: `uri` (links.next, or
   * absent for a top-level continuationToken, which seeks with seekOperation=Next) with the token
   * sent as MS-ContinuationToken.
   */
  getUsersPage(customerId: string, continuation: UsersContinuation | undefined, ctx: CallContext): Promise<ApiResult<Collection<CustomerUser>>>;
  /** The licenses a user holds, of the groups asked for (what settles an unconfirmed write). Optional for test doubles that never settle. */
  getUserLicenses?(customerId: string, userId: string, groups: readonly LicenseGroupId[], ctx: CallContext): Promise<ApiResult<Collection<License>>>;
  postLicenseUpdate(customerId: string, userId: string, update: LicenseUpdate, ctx: CallContext): Promise<ApiResult<LicenseUpdate>>;
}

/** The calls of `--diff`, usage locations and company names ("Get licenses assigned to a user", "Update user accounts for a customer", "Get a customer by ID"), one attempt each. */
export interface UserAccountsApi {
  getCustomer(customerId: string, ctx: CallContext): Promise<ApiResult<Customer>>;
  getUserLicenses(customerId: string, userId: string, groups: readonly LicenseGroupId[], ctx: CallContext): Promise<ApiResult<Collection<License>>>;
  updateUser(customerId: string, userId: string, update: CustomerUserUpdate, ctx: CallContext): Promise<ApiResult<CustomerUser>>;
}
