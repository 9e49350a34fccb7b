// One logical call with pacing and retries (execute/), its final failure classified: the CallApi the
// catalog stage is given, so catalog/ never depends on execute/.
import type { CallApi } from "../catalog/customer-catalogs.js";
import { callWithRetry, type RetryDeps } from "../execute/call-with-retry.js";
import { describeFailure } from "../execute/call-failure.js";
import type { PartnerWideFailures } from "../execute/partner-wide-failures.js";

export function makeCallApi(deps: RetryDeps, partnerWide?: PartnerWideFailures): CallApi {
  return async (customerId, attempt) => {
    const { result, attempts, requestId, tokenRenewed } = await callWithRetry(customerId, attempt, deps);
    if (result.ok) {
      partnerWide?.noteSuccess();
      return { ok: true, value: result.body, attempts, requestId };
    }
    const failure = describeFailure(result, { attempts, requestId, tokenRenewed });
    return { ok: false, failure: partnerWide ? partnerWide.escalate(customerId, failure) : failure };
  };
}
