// Planning one customer from its rows and catalog: requests, refusals and seat lines, with no network.
import { describe, expect, it } from "vitest";
import { SkuCatalog } from "../../dist/catalog/sku-catalog.js";
import { UserDirectory } from "../../dist/catalog/user-directory.js";
import { planCustomer } from "../../dist/plan/plan-customer.js";
import type { RosterRow } from "../../dist/model.js";
import { SKU, subscribedSkus } from "../support/state-builder.js";

const CUSTOMER = "c0000001-0000-4000-8000-000000000000";
const USER_1 = "a0000001-0000-4000-8000-000000000001";
const USER_2 = "a0000001-0000-4000-8000-000000000002";

function catalog(seats: Parameters<typeof subscribedSkus>[0]): SkuCatalog {
  return new SkuCatalog(subscribedSkus(seats));
}

function row(line: number, sku: string, extra: Partial<RosterRow> = {}): RosterRow {
  return { line, customerId: CUSTOMER, userId: USER_1, sku, excludedPlans: [], action: "assign", ...extra };
}

describe("planCustomer", () => {
  it("turns rows into one request per user and license group, refusals in the order found, and seat lines", () => {
    const users = new UserDirectory();
    users.add("second@customer.example", USER_2);
    const plan = planCustomer({
      customerId: CUSTOMER,
      rows: [
        row(2, "Power BI Pro"),
        row(3, "Visio Plan 2"), // unknown SKU
        row(4, "POWER_BI_PRO"), // duplicate of line 2
        row(5, "ENTERPRISEPACK", { userId: undefined, userPrincipalName: "Second@Customer.example", excludedPlans: ["TEAMS1"] }),
        row(6, "CFQ7TTC0K5DR/0002"),
        row(7, "ENTERPRISEPACK", { userId: undefined, userPrincipalName: "nobody@customer.example" }),
      ],
      skus: catalog({ powerBiPro: 0, e3: 5, minecraft: 1 }),
      users,
    });
    expect(plan.requests.map((r) => [r.userId, r.licenseGroup, r.rows.map((x) => x.line)])).toEqual([
      [USER_1, "group1", [2]],
      [USER_2, "group1", [5]],
      [USER_1, "group2", [6]],
    ]);
    expect(plan.requests[1]!.update.licensesToAssign).toEqual([{ skuId: SKU.e3, excludedPlans: ["57ff2da0-773e-42df-b2af-ffb7a2317929"] }]);
    expect(plan.refused.map((r) => [r.row.line, r.errorCode])).toEqual([
      [3, "UNKNOWN_SKU"],
      [7, "UNKNOWN_USER"],
      [4, "DUPLICATE_ROW"],
    ]);
    expect(plan.seatRows.map((s) => [s.sku, s.toAssign, s.available, s.shortfall])).toEqual([
      ["Power BI Pro", 1, 0, 1],
      ["Office 365 Enterprise E3", 1, 5, 0],
      ["Minecraft Education Edition Faculty", 1, 1, 0],
    ]);
  });

  it("carries every roster field of a row into its resolved row", () => {
    const plan = planCustomer({ customerId: CUSTOMER, rows: [row(2, "Power BI Pro", { usageLocation: "DE", userPrincipalName: "a@b.example" })], skus: catalog({ powerBiPro: 1 }) });
    expect(plan.requests[0]!.rows[0]).toMatchObject({ line: 2, usageLocation: "DE", userPrincipalName: "a@b.example", skuId: SKU.powerBiPro });
  });

  it("plans nothing for no rows", () => {
    expect(planCustomer({ customerId: CUSTOMER, rows: [], skus: catalog({ e3: 1 }) })).toEqual({ requests: [], refused: [], seatRows: [] });
  });
});
