// The plan stage of a run, customer by customer in roster order: read the customer's catalogs
// (subscribed SKUs; users when a row names its user by principal name) once, a few customers
// ahead, then plan it (plan/plan-customer.ts). Yields each customer's requests and the outcomes of
// the rows settled without a write; records nothing itself.
import type { Logger } from "pino";
import type { CustomerCatalogs } from "../catalog/customer-catalogs.js";
import type { CompactRoster } from "./compact-roster.js";
import type { LicenseUpdateRequest, RosterRow, RowOutcome, SeatCheckRow } from "../model.js";
import { planCustomer } from "../plan/plan-customer.js";
import { failedByCall, outcomeOf } from "./row-outcomes.js";

/** How many customers' catalogs are fetched ahead of the one being planned. */
const CATALOG_LOOKAHEAD = 4;

export type PlannedCustomer =
  | { kind: "customer"; customerId: string; requests: LicenseUpdateRequest[]; settled: RowOutcome[]; seatRows: SeatCheckRow[] }
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
}

export async function* planCustomers(deps: PlanCustomersDeps): AsyncGenerator<PlannedCustomer> {
  const { roster, customers, catalogs } = deps;
  for (let index = 0; index < customers.length; index += 1) {
    if (deps.halted()) return;
    for (const ahead of customers.slice(index + 1, index + 1 + CATALOG_LOOKAHEAD)) {
      void catalogs.skus(ahead);
      if (roster.usesPrincipalNames(ahead)) void catalogs.users(ahead);
    }
    const customerId = customers[index]!;
    const rows = roster.rowsOf(customerId).filter((row) => !deps.isDone(row.line));
    const log = deps.logger.child({ customerId });

    const skus = await catalogs.skus(customerId);
    const users = rows.some(needsDirectory) ? await catalogs.users(customerId) : undefined;
    if (deps.halted()) return;
    const failed = !skus.ok ? skus.failure : users && !users.ok ? users.failure : undefined;
    if (failed || !skus.ok || (users && !users.ok)) {
      catalogs.forget(customerId);
      if (!failed) continue; // narrowed above; keeps the types honest
      if (failed.scope === "run") {
        yield { kind: "stop", stoppedBy: { kind: "run-fatal", errorCode: failed.errorCode, message: failed.message, httpStatus: failed.httpStatus } };
        return;
      }
      const what = !skus.ok ? "the customer's subscribed SKUs could not be read" : "the customer's users could not be read";
      log.warn({ errorCode: failed.errorCode, httpStatus: failed.httpStatus }, "customer lookup failed");
      const settled = rows.map((row) => failedByCall(row, failed, what, deps.correlationId));
      yield { kind: "customer", customerId, requests: [], settled, seatRows: [] };
      continue;
    }

    const plan = planCustomer({ customerId, rows, skus: skus.value, users: users?.ok ? users.value : undefined });
    catalogs.forget(customerId);
    log.debug({ rows: rows.length, requests: plan.requests.length }, "customer planned");
    const settled = plan.refused.map(({ row, errorCode, message }) => outcomeOf(row, "invalid", { errorCode, errorMessage: message }));
    yield { kind: "customer", customerId, requests: plan.requests, settled, seatRows: plan.seatRows };
  }
}

function needsDirectory(row: RosterRow): boolean {
  return !row.userId && Boolean(row.userPrincipalName);
}
