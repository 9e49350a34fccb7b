// A roster row + its customer's catalog -> a resolved row (SKU id, license group, plan ids, user
// id), or the reason it cannot be sent. Pure.
import type { SkuCatalog } from "../catalog/sku-catalog.js";
import type { UserDirectory } from "../catalog/user-directory.js";
import type { ResolvedRow, RosterRow } from "../model.js";

export type Resolution = { ok: true; row: ResolvedRow } | { ok: false; errorCode: string; message: string };

export function resolveRow(row: RosterRow, catalog: SkuCatalog, directory: UserDirectory | undefined): Resolution {
  let userId = row.userId;
  if (!userId && row.userPrincipalName) {
    userId = directory?.idOf(row.userPrincipalName);
    if (!userId) return { ok: false, errorCode: "UNKNOWN_USER", message: `no user "${row.userPrincipalName}" in customer ${row.customerId}` };
  }
  if (!userId) return { ok: false, errorCode: "MISSING_USER", message: "the row names no user: give userId or userPrincipalName" };

  const sku = catalog.match(row.sku);
  if (!sku.ok) return sku;
  if (row.action === "remove" && row.excludedPlans.length > 0) {
    return { ok: false, errorCode: "INVALID_EXCLUDED_PLAN", message: "excludedPlans only apply to assignments, not to action=remove" };
  }
  const plans = catalog.excludedPlanIds(sku.value, row.excludedPlans);
  if (!plans.ok) return plans;
  // Written out rather than spread: a million rows are resolved per plan, and an explicit literal
  // is both faster to build and one fixed object shape. `satisfies` names every field, optional
  // ones included, so a new roster column cannot be left out here without a compile error.
  const resolved = {
    line: row.line,
    customerId: row.customerId,
    userId,
    userPrincipalName: row.userPrincipalName,
    sku: row.sku,
    excludedPlans: row.excludedPlans,
    action: row.action,
    usageLocation: row.usageLocation,
    skuId: sku.value.skuId,
    skuName: sku.value.name,
    licenseGroup: sku.value.licenseGroup,
    excludedPlanIds: plans.value,
  } satisfies Record<keyof ResolvedRow, unknown>;
  return { ok: true, row: resolved };
}
