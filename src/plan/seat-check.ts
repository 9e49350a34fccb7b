// The seat check of `plan`: per customer and SKU, the seats the assignments would newly consume
// and the rows to remove, against the seats available now, and the shortfall, before a single seat
// is consumed. Removals never offset the shortfall: requests run concurrently, so a removal is not
// guaranteed to be sent before an assignment of the same SKU.
import type { CatalogSku } from "../catalog/sku-catalog.js";
import type { LicenseUpdateRequest, ResolvedRow, SeatCheckRow } from "../model.js";

export type { SeatCheckRow };

/**
 * `consumesSeat` says whether an assignment row takes a new seat; with `--diff` it is false for a
 * SKU the user already holds (an update of its plans), and the counts are exact. Without it every
 * assignment is counted: an upper bound.
 */
export function seatCheck(
  customerId: string,
  skus: readonly CatalogSku[],
  requests: readonly LicenseUpdateRequest[],
  consumesSeat?: (row: ResolvedRow) => boolean,
): SeatCheckRow[] {
  const counts: SeatCounts = new Map();
  for (const request of requests) {
    for (const row of request.rows) {
      let count = counts.get(row.skuId);
      if (!count) counts.set(row.skuId, (count = { toAssign: 0, toRemove: 0 }));
      if (row.action === "remove") count.toRemove += 1;
      else if (!consumesSeat || consumesSeat(row)) count.toAssign += 1;
    }
  }
  return seatRowsOf(customerId, skus, counts, consumesSeat !== undefined);
}

/** Per SKU id, the rows to assign (that take a seat) and to remove. */
export type SeatCounts = Map<string, { toAssign: number; toRemove: number }>;

/** The seat check lines of `counts`, in the catalog's order; `exact`: the counts know which assignments take a seat. */
export function seatRowsOf(customerId: string, skus: readonly CatalogSku[], counts: SeatCounts, exact: boolean): SeatCheckRow[] {
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
      ...(exact ? { exact: true } : {}),
    });
  }
  return rows;
}
