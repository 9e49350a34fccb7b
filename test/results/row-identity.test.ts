import { describe, expect, it } from "vitest";
import { isOutcomeOfRow } from "../../dist/results/row-identity.js";
import type { RowOutcome } from "../../dist/model.js";

const C = "c0000001-0000-4000-8000-000000000000";
const U = "a0000001-0000-4000-8000-000000000001";
const done: RowOutcome = {
  line: 2, customerId: C, userId: U, userPrincipalName: "ann@contoso.example", sku: "Power BI Pro", skuId: "f8a1db68-be16-40ed-86d5-cb42ce701560",
  licenseGroup: "group1", action: "assign", status: "assigned", attempts: 1, finishedAt: "2026-03-01T02:00:00.000Z",
};

describe("a done line counts only for the row it recorded", () => {
  it("matches the same customer, user, SKU and action (GUIDs and principal names in any case)", () => {
    expect(isOutcomeOfRow(done, { customerId: C.toUpperCase(), userId: U, sku: "Power BI Pro", action: "assign" })).toBe(true);
    expect(isOutcomeOfRow(done, { customerId: C, userPrincipalName: "ANN@contoso.example", sku: "Power BI Pro", action: "assign" })).toBe(true);
  });

  it("does not match another customer, user, SKU or action, nor a row naming no user", () => {
    expect(isOutcomeOfRow(done, { customerId: C.replace("1", "2"), userId: U, sku: "Power BI Pro", action: "assign" })).toBe(false);
    expect(isOutcomeOfRow(done, { customerId: C, userId: U.replace("01", "02"), sku: "Power BI Pro", action: "assign" })).toBe(false);
    expect(isOutcomeOfRow(done, { customerId: C, userPrincipalName: "bob@contoso.example", sku: "Power BI Pro", action: "assign" })).toBe(false);
    expect(isOutcomeOfRow(done, { customerId: C, userId: U, sku: "POWER_BI_PRO", action: "assign" })).toBe(false);
    expect(isOutcomeOfRow(done, { customerId: C, userId: U, sku: "Power BI Pro", action: "remove" })).toBe(false);
    expect(isOutcomeOfRow(done, { customerId: C, sku: "Power BI Pro", action: "assign" })).toBe(false);
  });
});
