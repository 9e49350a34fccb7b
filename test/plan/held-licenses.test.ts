// --diff's pure stages: a user's licenses -> held SKUs with their excluded plans; planned requests
// narrowed to what changes; the users whose usage location needs setting.
import { describe, expect, it } from "vitest";
import { SkuCatalog } from "../../dist/catalog/sku-catalog.js";
import { planCustomer } from "../../dist/plan/plan-customer.js";
import { diffRequests, heldLicensesOf } from "../../dist/plan/held-licenses.js";
import { seatCheck } from "../../dist/plan/seat-check.js";
import { usageLocationChanges } from "../../dist/plan/usage-locations.js";
import type { RosterRow } from "../../dist/model.js";
import type { License, SubscribedSku } from "../../dist/partner-center/types.js";
import { skus, SKU } from "../support/state-builder.js";

const CUSTOMER = "c0000001-0000-4000-8000-000000000000";
const U1 = "a0000001-0000-4000-8000-000000000001";
const U2 = "a0000001-0000-4000-8000-000000000002";
const TEAMS = "57ff2da0-773e-42df-b2af-ffb7a2317929";
const EXCHANGE = "efb87545-963c-4e0d-99df-69c6916d9eb0";

const catalog = new SkuCatalog(skus({ e3: 1, powerBiPro: 5 }).map((s) => ({ ...s, availableUnits: s.activeUnits }) as unknown as SubscribedSku));

function license(skuId: string, planIds: string[], status = "Assigned"): License {
  return {
    productSku: { id: skuId.toUpperCase(), name: "x", skuPartNumber: "x", licenseGroupId: "group1" },
    servicePlans: planIds.map((id) => ({ id, displayName: id, serviceName: id, capabilityStatus: status, targetType: "User" })),
    attributes: { objectType: "License" },
  };
}

function row(line: number, userId: string, sku: string, extra: Partial<RosterRow> = {}): RosterRow {
  return { line, customerId: CUSTOMER, userId, sku, excludedPlans: [], action: "assign", ...extra };
}

describe("heldLicensesOf", () => {
  it("reads excluded plans as the SKU's plans not listed Assigned, whether absent or listed otherwise", () => {
    const absent = heldLicensesOf([license(SKU.e3, [EXCHANGE])], catalog);
    expect(absent.get(SKU.e3)).toEqual({ skuId: SKU.e3, excludedPlanIds: [TEAMS] });
    const disabled = heldLicensesOf([{ ...license(SKU.e3, [EXCHANGE]), servicePlans: [...license(SKU.e3, [EXCHANGE]).servicePlans, ...license(SKU.e3, [TEAMS], "Disabled").servicePlans] }], catalog);
    expect(disabled.get(SKU.e3)!.excludedPlanIds).toEqual([TEAMS]);
  });
});

describe("diffRequests", () => {
  it("keeps new assignments, updates of plans and removals of held SKUs; the rest is unchanged; seats count only new ones", () => {
    const plan = planCustomer({
      customerId: CUSTOMER,
      rows: [
        row(2, U1, "ENTERPRISEPACK", { excludedPlans: ["TEAMS1"] }), // held the same: unchanged
        row(3, U1, "Power BI Pro", { action: "remove" }), // not held: unchanged
        row(4, U2, "ENTERPRISEPACK"), // held without Teams: an update
        row(5, U2, "Power BI Pro"), // new
      ],
      skus: catalog,
    });
    const held = new Map([
      [U1, heldLicensesOf([license(SKU.e3, [EXCHANGE])], catalog)],
      [U2, heldLicensesOf([license(SKU.e3, [EXCHANGE])], catalog)],
    ]);
    const diffed = diffRequests(plan.requests, (userId) => held.get(userId));
    expect(diffed.unchanged.map(({ row: r }) => r.line)).toEqual([2, 3]);
    expect(diffed.requests.map((r) => r.rows.map((x) => x.line))).toEqual([[4, 5]]);
    expect(diffed.requests[0]!.update.licensesToAssign).toEqual([
      { skuId: SKU.e3, excludedPlans: null },
      { skuId: SKU.powerBiPro, excludedPlans: null },
    ]);
    const seats = seatCheck(CUSTOMER, catalog.skus, diffed.requests, (r) => diffed.heldBefore.get(r) === undefined);
    expect(seats.map((s) => [s.sku, s.toAssign, s.shortfall, s.exact])).toEqual([
      ["Power BI Pro", 1, 0, true],
      ["Office 365 Enterprise E3", 0, 0, true],
    ]);
    expect(diffRequests(plan.requests, () => undefined).requests).toEqual(plan.requests);
  });
});

describe("usage locations", () => {
  it("asks for a PATCH only where the wanted location differs from the current one, and refuses a user's conflicting locations", () => {
    const plan = planCustomer({
      customerId: CUSTOMER,
      rows: [row(2, U1, "ENTERPRISEPACK", { usageLocation: "US" }), row(3, U1, "Power BI Pro", { usageLocation: "GB" }), row(4, U2, "Power BI Pro")],
      skus: catalog,
    });
    expect(plan.refused.map((r) => [r.row.line, r.errorCode])).toEqual([[3, "CONFLICTING_USAGE_LOCATION"]]);
    const current = new Map<string, string | null>([[U1, "us"], [U2, null]]);
    expect(usageLocationChanges(plan.requests, undefined, (u) => current.get(u))).toEqual([]);
    expect(usageLocationChanges(plan.requests, "DE", (u) => current.get(u))).toEqual([{ userId: U2, usageLocation: "DE", current: null }]);
    const removalOnly = planCustomer({ customerId: CUSTOMER, rows: [row(2, U2, "Power BI Pro", { action: "remove", usageLocation: "FR" })], skus: catalog });
    expect(usageLocationChanges(removalOnly.requests, undefined, () => null)).toEqual([]);
  });
});
