// The plan stage of a run, customer by customer in roster order: read the customer's catalogs
// (subscribed SKUs; users when a row names its user by principal name or a usage location may need
// setting; the company name) once, a few customers ahead, plan it (plan/plan-customer.ts), then:
//   --diff: read the current licenses of the users its requests touch and keep only the changes;
//   run (not plan): set the usage location of users who need one (PATCH) before their requests go.
// Yields each customer's requests and the outcomes of the rows settled without a license update;
// records nothing itself.
import type { Logger } from "pino";
import type { CallApi, CustomerCatalogs } from "../catalog/customer-catalogs.js";
import type { CompactRoster } from "./compact-roster.js";
import type { CallFailure, LicenseUpdateRequest, ResolvedRow, RosterRow, RowOutcome, SeatCheckRow } from "../model.js";
import type { UserAccountsApi } from "../partner-center/api.js";
import { planCustomer } from "../plan/plan-customer.js";
import { planPlainCustomer, type PlainCustomerPlan } from "../plan/plain-customer-plan.js";
import { diffRequests, type HeldLicense } from "../plan/held-licenses.js";
import { seatCheck } from "../plan/seat-check.js";
import { mayNeedUsageLocations } from "../plan/usage-locations.js";
import { failedByCall, outcomeOf } from "./row-outcomes.js";
import { readHeldLicenses, setUsageLocations } from "./user-calls.js";

/** How many customers' catalogs are fetched ahead of the one being planned. */
const CATALOG_LOOKAHEAD = 4;

export type PlannedCustomer =
  | {
      kind: "customer";
      customerId: string;
      customerName?: string | undefined;
      requests: LicenseUpdateRequest[];
      settled: RowOutcome[];
      seatRows: SeatCheckRow[];
      /** With --diff: what each sent row's user held of its SKU before (undefined: not held). */
      heldBefore?: ReadonlyMap<ResolvedRow, HeldLicense | undefined>;
      /** A plan's customer of plain rows, none refused: its requests as row indices (`requests` is empty). */
      plain?: PlainCustomerPlan;
    }
  /** A lookup answered run-fatal: plan nothing more. */
  | { kind: "stop"; stoppedBy: LookupStop };

/** A run-fatal answer to a lookup, as the run's stop reason. */
export interface LookupStop {
  kind: "run-fatal";
  errorCode?: string | undefined;
  message: string;
  httpStatus?: number | undefined;
}

export interface PlanCustomersDeps {
  roster: CompactRoster;
  /** Customers with rows left to run, in roster order. */
  customers: readonly string[];
  /** Whether a line already has its outcome (resumed): such rows are not planned again. */
  isDone(line: number): boolean;
  catalogs: CustomerCatalogs;
  correlationId: string;
  logger: Logger;
  /** True once nothing more should be planned (a stop signal, a run-fatal answer). */
  halted(): boolean;
  /** --diff: read the users' licenses and send only what changes. */
  diff: boolean;
  /** --usage-location: for rows without a usageLocation cell. */
  usageLocation?: string | undefined;
  /** Set usage locations (a run); a plan sends no write. */
  writes?: { api: UserAccountsApi; call: CallApi; onAttempts(count: number): void } | undefined;
  /** Most reads (or user updates) of one customer in flight at once. */
  concurrency: number;
}

