// Row outcomes the pipeline writes itself (invalid, planned, skipped, aborted, failed without a
// call); the executor writes those of the requests it sends.
import type { CallFailure, ResolvedRow, RosterRow, RowOutcome, RowRejection, RowStatus } from "../model.js";
import type { PlainCustomerPlan } from "../plan/plain-customer-plan.js";

type Detail = Partial<Omit<RowOutcome, "line" | "status">>;

let isoMs = Number.NaN;
let isoText = "";

/** Now as an ISO timestamp; the text is formatted once per millisecond (a plan settles many rows in one). */
function nowIso(): string {
  const ms = Date.now();
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

export function outcomeOf(row: RosterRow | ResolvedRow, status: RowStatus, detail?: Detail): RowOutcome {
  const resolved = "skuId" in row ? row : undefined;
  // One literal of one shape, then the detail's fields: spreads into a fresh literal cost more
  // than the rest of a planned row's outcome (a million of them per plan).
  const outcome: RowOutcome = {
    line: row.line,
    customerId: row.customerId,
    userId: row.userId ?? "",
    userPrincipalName: row.userPrincipalName ?? "",
    sku: row.sku,
    skuId: resolved?.skuId ?? "",
    licenseGroup: resolved?.licenseGroup ?? "",
    action: row.action,
    status,
    attempts: 0,
    finishedAt: nowIso(),
  };
  if (resolved) outcome.skuName = resolved.skuName;
  if (detail !== undefined) Object.assign(outcome, detail);
  return outcome;
}

/** A row `plan` would send: outcomeOf(row, "planned", { correlationId }) as one literal (a million per plan). */
export function plannedOutcome(row: ResolvedRow, correlationId: string): RowOutcome {
  return {
    line: row.line,
    customerId: row.customerId,
    userId: row.userId ?? "",
    userPrincipalName: row.userPrincipalName ?? "",
    sku: row.sku,
    skuId: row.skuId ?? "",
    licenseGroup: row.licenseGroup ?? "",
    action: row.action,
    status: "planned",
    attempts: 0,
    finishedAt: nowIso(),
    skuName: row.skuName,
    correlationId,
  };
}

/**
 * The planned outcomes of a plain customer's plan, in its order, each what plannedOutcome gives for
 * the row. One object is filled in for every row: `each` must not keep it (the journal formats
 * it at once, the summary counts it).
 */
export function eachPlannedOutcome(customerId: string, plan: PlainCustomerPlan, correlationId: string, each: (outcome: RowOutcome) => void): void {
  const { rows, order, skuOfRow } = plan;
  const outcome: RowOutcome = {
    line: 0,
    customerId,
    userId: "",
    userPrincipalName: "",
    sku: "",
    skuId: "",
    licenseGroup: "",
    action: "",
    status: "planned",
    attempts: 0,
    finishedAt: "",
    skuName: "",
    correlationId,
  };
  let previous = -1;
  for (let k = 0; k < order.length; k++) {
    const index = order[k]!;
    const sku = skuOfRow[index]!;
    outcome.line = rows.lineAt(index);
    // A request's rows are one user's: its id is spelled once.
    if (previous < 0 || !rows.sameUser(previous, index)) outcome.userId = rows.userIdAt(index);
    previous = index;
    outcome.sku = rows.skuAt(index);
    outcome.skuId = sku.skuId;
    outcome.licenseGroup = sku.licenseGroup;
    outcome.skuName = sku.name;
    outcome.action = rows.actionAt(index);
    outcome.finishedAt = nowIso();
    each(outcome);
  }
}

export function rejectedOutcome(rejection: RowRejection): RowOutcome {
  return {
    line: rejection.line,
    customerId: rejection.customerId,
    userId: rejection.userId,
    userPrincipalName: rejection.userPrincipalName,
    sku: rejection.sku,
    skuId: "",
    licenseGroup: "",
    action: rejection.action,
    status: "invalid",
    errorCode: rejection.errorCode,
    errorMessage: rejection.errorMessage,
    attempts: 0,
    finishedAt: nowIso(),
  };
}

/** A row an earlier run finished: kept as it was, marked skipped. */
export function skippedOutcome(previous: RowOutcome): RowOutcome {
  return previous.status === "skipped" ? previous : { ...previous, status: "skipped" };
}

/** A row that fails because its customer's lookup failed (403 GDAP role, 404 tenant, ...). */
export function failedByCall(row: RosterRow, failure: CallFailure, what: string, correlationId: string): RowOutcome {
  return outcomeOf(row, "failed", {
    httpStatus: failure.httpStatus,
    errorCode: failure.errorCode,
    errorMessage: `${what}: ${failure.message}`,
    attempts: failure.attempts,
    requestId: failure.requestId,
    correlationId,
  });
}
