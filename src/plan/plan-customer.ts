// One customer's rows + its catalog -> the licenseupdates requests to send, the rows refused before
// any call (with the runner's code), and the seat check lines. Pure: no I/O, no clock.
import type { SkuCatalog } from "../catalog/sku-catalog.js";
import type { UserDirectory } from "../catalog/user-directory.js";
import type { LicenseUpdateRequest, ResolvedRow, RosterRow, SeatCheckRow } from "../model.js";
import { groupCustomerRows } from "./group-requests.js";
import { resolveRow } from "./resolve-row.js";
import { seatCheck } from "./seat-check.js";

export interface CustomerPlanInput {
  customerId: string;
  rows: readonly RosterRow[];
  skus: SkuCatalog;
  /** The customer's users by principal name, when a row names its user only that way. */
  users?: UserDirectory | undefined;
}

/** A row the plan refuses: status `invalid`, with the runner's own code. */
export interface RefusedRow {
  row: RosterRow;
  errorCode: string;
  message: string;
}

export interface CustomerPlan {
  requests: LicenseUpdateRequest[];
  /** In the order they were found: rows that do not resolve, then duplicates and conflicts. */
  refused: RefusedRow[];
  seatRows: SeatCheckRow[];
}

/** A user's rows must agree on its usage location: the first one given wins, rows naming another are refused. */
function withOneUsageLocation(rows: readonly ResolvedRow[], refused: RefusedRow[]): ResolvedRow[] {
  const first = new Map<string, ResolvedRow>();
  const kept: ResolvedRow[] = [];
  for (const row of rows) {
    if (row.usageLocation === undefined) {
      kept.push(row);
      continue;
    }
    const earlier = first.get(row.userId);
    if (!earlier) first.set(row.userId, row);
    else if (earlier.usageLocation !== row.usageLocation) {
      refused.push({
        row,
        errorCode: "CONFLICTING_USAGE_LOCATION",
        message: `line ${earlier.line} sets this user's usage location to ${earlier.usageLocation}, this row to ${row.usageLocation}; give one`,
      });
      continue;
    }
    kept.push(row);
  }
  return kept;
}

export function planCustomer(input: CustomerPlanInput): CustomerPlan {
  const refused: RefusedRow[] = [];
  const resolved: ResolvedRow[] = [];
  for (const row of input.rows) {
    const resolution = resolveRow(row, input.skus, input.users);
    if (resolution.ok) resolved.push(resolution.row);
    else refused.push({ row, errorCode: resolution.errorCode, message: resolution.message });
  }
  const grouped = groupCustomerRows(withOneUsageLocation(resolved, refused));
  for (const { row, errorCode, message } of grouped.refused) refused.push({ row, errorCode, message });
  return { requests: grouped.requests, refused, seatRows: seatCheck(input.customerId, input.skus.skus, grouped.requests) };
}
