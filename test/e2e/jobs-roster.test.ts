// End to end: what roster rows reach the emulator as. Users by principal name (one paging
// of the customer's users), excluded plans by service name (sent as service plan ids), unknown
// users and plans (invalid), and action=remove (in the same request as that user's assignments of
// the same license group).
import { afterEach, describe, expect, it } from "vitest";
import { control, startTestEmulator, type RunningEmulator } from "../support/emulator.js";
import { customer, roster, SKU, state } from "../support/state-builder.js";
import { byLine, cliAgainst, requestLog } from "../support/jobs-e2e.js";

const PLAN = {
  teams: "57ff2da0-773e-42df-b2af-ffb7a2317929", // TEAMS1, of E3
  exchange: "efb87545-963c-4e0d-99df-69c6916d9eb0", // EXCHANGE_S_ENTERPRISE, of E3
  powerBi: "70d33638-9c74-4d01-bfd3-562de28bd4ba", // BI_AZURE_P2, of Power BI Pro
};

let emulator: RunningEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function userIn(em: RunningEmulator, customerId: string, userId: string) {
  const current = await control(em, `state?customerId=${customerId}`);
  return current.customers[0].users.find((u: { id: string }) => u.id === userId);
}

describe("users by principal name", () => {
  it("pages the customer's users once, matches names in any case, and makes an unknown name invalid UNKNOWN_USER", async () => {
    const byName = customer(1, 11, { powerBiPro: 20 }); // 11 users, 4 a page: 3 pages
    const byId = customer(2, 3, { powerBiPro: 20 });
    emulator = await startTestEmulator({ state: state([byName, byId]), maxPageSize: 4 });
    const upn = (n: number) => byName.users[n]!.userPrincipalName;
    const rows = [
      [byName.id, "", upn(0), "Power BI Pro"],
      [byName.id, "", upn(5).toUpperCase(), "Power BI Pro"], // any case
      [byName.id, "", upn(10), "Power BI Pro"], // on the last page
      [byName.id, "", "nobody@customer1.example", "Power BI Pro"],
      [byId.id, byId.users[0]!.id, "", "Power BI Pro"],
    ];
    // The header in a case of its own, as a spreadsheet might write it.
    const { run, results } = await cliAgainst(emulator, roster(rows, "CustomerId,UserID,USERPRINCIPALNAME,Sku"), { args: ["--no-progress"] });
    expect(run.code, run.stderr).toBe(3);
    const lines = byLine(results);
    expect(lines.get(2)).toMatchObject({ status: "assigned", userId: byName.users[0]!.id });
    expect(lines.get(3)).toMatchObject({ status: "assigned", userId: byName.users[5]!.id });
    expect(lines.get(4)).toMatchObject({ status: "assigned", userId: byName.users[10]!.id });
    expect(lines.get(5)).toMatchObject({ status: "invalid", errorCode: "UNKNOWN_USER", userPrincipalName: "nobody@customer1.example" });
    expect(lines.get(5)!.errorMessage).toContain("nobody@customer1.example");
    expect(lines.get(6)).toMatchObject({ status: "assigned" });

    const counters = await control(emulator, "counters");
    expect(counters.requests.byCustomer[byName.id].users).toBe(3); // every page, once
    expect(counters.requests.byCustomer[byId.id].users ?? 0).toBe(0); // ids need no paging
    expect(counters.requests.byEndpoint.licenseUpdates).toBe(4);
    const updated = (await requestLog(emulator)).filter((e) => e.endpoint === "licenseUpdates").map((e) => e.userId);
    expect(updated.sort()).toEqual([byName.users[0]!.id, byName.users[5]!.id, byName.users[10]!.id, byId.users[0]!.id].sort());
    for (const n of [0, 5, 10]) {
      expect((await userIn(emulator, byName.id, byName.users[n]!.id)).licenses).toEqual([{ skuId: SKU.powerBiPro, excludedPlans: [] }]);
    }
  });

  it("pages each customer's users once when many customers use names (lookups ahead included)", async () => {
    const customers = [1, 2, 3, 4, 5, 6, 7].map((i) => customer(i, 5, { powerBiPro: 10 }));
    emulator = await startTestEmulator({ state: state(customers), maxPageSize: 2 }); // 5 users: 3 pages
    const rows = customers.flatMap((c) => c.users.map((u) => [c.id, u.userPrincipalName, "Power BI Pro"]));
    const { run, results } = await cliAgainst(emulator, roster(rows, "customerId,userPrincipalName,sku"), { args: ["--no-progress", "--concurrency", "4"] });
    expect(run.code, run.stderr).toBe(0);
    expect(results.filter((r) => r.status === "assigned")).toHaveLength(rows.length);
    const counters = await control(emulator, "counters");
    for (const c of customers) expect(counters.requests.byCustomer[c.id].users, c.id).toBe(3);
  });

  it("reads the upn alias column too", async () => {
    const c1 = customer(1, 2, { powerBiPro: 20 });
    emulator = await startTestEmulator({ state: state([c1]) });
    const { run, results } = await cliAgainst(emulator, roster([[c1.id, "USER2@Customer1.Example", "Power BI Pro"]], "customer,Upn,license"), {
      args: ["--no-progress"],
    });
    expect(run.code, run.stderr).toBe(0);
    expect(results[0]).toMatchObject({ status: "assigned", userId: c1.users[1]!.id });
  });
});

