// The demo fixtures hold together: playing fixtures/demo/roster.csv against the demo state the way
// the runner does (SKUs resolved by name, part number or id; UPNs by paging; one request per
// customer, user and license group; in file order, one at a time) gives the outcomes
// fixtures/demo/EXPECTED.md promises.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../dist/emulator/server.js";
import { get, post, start } from "../support/emulator-http.js";

const ROSTER = new URL("../../fixtures/demo/roster.csv", import.meta.url).pathname;

interface Row {
  line: number;
  customerId: string;
  userId: string;
  upn: string;
  sku: string;
  excludedPlans: string[];
  action: string;
}

function readRoster(): Row[] {
  const [header, ...lines] = readFileSync(ROSTER, "utf8").trim().split("\n");
  expect(header).toBe("customerId,userId,userPrincipalName,sku,excludedPlans,action");
  return lines.map((text, index) => {
    const [customerId = "", userId = "", upn = "", sku = "", excluded = "", action = ""] = text.split(",");
    return { line: index + 2, customerId, userId, upn, sku, excludedPlans: excluded ? excluded.split(";") : [], action };
  });
}

/** line -> "status httpStatus code" as EXPECTED.md states it (row-by-row outcome in file order). */
const EXPECTED: Record<number, string> = {
  2: "assigned 201", 3: "assigned 201", 4: "assigned 201", 5: "assigned 201", 6: "assigned 201", 7: "assigned 201",
  8: "assigned 201", 9: "failed 400 990004", 10: "removed 201", 11: "invalid UNKNOWN_SKU", 12: "assigned 201",
  13: "assigned 201", 14: "assigned 201", 15: "assigned 201", 16: "failed 400 60012", 17: "failed 400 60012",
  18: "failed 400 60012", 19: "assigned 201", 20: "assigned 201", 21: "removed 201", 22: "assigned 201",
  23: "failed 403 900150", 24: "failed 403 900150", 25: "failed 403 900150", 26: "assigned 201", 27: "assigned 201",
  28: "failed 404 60002", 29: "assigned 201", 30: "assigned 201", 31: "removed 201",
};

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await start();
});
afterAll(() => emulator.close());

describe("demo roster against the demo state", () => {
  it("gives the outcomes EXPECTED.md lists, and the seat counts that follow from them", async () => {
    const rows = readRoster();
    expect(rows).toHaveLength(30);
    const outcome = new Map<number, string>();
    type Sku = { productSku: { id: string; name: string; skuPartNumber: string; licenseGroupId: string }; servicePlans: { id: string; serviceName: string }[] };
    const catalogs = new Map<string, Sku[] | string>();
    const requests = new Map<string, { customerId: string; userId: string; rows: Row[]; assign: { skuId: string; excludedPlans: string[] }[]; remove: string[] }>();

    for (const row of rows) {
      if (!catalogs.has(row.customerId)) {
        const answer = await get(emulator, `/v1/customers/${row.customerId}/subscribedskus?licenseGroupIds=Group1&licenseGroupIds=Group2`);
        catalogs.set(row.customerId, answer.status === 200 ? answer.json.items : `failed ${answer.status} ${answer.json.code}`);
      }
      const catalog = catalogs.get(row.customerId)!;
      if (typeof catalog === "string") {
        outcome.set(row.line, catalog);
        continue;
      }
      const sku = catalog.find((s) => [s.productSku.id, s.productSku.name, s.productSku.skuPartNumber].includes(row.sku));
      if (!sku) {
        outcome.set(row.line, "invalid UNKNOWN_SKU");
        continue;
      }
      let userId = row.userId;
      if (!userId) {
        const users = await get(emulator, `/v1/customers/${row.customerId}/users?size=100`);
        userId = users.json.items.find((u: { userPrincipalName: string }) => u.userPrincipalName === row.upn).id;
      }
      const excluded = row.excludedPlans.map((p) => sku.servicePlans.find((plan) => plan.id === p || plan.serviceName === p)!.id);
      const key = `${row.customerId}|${userId}|${sku.productSku.licenseGroupId}`;
      const request = requests.get(key) ?? { customerId: row.customerId, userId, rows: [], assign: [], remove: [] };
      requests.set(key, request);
      request.rows.push(row);
      if (row.action === "remove") request.remove.push(sku.productSku.id);
      else request.assign.push({ skuId: sku.productSku.id, excludedPlans: excluded });
    }
    for (const request of requests.values()) {
      const answer = await post(emulator, `/v1/customers/${request.customerId}/users/${request.userId}/licenseupdates`, {
        licensesToAssign: request.assign,
        licensesToRemove: request.remove,
      });
      for (const row of request.rows) {
        outcome.set(
          row.line,
          answer.status === 201 ? `${row.action === "remove" ? "removed" : "assigned"} 201` : `failed ${answer.status} ${answer.json.code}`,
        );
      }
    }
    expect(Object.fromEntries(outcome)).toEqual(Object.fromEntries(Object.entries(EXPECTED).map(([k, v]) => [Number(k), v])));

    const state = (await get(emulator, "/_emulator/state")).json;
    const counts = (customer: number, skuId: string) =>
      state.customers[customer].subscribedSkus.find((s: { productSku: { id: string } }) => s.productSku.id === skuId).consumedUnits;
    expect(counts(0, "f8a1db68-be16-40ed-86d5-cb42ce701560")).toBe(16); // Contoso Power BI Pro: 12 + 4
    expect(counts(0, "6fd2c87f-b296-42f0-b197-1e91e994b900")).toBe(5); // Contoso E3: 2 + 4 - 1
    expect(counts(0, "4b9405b0-7788-4568-add1-99614e613b69")).toBe(4); // Contoso Exchange Plan 1: 1 + 3
    expect(counts(1, "f8a1db68-be16-40ed-86d5-cb42ce701560")).toBe(5); // Fabrikam Power BI Pro: full
    expect(counts(1, "4b9405b0-7788-4568-add1-99614e613b69")).toBe(0); // Fabrikam Exchange Plan 1: removed

    const counters = (await get(emulator, "/_emulator/counters")).json;
    expect(counters.requests.byEndpoint.licenseUpdates).toBe(25);
    expect(counters).toMatchObject({ writesApplied: 20, licensesAssigned: 17, licensesRemoved: 2 });
  });
});
