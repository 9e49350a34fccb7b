// One customer's resolved rows -> licenseupdates requests: one per (user, license group), carrying
// every SKU to assign and remove for that user in that group; never two license groups in one
// request. Duplicates are not sent twice, and assigning and removing one SKU for one user is refused.
import type { LicenseUpdateRequest, ResolvedRow } from "../model.js";

export interface RefusedRow {
  row: ResolvedRow;
  errorCode: "DUPLICATE_ROW" | "CONFLICTING_ACTIONS";
  message: string;
}

export interface GroupedRequests {
  requests: LicenseUpdateRequest[];
  refused: RefusedRow[];
}

/** One user's rows in one license group: the first row of each SKU (first-seen order), and the later rows of a SKU if any. */
interface UserGroup {
  firsts: ResolvedRow[];
  /** Index in `firsts` -> the later rows naming that SKU (duplicates or conflicts; rare). */
  later: Map<number, ResolvedRow[]> | undefined;
  /** SKU id -> index in `firsts`, once a user has more SKUs than a scan should look through. */
  bySku: Map<string, number> | undefined;
}

/** A user's SKUs in one group are found by a scan up to this many, by a map beyond. */
const SCAN_LIMIT = 8;

function indexOfSku(group: UserGroup, skuId: string): number {
  if (group.bySku !== undefined) return group.bySku.get(skuId) ?? -1;
  const firsts = group.firsts;
  for (let k = 0; k < firsts.length; k++) if (firsts[k]!.skuId === skuId) return k;
  return -1;
}

export function groupCustomerRows(rows: readonly ResolvedRow[]): GroupedRequests {
  const refused: RefusedRow[] = [];
  // (user, group) in first-seen order; found through one map per license group, keyed by user id.
  const groups: UserGroup[] = [];
  const byGroup = new Map<string, Map<string, UserGroup>>();
  let lastGroupName: string | undefined;
  let lastUsers: Map<string, UserGroup> | undefined;
  for (const row of rows) {
    let users = row.licenseGroup === lastGroupName ? lastUsers : byGroup.get(row.licenseGroup);
    if (!users) byGroup.set(row.licenseGroup, (users = new Map()));
    lastGroupName = row.licenseGroup;
    lastUsers = users;
    let group = users.get(row.userId);
    if (!group) {
      group = { firsts: [row], later: undefined, bySku: undefined };
      users.set(row.userId, group);
      groups.push(group);
      continue;
    }
    const same = indexOfSku(group, row.skuId);
    if (same < 0) {
      const firsts = group.firsts;
      firsts.push(row);
      if (group.bySku !== undefined) group.bySku.set(row.skuId, firsts.length - 1);
      else if (firsts.length > SCAN_LIMIT) group.bySku = new Map(firsts.map((first, k) => [first.skuId, k]));
    } else {
      const later = (group.later ??= new Map());
      const rowsOfSku = later.get(same);
      if (rowsOfSku) rowsOfSku.push(row);
      else later.set(same, [row]);
    }
  }

  const requests: LicenseUpdateRequest[] = [];
  for (const group of groups) {
    if (group.later === undefined) {
      requests.push(toRequest(group.firsts));
      continue;
    }
    const carried: ResolvedRow[] = [];
    for (let k = 0; k < group.firsts.length; k++) {
      const first = group.firsts[k]!;
      const sameSku = [first, ...(group.later.get(k) ?? [])];
      if (sameSku.some((r) => r.action !== first.action)) {
        const lines = sameSku.map((r) => r.line).join(", ");
        for (const row of sameSku) {
          refused.push({ row, errorCode: "CONFLICTING_ACTIONS", message: `lines ${lines} both assign and remove ${row.sku} for this user; fix the roster` });
        }
        continue;
      }
      carried.push(first);
      for (const row of sameSku.slice(1)) {
        const differs = row.excludedPlanIds.join(";") !== first.excludedPlanIds.join(";");
        refused.push({
          row,
          errorCode: "DUPLICATE_ROW",
          message: differs
            ? `line ${first.line} already ${first.action}s ${first.sku} for this user with other excluded plans; only line ${first.line} is sent`
            : `duplicate of line ${first.line}; sent once`,
        });
      }
    }
    if (carried.length > 0) requests.push(toRequest(carried));
  }
  // In the order of each request's first row (already so unless a user's first SKU was refused).
  if (!inLineOrder(requests)) requests.sort((a, b) => a.rows[0]!.line - b.rows[0]!.line);
  return { requests, refused };
}

function inLineOrder(requests: readonly LicenseUpdateRequest[]): boolean {
  for (let k = 1; k < requests.length; k++) if (requests[k - 1]!.rows[0]!.line > requests[k]!.rows[0]!.line) return false;
  return true;
}

export function toRequest(rows: ResolvedRow[]): LicenseUpdateRequest {
  const first = rows[0]!;
  let licensesToAssign: { skuId: string; excludedPlans: string[] | null }[] | null = null;
  let licensesToRemove: string[] | null = null;
  for (const r of rows) {
    if (r.action === "assign") (licensesToAssign ??= []).push({ skuId: r.skuId, excludedPlans: r.excludedPlanIds.length ? r.excludedPlanIds : null });
    else if (r.action === "remove") (licensesToRemove ??= []).push(r.skuId);
  }
  return {
    customerId: first.customerId,
    userId: first.userId,
    licenseGroup: first.licenseGroup,
    rows,
    update: {
      licensesToAssign,
      licensesToRemove,
      attributes: { objectType: "LicenseUpdate" },
    },
  };
}