describe("excluded plans and removal", () => {
  it("sends excluded plans given by service name as plan ids, and makes an unknown plan invalid UNKNOWN_PLAN listing the SKU's plans", async () => {
    const c1 = customer(1, 4, { powerBiPro: 10, e3: 10 });
    emulator = await startTestEmulator({ state: state([c1]) });
    const [u1, u2, u3, u4] = c1.users.map((u) => u.id);
    const rows = [
      [c1.id, u1!, "ENTERPRISEPACK", "teams1", "assign"], // by service name, any case
      [c1.id, u2!, "ENTERPRISEPACK", `TEAMS1;${PLAN.exchange}`, "assign"], // by name and by id
      [c1.id, u3!, "ENTERPRISEPACK", "NO_SUCH_PLAN", "assign"],
      [c1.id, u4!, "Power BI Pro", "BI_AZURE_P2", ""],
    ];
    const { run, results } = await cliAgainst(emulator, roster(rows, "customerId,userId,sku,excludedPlans,action"), { args: ["--no-progress"] });
    expect(run.code, run.stderr).toBe(3);
    const lines = byLine(results);
    expect(lines.get(2)!.status).toBe("assigned");
    expect(lines.get(3)!.status).toBe("assigned");
    expect(lines.get(5)!.status).toBe("assigned");
    expect(lines.get(4)).toMatchObject({ status: "invalid", errorCode: "UNKNOWN_PLAN" });
    const message = lines.get(4)!.errorMessage!;
    expect(message).toContain("NO_SUCH_PLAN");
    for (const listed of ["EXCHANGE_S_ENTERPRISE", "TEAMS1", PLAN.teams, PLAN.exchange]) expect(message).toContain(listed);

    expect((await userIn(emulator, c1.id, u1!)).licenses).toEqual([{ skuId: SKU.e3, excludedPlans: [PLAN.teams] }]);
    expect((await userIn(emulator, c1.id, u2!)).licenses[0].excludedPlans.sort()).toEqual([PLAN.teams, PLAN.exchange].sort());
    expect((await userIn(emulator, c1.id, u3!)).licenses).toEqual([]);
    expect((await userIn(emulator, c1.id, u4!)).licenses).toEqual([{ skuId: SKU.powerBiPro, excludedPlans: [PLAN.powerBi] }]);
    expect((await control(emulator, "counters")).requests.byEndpoint.licenseUpdates).toBe(3); // nothing sent for the invalid row
  });

  it("takes a license away with action=remove, in the same request as the user's assignments of that license group", async () => {
    const c1 = customer(1, 3, { powerBiPro: 10, e3: 10, minecraft: 10 });
    const [u1, u2, u3] = c1.users;
    u1!.licenses = [{ skuId: SKU.powerBiPro, excludedPlans: [] }, { skuId: SKU.minecraft, excludedPlans: [] }];
    u2!.licenses = [{ skuId: SKU.powerBiPro, excludedPlans: [] }];
    c1.subscribedSkus.find((s) => s.productSku.id === SKU.powerBiPro)!.consumedUnits = 2;
    c1.subscribedSkus.find((s) => s.productSku.id === SKU.minecraft)!.consumedUnits = 1;
    emulator = await startTestEmulator({ state: state([c1]) });
    const rows = [
      [c1.id, u1!.id, "Power BI Pro", "remove"], // group1: with the E3 assignment below
      [c1.id, u3!.id, "Power BI Pro", "assign"],
      [c1.id, u1!.id, "ENTERPRISEPACK", "assign"],
      [c1.id, u1!.id, SKU.minecraft, "REMOVE"], // group2: a request of its own
      [c1.id, u2!.id, "POWER_BI_PRO", "remove"], // a removal alone
    ];
    const { run, results } = await cliAgainst(emulator, roster(rows), { args: ["--no-progress"] });
    expect(run.code, run.stderr).toBe(0);
    const lines = byLine(results);
    expect(lines.get(2)).toMatchObject({ status: "removed", action: "remove", httpStatus: "201", skuId: SKU.powerBiPro, licenseGroup: "group1" });
    expect(lines.get(3)).toMatchObject({ status: "assigned" });
    expect(lines.get(4)).toMatchObject({ status: "assigned", licenseGroup: "group1" });
    expect(lines.get(5)).toMatchObject({ status: "removed", licenseGroup: "group2" });
    expect(lines.get(6)).toMatchObject({ status: "removed" });
    expect(lines.get(2)!.requestId).toBe(lines.get(4)!.requestId); // one request: remove Power BI, assign E3
    expect(lines.get(5)!.requestId).not.toBe(lines.get(2)!.requestId); // license groups never mix
    expect(new Set([2, 3, 5, 6].map((n) => lines.get(n)!.requestId)).size).toBe(4);

    const counters = await control(emulator, "counters");
    expect(counters.requests.byEndpoint.licenseUpdates).toBe(4);
    expect(counters.licensesRemoved).toBe(3);
    expect(counters.licensesAssigned).toBe(2);
    expect((await userIn(emulator, c1.id, u1!.id)).licenses).toEqual([{ skuId: SKU.e3, excludedPlans: [] }]);
    expect((await userIn(emulator, c1.id, u2!.id)).licenses).toEqual([]);
    const current = await control(emulator, "state");
    const consumed = (id: string) => current.customers[0].subscribedSkus.find((s: any) => s.productSku.id === id).consumedUnits;
    expect([consumed(SKU.powerBiPro), consumed(SKU.e3), consumed(SKU.minecraft)]).toEqual([1, 1, 0]);
  });
});
