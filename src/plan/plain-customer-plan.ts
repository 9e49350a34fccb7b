// The plan of a customer whose rows are all plain (a user id, a SKU, an action, nothing else), for
// `plan` without --diff: the same requests, in the same order, as plan-customer.ts would make, but
// as row indices over the compact roster rather than a row, a resolved row and a request object
// per row. A million-row plan otherwise keeps each customer's objects alive through several
// young-generation collections, which copy them every time. Pure: no I/O, no clock.
//
// It vouches only for the case where nothing is refused: when a row's SKU does not resolve, or a
// user names one SKU twice in a license group (a duplicate or a conflict), it answers undefined
// and the customer is planned by planCustomer, the one place those refusals are made.
import type { CatalogSku, SkuCatalog } from "../catalog/sku-catalog.js";
import type { SeatCheckRow } from "../model.js";
import { seatRowsOf, type SeatCounts } from "./seat-check.js";

/** A customer's plain rows as the compact roster holds them, by index in file order. */
export interface PlainCustomerRows {
  readonly count: number;
  lineAt(index: number): number;
  /** The SKU as the roster wrote it, and its reference in the roster's table of SKU strings. */
  skuAt(index: number): string;
  skuRefAt(index: number): number;
  actionAt(index: number): "assign" | "remove";
  userIdAt(index: number): string;
  /** Whether two rows name the same user (the user id's 16 bytes are equal). */
  sameUser(a: number, b: number): boolean;
  /** A hash of the row's user id (equal users, equal hashes). */
  userHash(index: number): number;
}

export interface PlainCustomerPlan {
  rows: PlainCustomerRows;
  /** Row indices in the order their outcomes are recorded: request after request, each request's rows in file order. */
  order: Int32Array;
  /** The resolved SKU of each row, by index. */
  skuOfRow: readonly CatalogSku[];
  requestCount: number;
  seatRows: SeatCheckRow[];
}

/**
 * The requests of `rows` (those `included`) as planCustomer would group them: one per user and
 * license group, in the order of their first rows. Undefined when a row would be refused.
 */
export function planPlainCustomer(customerId: string, rows: PlainCustomerRows, skus: SkuCatalog, included: (index: number) => boolean): PlainCustomerPlan | undefined {
  const count = rows.count;
  const skuOfRow: CatalogSku[] = new Array<CatalogSku>(count);
  const resolvedByRef = new Map<number, CatalogSku>();
  const groupNames: string[] = [];
  // (user, license group) -> request, in an open-addressed table of request numbers + 1.
  let size = 16;
  while (size < count * 2) size *= 2;
  const table = new Int32Array(size);
  const firstRow = new Int32Array(count);
  const lastRow = new Int32Array(count);
  const groupOfRequest = new Int32Array(count);
  const nextRow = new Int32Array(count).fill(-1);
  let requests = 0;
  let rowsPlanned = 0;
  for (let index = 0; index < count; index++) {
    if (!included(index)) continue;
    const ref = rows.skuRefAt(index);
    let sku = resolvedByRef.get(ref);
    if (sku === undefined) {
      const match = skus.match(rows.skuAt(index));
      if (!match.ok) return undefined; // refused: planCustomer's
      sku = match.value;
      resolvedByRef.set(ref, sku);
    }
    skuOfRow[index] = sku;
    let group = groupNames.indexOf(sku.licenseGroup);
    if (group < 0) group = groupNames.push(sku.licenseGroup) - 1;
    let slot = (Math.imul(rows.userHash(index), 0x9e3779b1) ^ group) & (size - 1);
    for (;;) {
      const held = table[slot]!;
      if (held === 0) {
        table[slot] = ++requests;
        const request = requests - 1;
        firstRow[request] = index;
        lastRow[request] = index;
        groupOfRequest[request] = group;
        break;
      }
      const request = held - 1;
      if (groupOfRequest[request] === group && rows.sameUser(firstRow[request]!, index)) {
        for (let other = firstRow[request]!; other >= 0; other = nextRow[other]!) {
          if (skuOfRow[other]!.skuId === sku.skuId) return undefined; // a duplicate or a conflict: planCustomer's
        }
        nextRow[lastRow[request]!] = index;
        lastRow[request] = index;
        break;
      }
      slot = (slot + 1) & (size - 1);
    }
    rowsPlanned++;
  }

  const order = new Int32Array(rowsPlanned);
  const counts: SeatCounts = new Map();
  let at = 0;
  for (let request = 0; request < requests; request++) {
    for (let index = firstRow[request]!; index >= 0; index = nextRow[index]!) {
      order[at++] = index;
      const skuId = skuOfRow[index]!.skuId;
      let seat = counts.get(skuId);
      if (!seat) counts.set(skuId, (seat = { toAssign: 0, toRemove: 0 }));
      if (rows.actionAt(index) === "remove") seat.toRemove += 1;
      else seat.toAssign += 1;
    }
  }
  return { rows, order, skuOfRow, requestCount: requests, seatRows: seatRowsOf(customerId, skus.skus, counts, false) };
}
