// Unit tests of the pure stages between reading and sending: SKU catalog, row resolution,
// grouping into licenseupdates requests, the seat check and sharding.
import { describe, expect, it } from "vitest";
import { SkuCatalog } from "../../dist/catalog/sku-catalog.js";
import { UserDirectory } from "../../dist/catalog/user-directory.js";
import { resolveRow } from "../../dist/plan/resolve-row.js";
import { groupCustomerRows } from "../../dist/plan/group-requests.js";
import { seatCheck } from "../../dist/plan/seat-check.js";
import { inShard, shardOf } from "../../dist/plan/shard.js";
import type { ResolvedRow, RosterRow } from "../../dist/model.js";
import { SKU, subscribedSkus } from "../support/state-builder.js";

const CUSTOMER = "c0000001-0000-4000-8000-000000000000";
const USER = "a0000001-0000-4000-8000-000000000001";

function row(line: number, sku: string, extra: Partial<RosterRow> = {}): RosterRow {
  return { line, customerId: CUSTOMER, userId: USER, sku, excludedPlans: [], action: "assign", ...extra };
}

function resolved(line: number, sku: string, extra: Partial<RosterRow> = {}, catalog = new SkuCatalog(subscribedSkus({ powerBiPro: 5, e3: 5, minecraft: 5 }))): ResolvedRow {
  const result = resolveRow(row(line, sku, extra), catalog, undefined);
  if (!result.ok) throw new Error(result.message);
  return result.row;
}

describe("SkuCatalog", () => {
  const catalog = new SkuCatalog(subscribedSkus({ powerBiPro: 5, e3: 2, minecraft: 1 }));

  it("matches ids and part numbers case-insensitively, and names", () => {
    for (const written of [SKU.e3.toUpperCase(), "enterprisepack", "ENTERPRISEPACK", "Office 365 Enterprise E3", "office 365 enterprise e3"]) {
      const match = catalog.match(written);
      expect(match.ok && match.value.skuId, written).toBe(SKU.e3);
    }
    const minecraft = catalog.match("CFQ7TTC0K5DR/0002");
    expect(minecraft.ok && minecraft.value.licenseGroup).toBe("group2");
  });

  it("says which SKUs the customer has when none matches", () => {
    const match = catalog.match("Visio Plan 2");
    expect(match.ok).toBe(false);
    if (!match.ok) {
      expect(match.errorCode).toBe("UNKNOWN_SKU");
      expect(match.message).toContain("Power BI Pro [POWER_BI_PRO");
      expect(match.message).toContain("Office 365 Enterprise E3");
    }
  });

  it("calls a name that matches two SKUs ambiguous", () => {
    const twins = subscribedSkus({ powerBiPro: 1, e3: 1 });
    twins[1]!.productSku = { ...twins[1]!.productSku, name: "Power BI Pro" };
    const match = new SkuCatalog(twins).match("power bi pro");
    expect(match.ok ? "matched" : match.errorCode).toBe("AMBIGUOUS_SKU");
  });

  it("turns excluded plans given by service name or id into plan ids, and refuses others naming the plans", () => {
    const e3 = catalog.match("ENTERPRISEPACK");
    if (!e3.ok) throw new Error("no E3");
    const plans = catalog.excludedPlanIds(e3.value, ["teams1", "EFB87545-963C-4E0D-99DF-69C6916D9EB0"]);
    expect(plans).toEqual({ ok: true, value: ["57ff2da0-773e-42df-b2af-ffb7a2317929", "efb87545-963c-4e0d-99df-69c6916d9eb0"] });
    const unknown = catalog.excludedPlanIds(e3.value, ["YAMMER_ENTERPRISE"]);
    expect(unknown.ok).toBe(false);
    if (!unknown.ok) expect(unknown.message).toContain("TEAMS1 (57ff2da0-773e-42df-b2af-ffb7a2317929)");
  });
});

