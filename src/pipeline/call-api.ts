// One logical call with pacing and retries (execute/), its final failure classified: the CallApi the
// catalog stage is given, so catalog/ never depends on execute/.
import type { CallApi } from "../catalog/customer-catalogs.js";
import type { ApiResult } from "../partner-center/api.js";
import type { CallFailure, FailureScope } from "../model.js";
import { callWithRetry, type RetryDeps } from "../execute/call-with-retry.js";
import { classifyFailure } from "../execute/classify.js";

export function makeCallApi(deps: RetryDeps): CallApi {
  return async (customerId, attempt) => {
    const { result, attempts, requestId } = await callWithRetry(customerId, attempt, deps);
    if (result.ok) return { ok: true, value: result.body, attempts, requestId };
    return { ok: false, failure: toFailure(result, attempts, requestId) };
  };
}

export function toFailure(result: Exclude<ApiResult<unknown>, { ok: true }>, attempts: number, requestId: string): CallFailure {
  const classified = classifyFailure(result);
  // A failure still asking for a retry or a renewal here has run out of them.
  const scope: FailureScope = classified.action === "fail" ? classified.scope : classified.action === "renew-token" ? "run" : "row";
  const detail = result.error.data?.length ? ` (${result.error.data.join("; ")})` : "";
  return {
    scope,
    httpStatus: result.meta?.status,
    errorCode: result.error.code ?? (result.kind === "network" ? "NETWORK_ERROR" : undefined),
    message: `${result.error.description}${detail}`,
    requestId,
    attempts,
  };
}
