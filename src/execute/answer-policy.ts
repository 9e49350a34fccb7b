// What a request's final failure means for its rows, as a pure function: which rows fail with this
// answer, what is remembered for later rows, which rows are sent again, and whether the run stops.
//
// - Run-fatal (credentials, 900316, 900309, 900421, a 401 after a renewal) stops the run; refused
//   credentials before the request left mean its rows were never sent.
// - Customer-fatal (403 900150/20002, 404 60003) fails the rows and every later row of the customer.
// - 404 60002 fails the rows and every later row of that user.
// - 60012 on a request carrying several SKUs costs only the SKU(s) the error names; the other rows
//   are sent again as a new request (an answer was received, so a new MS-RequestId). When the
//   error names no SKU of the request, the request is split into one request per SKU.
import { ERROR_CODE } from "../partner-center/types.js";
import type { CallFailure, ResolvedRow } from "../model.js";
import type { Failure } from "./call-failure.js";
import type { Refusal } from "./refusal-memory.js";
import { messages } from "./row-outcomes.js";

export type StoppedBy = { kind: "run-fatal"; errorCode?: string; message: string; httpStatus?: number } | { kind: "interrupted" };

export interface AnswerDecision {
  /** Rows that fail with this answer. */
  failed: ResolvedRow[];
  /** Rows never sent (the run stopped before the request left). */
  notSent: ResolvedRow[];
  remember: Refusal[];
  /** Groups of rows sent again, each as a new request, in this order. */
  resend: ResolvedRow[][];
  stopRun?: Extract<StoppedBy, { kind: "run-fatal" }>;
  /** Why the request was split, for the log. */
  split?: number;
}

const SKU_IN_ERROR = /SKU\s+([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/gi;

/** SKU ids the 60012 error names ("...and SKU {skuId} does not have any available licenses left."). */
export function exhaustedSkusNamed(failure: Failure): string[] {
  const text = [failure.error.description, ...failure.error.data].join("\n");
  return [...new Set([...text.matchAll(SKU_IN_ERROR)].map((m) => m[1]!.toLowerCase()))];
}

const skuKey = (row: ResolvedRow): string => `${row.action}|${row.skuId.toLowerCase()}`;

export function decideAnswer(rows: readonly ResolvedRow[], failure: Failure, described: CallFailure): AnswerDecision {
  const decision: AnswerDecision = { failed: [], notSent: [], remember: [], resend: [] };
  const first = rows[0];
  if (first === undefined) return decision;
  const { customerId, userId, line } = first;
  const code = described.errorCode;

  if (described.scope === "run") {
    const stop: AnswerDecision["stopRun"] = { kind: "run-fatal", message: described.message };
    if (failure.error.code !== undefined || failure.kind !== "http") stop.errorCode = code;
    if (described.httpStatus !== undefined) stop.httpStatus = described.httpStatus;
    decision.stopRun = stop;
    if (described.attempts === 0) decision.notSent = [...rows];
    else decision.failed = [...rows];
    return decision;
  }
  if (described.scope === "customer") {
    decision.failed = [...rows];
    decision.remember.push({ kind: "customer", customerId, decided: { errorCode: code ?? "CUSTOMER_REFUSED", message: messages.customerFailed(line, described.httpStatus, failure.error.code, failure.error.description) } });
    return decision;
  }
  if (code === ERROR_CODE.userNotFound && described.httpStatus === 404) {
    decision.failed = [...rows];
    decision.remember.push({ kind: "user", customerId, userId, decided: { errorCode: code, message: messages.userNotFound(line) } });
    return decision;
  }
  const assignRows = rows.filter((r) => r.action === "assign");
  if (code === ERROR_CODE.outOfLicenses && assignRows.length > 0) {
    const named = new Set(exhaustedSkusNamed(failure));
    let culprits = assignRows.filter((r) => named.has(r.skuId.toLowerCase()));
    const skusInRequest = [...new Set(rows.map(skuKey))];
    if (culprits.length === 0 && skusInRequest.length > 1) {
      // The error names none of our SKUs: one request per SKU tells them apart.
      decision.resend = skusInRequest.map((key) => rows.filter((r) => skuKey(r) === key));
      decision.split = skusInRequest.length;
      return decision;
    }
    if (culprits.length === 0) culprits = assignRows; // the request's only SKU is the one
    decision.failed = culprits;
    for (const row of culprits) decision.remember.push({ kind: "sku", customerId, skuId: row.skuId, decided: { errorCode: ERROR_CODE.outOfLicenses, message: messages.seatsRanOut(row.skuId, row.line) } });
    const failedRows = new Set(culprits);
    const rest = rows.filter((r) => !failedRows.has(r));
    if (rest.length > 0) decision.resend = [rest];
    return decision;
  }
  decision.failed = [...rows];
  return decision;
}