describe("resolveRow", () => {
  const catalog = new SkuCatalog(subscribedSkus({ powerBiPro: 5 }));

  it("resolves a principal name through the directory, case-insensitively", () => {
    const directory = new UserDirectory();
    directory.add("Adele.Vance@Contoso.example", USER.toUpperCase());
    const result = resolveRow(row(2, "Power BI Pro", { userId: undefined, userPrincipalName: "adele.vance@contoso.EXAMPLE" }), catalog, directory);
    expect(result.ok && result.row.userId).toBe(USER);
    const unknown = resolveRow(row(3, "Power BI Pro", { userId: undefined, userPrincipalName: "nobody@contoso.example" }), catalog, directory);
    expect(unknown.ok ? "resolved" : unknown.errorCode).toBe("UNKNOWN_USER");
  });

  it("refuses excluded plans on a removal", () => {
    const result = resolveRow(row(2, "Power BI Pro", { action: "remove", excludedPlans: ["BI_AZURE_P2"] }), catalog, undefined);
    expect(result.ok ? "resolved" : result.errorCode).toBe("INVALID_EXCLUDED_PLAN");
  });
});

describe("groupCustomerRows", () => {
  it("makes one request per user and license group, assigning and removing together", () => {
    const other = "a0000001-0000-4000-8000-000000000002";
    const rows = [
      resolved(2, "Power BI Pro"),
      resolved(3, "CFQ7TTC0K5DR/0002"),
      resolved(4, "ENTERPRISEPACK", { action: "remove" }),
      resolved(5, "Power BI Pro", { userId: other }),
    ];
    const { requests, refused } = groupCustomerRows(rows);
    expect(refused).toEqual([]);
    expect(requests.map((r) => [r.userId, r.licenseGroup, r.rows.map((x) => x.line)])).toEqual([
      [USER, "group1", [2, 4]],
      [USER, "group2", [3]],
      [other, "group1", [5]],
    ]);
    expect(requests[0]!.update).toEqual({
      licensesToAssign: [{ skuId: SKU.powerBiPro, excludedPlans: null }],
      licensesToRemove: [SKU.e3],
      attributes: { objectType: "LicenseUpdate" },
    });
    expect(requests[1]!.update.licensesToRemove).toBeNull();
    for (const request of requests) expect(new Set(request.rows.map((r) => r.licenseGroup)).size).toBe(1);
  });

  it("sends a duplicate once and refuses assign + remove of one SKU for one user", () => {
    const { requests, refused } = groupCustomerRows([
      resolved(2, "Power BI Pro"),
      resolved(3, SKU.powerBiPro),
      resolved(4, "ENTERPRISEPACK"),
      resolved(5, "ENTERPRISEPACK", { action: "remove" }),
    ]);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.rows.map((r) => r.line)).toEqual([2]);
    expect(refused.map((r) => [r.row.line, r.errorCode])).toEqual([
      [3, "DUPLICATE_ROW"],
      [4, "CONFLICTING_ACTIONS"],
      [5, "CONFLICTING_ACTIONS"],
    ]);
    expect(refused[0]!.message).toContain("line 2");
  });
});

describe("seatCheck", () => {
  it("counts rows to assign and remove per SKU against the seats available now", () => {
    const catalog = new SkuCatalog(subscribedSkus({ powerBiPro: 1, e3: 3 }));
    const users = ["1", "2", "3"].map((n) => `a0000001-0000-4000-8000-00000000000${n}`);
    const { requests } = groupCustomerRows([
      ...users.map((userId, i) => resolved(2 + i, "Power BI Pro", { userId }, catalog)),
      resolved(9, "ENTERPRISEPACK", { action: "remove" }, catalog),
    ]);
    expect(seatCheck(CUSTOMER, catalog.skus, requests)).toEqual([
      { customerId: CUSTOMER, sku: "Power BI Pro", skuId: SKU.powerBiPro, licenseGroup: "group1", toAssign: 3, toRemove: 0, available: 1, shortfall: 2 },
      { customerId: CUSTOMER, sku: "Office 365 Enterprise E3", skuId: SKU.e3, licenseGroup: "group1", toAssign: 0, toRemove: 1, available: 3, shortfall: 0 },
    ]);
  });
});

describe("shards", () => {
  it("puts every customer in exactly one shard, whatever the case of its id, and spreads them", () => {
    const customers = Array.from({ length: 300 }, (_, i) => `c${i.toString(16).padStart(7, "0")}-0000-4000-8000-000000000000`);
    const sizes = [0, 0, 0];
    for (const id of customers) {
      const owners = [1, 2, 3].filter((index) => inShard(id, { index, count: 3 }));
      expect(owners).toEqual([shardOf(id.toUpperCase(), 3)]);
      sizes[owners[0]! - 1]! += 1;
    }
    for (const size of sizes) expect(size).toBeGreaterThan(60);
    expect(inShard(customers[0]!, undefined)).toBe(true);
  });
});
