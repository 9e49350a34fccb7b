// The body of a license update narrowed to the rows still to send, the plan's entries kept as planned.
import type { LicenseUpdate } from "../partner-center/types.js";
import type { ResolvedRow } from "../model.js";

export function updateFor(planned: LicenseUpdate, rows: readonly ResolvedRow[]): LicenseUpdate {
  // A request carries a handful of rows and this runs for every one sent: arrays searched, no sets built.
  const assign: string[] = [];
  const remove: string[] = [];
  for (const row of rows) {
    if (row.action === "assign") assign.push(row.skuId.toLowerCase());
    else if (row.action === "remove") remove.push(row.skuId.toLowerCase());
  }
  const toAssign = (planned.licensesToAssign ?? []).filter((l) => assign.includes(l.skuId.toLowerCase()));
  const toRemove = (planned.licensesToRemove ?? []).filter((id) => remove.includes(id.toLowerCase()));
  // Rows the planned body does not mention (should not happen) are added, so no row is dropped silently.
  for (const row of rows) {
    const id = row.skuId.toLowerCase();
    if (row.action === "assign" && !toAssign.some((l) => l.skuId.toLowerCase() === id)) toAssign.push({ skuId: row.skuId, excludedPlans: row.excludedPlanIds.length > 0 ? row.excludedPlanIds : null });
    if (row.action === "remove" && !toRemove.some((r) => r.toLowerCase() === id)) toRemove.push(row.skuId);
  }
  return {
    licensesToAssign: toAssign.length > 0 ? toAssign : null,
    licensesToRemove: toRemove.length > 0 ? toRemove : null,
    attributes: { objectType: "LicenseUpdate" },
  };
}
