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

export function groupCustomerRows(rows: readonly ResolvedRow[]): GroupedRequests {
  const refused: RefusedRow[] = [];
  // user + group -> (skuId -> rows naming that SKU), in first-seen order
  const byUserGroup = new Map<string, Map<string, ResolvedRow[]>>();
  for (const row of rows) {
    const key = `${row.userId}|${row.licenseGroup}`;
    let skus = byUserGroup.get(key);
    if (!skus) byUserGroup.set(key, (skus = new Map()));
    const same = skus.get(row.skuId);
    if (same) same.push(row);
    else skus.set(row.skuId, [row]);
  }

  const requests: LicenseUpdateRequest[] = [];
  for (const skus of byUserGroup.values()) {
    const carried: ResolvedRow[] = [];
    for (const sameSku of skus.values()) {
      const first = sameSku[0]!;
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
  requests.sort((a, b) => a.rows[0]!.line - b.rows[0]!.line);
  return { requests, refused };
}

export function toRequest(rows: ResolvedRow[]): LicenseUpdateRequest {
  const first = rows[0]!;
  const assign = rows.filter((r) => r.action === "assign");
  const remove = rows.filter((r) => r.action === "remove");
  return {
    customerId: first.customerId,
    userId: first.userId,
    licenseGroup: first.licenseGroup,
    rows,
    update: {
      licensesToAssign: assign.length ? assign.map((r) => ({ skuId: r.skuId, excludedPlans: r.excludedPlanIds.length ? r.excludedPlanIds : null })) : null,
      licensesToRemove: remove.length ? remove.map((r) => r.skuId) : null,
      attributes: { objectType: "LicenseUpdate" },
    },
  };
}
