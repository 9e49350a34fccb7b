// A license write whose 2xx answer confirmed nothing (empty, cut short, HTML, not the LicenseUpdate)
// even after its retries with the same MS-RequestId: it may or may not have been applied. The
// truth is read back ("Get licenses assigned to a user", both license groups; the write is
// synchronous, so a following read shows it) and each row is recorded as what that read shows:
// - the change is there: assigned / removed, noting how it was confirmed;
// - it is not: failed with WRITE_NOT_APPLIED (a later run, or --resume, sends it again);
// - the read itself failed: failed with UNCONFIRMED_WRITE: nobody can say, the row names why.
import type { ApiResult, ResponseMeta } from "../partner-center/api.js";
import type { Collection, License } from "../partner-center/types.js";
import type { ResolvedRow, RowOutcome } from "../model.js";
import { failureMessage, type Failure } from "./call-failure.js";
import { succeededRow, type Sending } from "./row-outcomes.js";

export const WRITE_NOT_APPLIED = "WRITE_NOT_APPLIED";
export const UNCONFIRMED_WRITE = "UNCONFIRMED_WRITE";

type Unconfirmed = Extract<Failure, { kind: "unconfirmed" }>;

/** Whether the row's change is what the user's licenses show. */
export function isInPlace(row: ResolvedRow, licenses: readonly License[]): boolean {
  const id = row.skuId.toLowerCase();
  const held = licenses.some((l) => typeof l?.productSku?.id === "string" && l.productSku.id.toLowerCase() === id);
  return row.action === "remove" ? !held : held;
}

function failed(row: ResolvedRow, meta: ResponseMeta, sending: Sending, errorCode: string, errorMessage: string): RowOutcome {
  const outcome = succeededRow(row, meta, [], sending);
  return { ...outcome, status: "failed", errorCode, errorMessage };
}

/** The outcome of each row of an unconfirmed write, from the licenses read after it. */
export function settleUnconfirmedWrite(rows: readonly ResolvedRow[], unconfirmed: Unconfirmed, read: ApiResult<Collection<License>>, sending: Sending): RowOutcome[] {
  const answer = unconfirmed.error.description;
  if (!read.ok) {
    const why = `${answer}; reading the user's licenses to settle it failed too (${failureMessage(read)}): whether the change was made is not known`;
    return rows.map((row) => failed(row, unconfirmed.meta, sending, UNCONFIRMED_WRITE, why));
  }
  const licenses = Array.isArray(read.body.items) ? read.body.items : [];
  return rows.map((row) => {
    if (isInPlace(row, licenses)) {
      return { ...succeededRow(row, unconfirmed.meta, [], sending), errorMessage: `${answer}; confirmed by reading the user's licenses` };
    }
    return failed(row, unconfirmed.meta, sending, WRITE_NOT_APPLIED, `${answer}; the user's licenses show the change was not made`);
  });
}
