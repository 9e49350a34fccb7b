// The one classification of a call's final failure, for lookups and writes alike: how far it
// reaches (row, customer, run), the code and message a result row and the summary show, and the
// ids that trace it. A failure still asking for a retry or a renewal here has run out of them.
import type { ApiResult } from "../partner-center/api.js";
import type { CallFailure, FailureScope } from "../model.js";
import { classifyFailure } from "./classify.js";

export type Failure = Exclude<ApiResult<unknown>, { ok: true }>;

/** Partner Center's code; the runner's own upper-case code when the answer carried none; else the HTTP status. */
export function failureCode(failure: Failure): string {
  if (failure.error.code !== undefined) return failure.error.code;
  // The way to the service failed (DNS, TLS verification, the proxy): the same for every call.
  if (failure.kind === "network" && failure.error.reach) return `NETWORK_${failure.error.reach.toUpperCase()}`;
  if (failure.kind === "network") return failure.error.cause === "timeout" ? "NETWORK_TIMEOUT" : failure.error.cause === "reset" ? "NETWORK_RESET" : "NETWORK_ERROR";
  if (failure.kind === "credentials") return "CREDENTIALS";
  if (failure.kind === "unconfirmed") return "UNREADABLE_ANSWER";
  return String(failure.meta.status);
}

/** Description plus the `data` detail (it names the SKU and account of a 60012, for instance). */
export function failureMessage(failure: Failure): string {
  const detail = failure.error.data.filter((d) => d.trim() !== "" && !failure.error.description.includes(d));
  return detail.length > 0 ? `${failure.error.description} (${detail.join("; ")})` : failure.error.description;
}

export function failureScope(failure: Failure, tokenRenewed = false): FailureScope {
  const action = classifyFailure(failure, { tokenRenewed });
  // Out of attempts on a retryable failure: it reaches the row; a 401 left over cannot be fixed by a later request.
  return action.action === "fail" ? action.scope : action.action === "renew-token" ? "run" : "row";
}

export interface CallTrace {
  attempts: number;
  requestId: string;
  tokenRenewed?: boolean;
}

export function describeFailure(failure: Failure, trace: CallTrace): CallFailure {
  const described: CallFailure = {
    scope: failureScope(failure, trace.tokenRenewed),
    errorCode: failureCode(failure),
    message: failureMessage(failure),
    requestId: trace.requestId,
    attempts: trace.attempts,
  };
  if (failure.kind === "http") described.httpStatus = failure.meta.status;
  return described;
}