export async function* planCustomers(deps: PlanCustomersDeps): AsyncGenerator<PlannedCustomer> {
  const { roster, customers, catalogs } = deps;
  const readsUsers = (customerId: string): boolean => roster.usesPrincipalNames(customerId);
  for (let index = 0; index < customers.length; index += 1) {
    if (deps.halted()) return;
    for (const ahead of customers.slice(index + 1, index + 1 + CATALOG_LOOKAHEAD)) {
      void catalogs.skus(ahead);
      void catalogs.companyName(ahead);
      if (readsUsers(ahead)) void catalogs.users(ahead);
    }
    const customerId = customers[index]!;
    // A plan (no write, no --diff) of plain rows is planned over the compact roster, row objects only if it must.
    const plainRows = deps.writes || deps.diff ? undefined : roster.plainRowsOf(customerId);
    let rowObjects: RosterRow[] | undefined;
    const rowsNow = (): RosterRow[] => (rowObjects ??= roster.rowsOf(customerId).filter((row) => !deps.isDone(row.line)));
    if (!plainRows) rowsNow();
    const log = deps.logger.child({ customerId });

    const naming = catalogs.companyName(customerId); // read beside the SKUs, not after them
    const skus = await catalogs.skus(customerId);
    // Plain rows all name their user by id: no directory.
    const users = !plainRows && rowsNow().some(needsDirectory) ? await catalogs.users(customerId) : undefined;
    const customerName = await naming;
    if (deps.halted()) return;
    const failed = !skus.ok ? skus.failure : users && !users.ok ? users.failure : undefined;
    if (failed || !skus.ok || (users && !users.ok)) {
      catalogs.forget(customerId);
      if (!failed) continue; // narrowed above; keeps the types honest
      if (failed.scope === "run") {
        yield { kind: "stop", stoppedBy: stopOf(failed) };
        return;
      }
      const what = !skus.ok ? "the customer's subscribed SKUs could not be read" : "the customer's users could not be read";
      log.warn({ errorCode: failed.errorCode, httpStatus: failed.httpStatus }, "customer lookup failed");
      const settled = rowsNow().map((row) => failedByCall(row, failed, what, deps.correlationId));
      yield { kind: "customer", customerId, customerName, requests: [], settled, seatRows: [] };
      continue;
    }

    const plain = plainRows && planPlainCustomer(customerId, plainRows, skus.value, (row) => !deps.isDone(plainRows.lineAt(row)));
    if (plain) {
      catalogs.forget(customerId);
      if (customerName !== undefined) for (const seat of plain.seatRows) seat.customerName = customerName;
      log.debug({ rows: plain.order.length, requests: plain.requestCount }, "customer planned");
      yield { kind: "customer", customerId, customerName, requests: [], settled: [], seatRows: plain.seatRows, plain };
      continue;
    }
    const rows = rowsNow();
    const plan = planCustomer({ customerId, rows, skus: skus.value, users: users?.ok ? users.value : undefined });
    const settled = plan.refused.map(({ row, errorCode, message }) => outcomeOf(row, "invalid", { errorCode, errorMessage: message }));
    let requests = plan.requests;
    let seatRows = plan.seatRows;
    let heldBefore: ReadonlyMap<ResolvedRow, HeldLicense | undefined> | undefined;

    if (deps.diff && requests.length > 0) {
      const read = await readHeldLicenses(deps, customerId, requests, skus.value);
      if ("runFatal" in read) {
        yield { kind: "stop", stoppedBy: stopOf(read.runFatal) };
        return;
      }
      settled.push(...read.settled);
      const diffed = diffRequests(read.requests, (userId) => read.held.get(userId));
      requests = diffed.requests;
      heldBefore = diffed.heldBefore;
      for (const { row, held } of diffed.unchanged) {
        settled.push(outcomeOf(row, "unchanged", { correlationId: deps.correlationId, heldBefore: held !== undefined, ...(held ? { previousExcludedPlans: held.excludedPlanIds } : {}) }));
      }
      seatRows = seatCheck(customerId, skus.value.skus, requests, (row) => diffed.heldBefore.get(row) === undefined);
    }
    if (deps.writes && requests.length > 0 && mayNeedUsageLocations(requests, deps.usageLocation)) {
      const set = await setUsageLocations({ ...deps, ...deps.writes, fallback: deps.usageLocation }, customerId, requests);
      if ("runFatal" in set) {
        yield { kind: "stop", stoppedBy: stopOf(set.runFatal) };
        return;
      }
      settled.push(...set.settled);
      requests = set.requests;
    }
    catalogs.forget(customerId);
    if (customerName !== undefined) for (const seat of seatRows) seat.customerName = customerName;
    log.debug({ rows: rows.length, requests: requests.length }, "customer planned");
    yield { kind: "customer", customerId, customerName, requests, settled, seatRows, ...(heldBefore ? { heldBefore } : {}) };
  }
}

function stopOf(failure: CallFailure): LookupStop {
  return { kind: "run-fatal", errorCode: failure.errorCode, message: failure.message, httpStatus: failure.httpStatus };
}

function needsDirectory(row: RosterRow): boolean {
  return !row.userId && Boolean(row.userPrincipalName);
}
