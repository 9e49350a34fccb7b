// `--diff`: what a user already holds, and which of a customer's planned rows that makes no-ops.
// A held license's excluded plans are the SKU's service plans (from the customer's catalog) the
// license does not list as "Assigned": the service lists a license's plans with their status, and
// the emulator leaves an excluded plan out, so both readings give the same set. Pure.
import type { CatalogSku, SkuCatalog } from "../catalog/sku-catalog.js";
import type { LicenseUpdateRequest, ResolvedRow } from "../model.js";
import type { License } from "../partner-center/types.js";
import { toRequest } from "./group-requests.js";

/** A license the user holds: its SKU and the plan ids it leaves off (lower case, sorted). */
export interface HeldLicense {
  skuId: string;
  excludedPlanIds: string[];
}

/** A user's licenses by SKU id (lower case). */
export type HeldLicenses = ReadonlyMap<string, HeldLicense>;

export function heldLicensesOf(licenses: readonly License[], catalog: SkuCatalog): HeldLicenses {
  const held = new Map<string, HeldLicense>();
  const byId = new Map<string, CatalogSku>(catalog.skus.map((sku) => [sku.skuId, sku]));
  for (const license of licenses) {
    const skuId = license.productSku.id.toLowerCase();
    const assigned = new Set(
      (license.servicePlans ?? []).filter((plan) => (plan.capabilityStatus ?? "").toLowerCase() === "assigned").map((plan) => plan.id.toLowerCase()),
    );
    const plans = byId.get(skuId)?.servicePlans ?? [];
    held.set(skuId, { skuId, excludedPlanIds: plans.map((plan) => plan.id).filter((id) => !assigned.has(id)).sort() });
  }
  return held;
}

/** A row already in place: nothing is sent for it. `held` is what the user holds of its SKU (none for a removal). */
export interface UnchangedRow {
  row: ResolvedRow;
  held: HeldLicense | undefined;
}

export interface DiffedRequests {
  /** The requests narrowed to the rows that change something. */
  requests: LicenseUpdateRequest[];
  unchanged: UnchangedRow[];
  /** Rows sent: what their user held of their SKU before (undefined: not held), for undo and the seat check. */
  heldBefore: Map<ResolvedRow, HeldLicense | undefined>;
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const sorted = [...a].sort();
  return sorted.every((id, i) => id === b[i]);
}

/**
 * Keeps the rows that change something: an assignment of a SKU the user lacks, or holds with other
 * excluded plans (an update), and a removal of a SKU the user holds. `heldOf` gives the user's
 * licenses, or undefined when they are unknown (such rows are sent as planned).
 */
export function diffRequests(requests: readonly LicenseUpdateRequest[], heldOf: (userId: string) => HeldLicenses | undefined): DiffedRequests {
  const kept: LicenseUpdateRequest[] = [];
  const unchanged: UnchangedRow[] = [];
  const heldBefore = new Map<ResolvedRow, HeldLicense | undefined>();
  for (const request of requests) {
    const held = heldOf(request.userId);
    if (!held) {
      kept.push(request);
      continue;
    }
    const changing: ResolvedRow[] = [];
    for (const row of request.rows) {
      const license = held.get(row.skuId.toLowerCase());
      const inPlace = row.action === "assign" ? license !== undefined && sameIds(row.excludedPlanIds.map((id) => id.toLowerCase()), license.excludedPlanIds) : license === undefined;
      if (inPlace) unchanged.push({ row, held: license });
      else {
        changing.push(row);
        heldBefore.set(row, license);
      }
    }
    if (changing.length === request.rows.length) kept.push(request);
    else if (changing.length > 0) kept.push(toRequest(changing));
  }
  return { requests: kept, unchanged, heldBefore };
}
