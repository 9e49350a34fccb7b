// The per-user calls of a customer's plan stage, each bounded to `concurrency` in flight: --diff's
// read of every touched user's licenses, and the usage-location update (PATCH) of users who need
// one before their licenses. A user whose call fails has its rows failed (with the call's answer);
// a run-fatal answer is handed back so the run stops.
import pLimit from "p-limit";
import type { Logger } from "pino";
import type { CallApi, CustomerCatalogs } from "../catalog/customer-catalogs.js";
import type { SkuCatalog } from "../catalog/sku-catalog.js";
import type { CallFailure, LicenseUpdateRequest, RowOutcome } from "../model.js";
import type { UserAccountsApi } from "../partner-center/api.js";
import { heldLicensesOf, type HeldLicenses } from "../plan/held-licenses.js";
import { usageLocationChanges } from "../plan/usage-locations.js";
import { failedByCall } from "./row-outcomes.js";

export interface UserCallsDeps {
  catalogs: CustomerCatalogs;
  correlationId: string;
  logger: Logger;
  halted(): boolean;
  concurrency: number;
}

/** What is left to send, and the rows settled here; or the run-fatal failure that stops the run. */
export type UserCallsResult = { requests: LicenseUpdateRequest[]; settled: RowOutcome[] } | { runFatal: CallFailure };

/** --diff: each touched user's licenses, read once. */
export async function readHeldLicenses(
  deps: UserCallsDeps,
  customerId: string,
  requests: LicenseUpdateRequest[],
  catalog: SkuCatalog,
): Promise<{ runFatal: CallFailure } | { requests: LicenseUpdateRequest[]; settled: RowOutcome[]; held: Map<string, HeldLicenses> }> {
  const userIds = [...new Set(requests.map((request) => request.userId))];
  const limit = pLimit(Math.max(1, deps.concurrency));
  const held = new Map<string, HeldLicenses>();
  const failures = new Map<string, CallFailure>();
  let customerFailure: CallFailure | undefined;
  await Promise.all(
    userIds.map((userId) =>
      limit(async () => {
        if (deps.halted() || customerFailure) return;
        const fetched = await deps.catalogs.userLicenses(customerId, userId);
        if (fetched.ok) held.set(userId, heldLicensesOf(fetched.value, catalog));
        else if (fetched.failure.scope === "row") failures.set(userId, fetched.failure);
        else customerFailure ??= fetched.failure;
      }),
    ),
  );
  if (customerFailure?.scope === "run") return { runFatal: customerFailure };
  const failure = customerFailure;
  const kept = failUsers(deps, requests, (userId) => failure ?? failures.get(userId), "the user's current licenses could not be read");
  return { ...kept, held };
}

/** Sets the usage location of each user who needs one (none, or another) before its license update. */
export async function setUsageLocations(
  deps: UserCallsDeps & { api: UserAccountsApi; call: CallApi; onAttempts(count: number): void; fallback: string | undefined },
  customerId: string,
  requests: LicenseUpdateRequest[],
): Promise<UserCallsResult> {
  const locations = await deps.catalogs.usageLocations(customerId);
  if (!locations.ok) {
    if (locations.failure.scope === "run") return { runFatal: locations.failure };
    const failure = locations.failure;
    return failUsers(deps, requests, () => failure, "the customer's users could not be read (to learn their usage locations)");
  }
  const changes = usageLocationChanges(requests, deps.fallback, (userId) => locations.value.get(userId.toLowerCase()));
  const limit = pLimit(Math.max(1, deps.concurrency));
  const failures = new Map<string, CallFailure>();
  let runFailure: CallFailure | undefined;
  await Promise.all(
    changes.map((change) =>
      limit(async () => {
        if (deps.halted() || runFailure) return;
        const update = { usageLocation: change.usageLocation, attributes: { objectType: "CustomerUser" as const } };
        const result = await deps.call(customerId, (ctx) => deps.api.updateUser(customerId, change.userId, update, ctx));
        deps.onAttempts(result.ok ? result.attempts : result.failure.attempts);
        if (result.ok) {
          deps.logger.debug({ customerId, userId: change.userId, usageLocation: change.usageLocation }, "usage location set");
          return;
        }
        if (result.failure.scope === "run") runFailure = result.failure;
        else failures.set(change.userId, { ...result.failure, message: `${change.usageLocation}: ${result.failure.message}` });
      }),
    ),
  );
  if (runFailure) return { runFatal: runFailure };
  return failUsers(deps, requests, (userId) => failures.get(userId), "the user's usage location could not be set", "USAGE_LOCATION_NOT_SET");
}

/** Splits requests into those still to send and the failed rows of the users `failureOf` names. */
function failUsers(
  deps: UserCallsDeps,
  requests: LicenseUpdateRequest[],
  failureOf: (userId: string) => CallFailure | undefined,
  what: string,
  errorCode?: string,
): { requests: LicenseUpdateRequest[]; settled: RowOutcome[] } {
  const kept: LicenseUpdateRequest[] = [];
  const settled: RowOutcome[] = [];
  for (const request of requests) {
    const failure = failureOf(request.userId);
    if (!failure) {
      kept.push(request);
      continue;
    }
    for (const row of request.rows) {
      const outcome = failedByCall(row, failure, what, deps.correlationId);
      if (errorCode) {
        // The runner's own code; the API's answer stays in the message.
        const answer = [failure.httpStatus, failure.errorCode].filter((x) => x !== undefined).join(" ");
        outcome.errorCode = errorCode;
        outcome.errorMessage = `${what}${answer ? ` (${answer})` : ""}: ${failure.message}`;
      }
      settled.push(outcome);
    }
  }
  return { requests: kept, settled };
}
