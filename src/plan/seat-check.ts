// The seat check of `plan`: per customer and SKU, rows to assign and remove against the seats
// available now, and the shortfall, before a single seat is consumed.
import type { CatalogSku } from "../catalog/sku-catalog.js";
import type { LicenseUpdateRequest, SeatCheckRow } from "../model.js";

export type { SeatCheckRow };

export function seatCheck(customerId: string, skus: readonly CatalogSku[], requests: readonly LicenseUpdateRequest[]): SeatCheckRow[] {
  const counts = new Map<string, { toAssign: number; toRemove: number }>();
  for (const request of requests) {
    for (const row of request.rows) {
      let count = counts.get(row.skuId);
      if (!count) counts.set(row.skuId, (count = { toAssign: 0, toRemove: 0 }));
      if (row.action === "assign") count.toAssign += 1;
      else count.toRemove += 1;
    }
  }
  const rows: SeatCheckRow[] = [];
  for (const sku of skus) {
    const count = counts.get(sku.skuId);
    if (!count) continue;
    const available = Math.max(0, sku.availableUnits);
    rows.push({
      customerId,
      sku: sku.name,
      skuId: sku.skuId,
      licenseGroup: sku.licenseGroup,
      ...count,
      available,
      shortfall: Math.max(0, count.toAssign - available),
    });
  }
  return rows;
}
