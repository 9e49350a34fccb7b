// The RowOutcome of each row of a license update request, for every way it can end: answered
// (assigned/removed/failed), refused without a call, or not sent because the run stopped.
// The user-facing texts are here, apart from the logic that decides them.
import type { ResponseMeta } from "../partner-center/api.js";
import { failureCode, failureMessage, type Failure } from "./call-failure.js";
import type { LicenseWarning } from "../partner-center/types.js";
import type { ResolvedRow, RowOutcome } from "../model.js";

export interface Sending {
  attempts: number;
  requestId: string;
  correlationId: string;
  finishedAt: string;
}

function rowBase(row: ResolvedRow): Omit<RowOutcome, "status" | "attempts" | "finishedAt"> {
  return {
    line: row.line,
    customerId: row.customerId,
    userId: row.userId,
    userPrincipalName: row.userPrincipalName ?? "",
    sku: row.sku,
    skuId: row.skuId,
    skuName: row.skuName,
    licenseGroup: row.licenseGroup,
    action: row.action,
  };
}

function withMeta(outcome: RowOutcome, meta: ResponseMeta | undefined, sending: Sending): RowOutcome {
  outcome.requestId = sending.requestId;
  outcome.correlationId = meta?.correlationId ?? sending.correlationId;
  if (meta?.status !== undefined) outcome.httpStatus = meta.status;
  if (meta?.cv !== undefined) outcome.msCv = meta.cv;
  return outcome;
}

export function succeededRow(row: ResolvedRow, meta: ResponseMeta, warnings: LicenseWarning[], sending: Sending): RowOutcome {
  // rowBase and withMeta in one literal: this runs for every row answered, and a spread plus
  // properties added one by one cost more than the write's own bookkeeping.
  const outcome: RowOutcome = {
    line: row.line,
    customerId: row.customerId,
    userId: row.userId,
    userPrincipalName: row.userPrincipalName ?? "",
    sku: row.sku,
    skuId: row.skuId,
    skuName: row.skuName,
    licenseGroup: row.licenseGroup,
    action: row.action,
    status: row.action === "remove" ? "removed" : "assigned",
    attempts: sending.attempts,
    finishedAt: sending.finishedAt,
    requestId: sending.requestId,
    correlationId: meta.correlationId ?? sending.correlationId,
    httpStatus: meta.status,
  };
  if (warnings.length > 0) outcome.licenseWarnings = warnings;
  if (meta.cv !== undefined) outcome.msCv = meta.cv;
  return outcome;
}

export function failedRow(row: ResolvedRow, failure: Failure, sending: Sending, note?: string): RowOutcome {
  const outcome: RowOutcome = { ...rowBase(row), status: "failed", attempts: sending.attempts, finishedAt: sending.finishedAt };
  outcome.errorCode = failureCode(failure);
  outcome.errorMessage = note === undefined ? failureMessage(failure) : `${failureMessage(failure)}; ${note}`;
  return withMeta(outcome, failure.meta, sending);
}

/** A row failed without a call, because an earlier answer already decided it. */
export function refusedWithoutCall(row: ResolvedRow, errorCode: string, message: string, finishedAt: string): RowOutcome {
  return { ...rowBase(row), status: "failed", errorCode, errorMessage: message, attempts: 0, finishedAt };
}

/** A row never sent (or never answered) because the run stopped. */
export function abortedRow(row: ResolvedRow, errorCode: string, message: string, finishedAt: string, sending?: Sending): RowOutcome {
  const outcome: RowOutcome = { ...rowBase(row), status: "aborted", errorCode, errorMessage: message, attempts: sending?.attempts ?? 0, finishedAt };
  if (sending && sending.attempts > 0) {
    outcome.requestId = sending.requestId;
    outcome.correlationId = sending.correlationId;
  }
  return outcome;
}

export const messages = {
  seatsRanOut: (skuId: string, line: number) => `not sent: SKU ${skuId} ran out of seats for this customer (60012 at line ${line})`,
  customerFailed: (line: number, httpStatus: number | undefined, code: string | undefined, description: string) =>
    `not sent: an earlier request for this customer was refused at line ${line} (${[httpStatus, code].filter((x) => x !== undefined).join(" ")}: ${description})`,
  userNotFound: (line: number) => `not sent: the user was not found (404 60002 at line ${line})`,
  runStopped: (reason: string) => `not sent: the run stopped: ${reason}`,
  interrupted: () => "not sent: the run was interrupted (SIGINT/SIGTERM); --resume sends it",
  unanswered: (reason: string, last: string) => `not finished: the run stopped while this request was waiting to retry (last answer: ${last}): ${reason}; --resume sends it again`,
};
