// What a failed Partner Center answer means for the batch: retry it,
// renew the token and retry, or fail, and how far the failure reaches (row, customer, run).
import type { ApiResult } from "../partner-center/api.js";
import { ERROR_CODE } from "../partner-center/types.js";
import type { FailureScope } from "../model.js";

export type FailureAction =
  | { action: "retry"; reason: "throttled" | "transient" | "network" }
  | { action: "renew-token" }
  | { action: "fail"; scope: FailureScope };

type Failure = Exclude<ApiResult<unknown>, { ok: true }>;

const TRANSIENT_STATUS = new Set([408, 500, 502, 503, 504]);
const RUN_CODES = new Set<string>([ERROR_CODE.partnerToken, ERROR_CODE.conditionalAccess, ERROR_CODE.mfaRequired]);
const CUSTOMER_CODES = new Set<string>([ERROR_CODE.missingGdapRole, ERROR_CODE.noRelationship, ERROR_CODE.customerNotFound]);

export interface ClassifyOptions {
  /** The token was already renewed for this call: another 401 means the credentials are refused. */
  tokenRenewed?: boolean;
}

export function classifyFailure(result: Failure, options: ClassifyOptions = {}): FailureAction {
  if (result.kind === "credentials") return { action: "fail", scope: "run" };
  if (result.kind === "network") return { action: "retry", reason: "network" };
  // A 2xx nobody could read: sent again with the same MS-RequestId, which the service replays.
  if (result.kind === "unconfirmed") return { action: "retry", reason: "transient" };
  const status = result.meta.status;
  const code = result.error.code;
  // The wait a 429 imposes is retry-after.ts's to say.
  if (status === 429) return { action: "retry", reason: "throttled" };
  if (TRANSIENT_STATUS.has(status)) return { action: "retry", reason: "transient" };
  // Run-fatal codes are judged by code whatever the status, as the seed shows them on 400 and 403.
  if (code !== undefined && RUN_CODES.has(code)) return { action: "fail", scope: "run" };
  if (status === 401) return options.tokenRenewed ? { action: "fail", scope: "run" } : { action: "renew-token" };
  if (code !== undefined && CUSTOMER_CODES.has(code) && (status === 403 || status === 404)) return { action: "fail", scope: "customer" };
  // 60002 (user not found), 60012 (out of seats) and every other refusal reach the request's rows.
  return { action: "fail", scope: "row" };
}
