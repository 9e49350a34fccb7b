// The body of a license update narrowed to the rows still to send, the plan's entries kept as planned.
import type { LicenseUpdate } from "../partner-center/types.js";
import type { ResolvedRow } from "../model.js";

export function updateFor(planned: LicenseUpdate, rows: readonly ResolvedRow[]): LicenseUpdate {
  const assign = new Set(rows.filter((r) => r.action === "assign").map((r) => r.skuId.toLowerCase()));
  const remove = new Set(rows.filter((r) => r.action === "remove").map((r) => r.skuId.toLowerCase()));
  const toAssign = (planned.licensesToAssign ?? []).filter((l) => assign.has(l.skuId.toLowerCase()));
  const toRemove = (planned.licensesToRemove ?? []).filter((id) => remove.has(id.toLowerCase()));
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
