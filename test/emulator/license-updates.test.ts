// POST licenseupdates: body binding (camelCase and PascalCase), the documented 201 body, assign and
// remove in one request, excluded plans, one license group per request, usage location, and the
// 400s for unknown SKUs and malformed input. Licenses GET shows the result.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../dist/emulator/server.js";
import { IDS, PLAN, SKU, assign, control, get, licenseUpdatesPath, post, remove, skuCounts, start } from "../support/emulator-http.js";

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await start();
});
afterAll(() => emulator.close());
beforeEach(async () => {
  await control(emulator, "reset", {});
});

const licensesPath = (customerId: string, userId: string, query = "") =>
  `/v1/customers/${customerId}/users/${userId}/licenses${query}`;
const heldSkus = async (customerId: string, userId: string) =>
  (await get(emulator, licensesPath(customerId, userId, "?licenseGroupIds=Group1&licenseGroupIds=Group2"))).json.items.map(
    (l: { productSku: { id: string } }) => l.productSku.id,
  );

describe("POST licenseupdates", () => {
  it("accepts the docs' PascalCase body and answers 201 with the documented LicenseUpdate", async () => {
    const user = IDS.contosoUser(1);
    const answer = await post(emulator, licenseUpdatesPath(IDS.contoso, user), {
      LicensesToAssign: [{ ExcludedPlans: null, SkuId: SKU.powerBiPro }],
      LicensesToRemove: null,
      LicenseWarnings: null,
      Attributes: { ObjectType: "LicenseUpdate" },
    });
    expect(answer.status).toBe(201);
    expect(answer.json).toEqual({
      licensesToAssign: [{ skuId: SKU.powerBiPro }],
      licenseWarnings: [],
      attributes: { objectType: "LicenseUpdate" },
    });
    expect(await heldSkus(IDS.contoso, user)).toEqual([SKU.powerBiPro]);
  });

  it("binds keys of any case (camelCase, lower case)", async () => {
    const user = IDS.contosoUser(2);
    const answer = await post(emulator, licenseUpdatesPath(IDS.contoso, user), {
      licensestoassign: [{ skuid: SKU.e3.toUpperCase(), excludedplans: [] }],
    });
    expect(answer.status).toBe(201);
    expect(await heldSkus(IDS.contoso, user)).toEqual([SKU.e3]);
  });

  it("assigns and removes in one request", async () => {
    // Contoso user 19 holds Power BI Pro and Exchange Online (Plan 1).
    const user = IDS.contosoUser(19);
    const answer = await post(emulator, licenseUpdatesPath(IDS.contoso, user), {
      licensesToAssign: [{ skuId: SKU.e3, excludedPlans: null }],
      licensesToRemove: [SKU.exchangePlan1],
    });
    expect(answer.status).toBe(201);
    expect(answer.json.licensesToAssign).toEqual([{ skuId: SKU.e3 }]);
    expect(answer.json.licensesToRemove).toEqual([SKU.exchangePlan1]);
    expect(await heldSkus(IDS.contoso, user)).toEqual([SKU.powerBiPro, SKU.e3]);
    expect(await skuCounts(emulator, IDS.contoso, SKU.exchangePlan1)).toMatchObject({ consumedUnits: 0 });
  });

  it("leaves excluded plans off the license and refuses a plan that is not the SKU's", async () => {
    const user = IDS.contosoUser(4);
    const refused = await post(emulator, licenseUpdatesPath(IDS.contoso, user), {
      licensesToAssign: [{ skuId: SKU.e3, excludedPlans: [PLAN.biAzureP2] }],
    });
    expect(refused.status).toBe(400);
    expect(refused.json).toMatchObject({ code: 990003, source: "PartnerFD" });
    expect(await heldSkus(IDS.contoso, user)).toEqual([]);

    const answer = await post(emulator, licenseUpdatesPath(IDS.contoso, user), {
      licensesToAssign: [{ skuId: SKU.e3, excludedPlans: [PLAN.teams1] }],
    });
    expect(answer.status).toBe(201);
    const licenses = await get(emulator, licensesPath(IDS.contoso, user));
    const plans = licenses.json.items[0].servicePlans;
    expect(plans.map((p: { serviceName: string }) => p.serviceName)).toEqual([
      "EXCHANGE_S_ENTERPRISE",
      "SHAREPOINTENTERPRISE",
      "OFFICESUBSCRIPTION",
      "MCOSTANDARD",
    ]);
    expect(plans.every((p: { capabilityStatus: string }) => p.capabilityStatus === "Assigned")).toBe(true);
    expect(licenses.json.items[0].productSku).toEqual({
      id: SKU.e3,
      name: "Office 365 Enterprise E3",
      skuPartNumber: "ENTERPRISEPACK",
      licenseGroupId: "group1",
    });
    expect(licenses.json.items[0].attributes).toEqual({ objectType: "License" });
  });

  it("refuses a request mixing license groups and applies nothing", async () => {
    const user = IDS.contosoUser(5);
    const answer = await post(emulator, licenseUpdatesPath(IDS.contoso, user), assign(SKU.powerBiPro, SKU.minecraftFaculty));
    expect(answer.status).toBe(400);
    expect(answer.json.code).toBe(990001);
    expect(await heldSkus(IDS.contoso, user)).toEqual([]);
    // Each group on its own is fine.
    expect((await post(emulator, licenseUpdatesPath(IDS.contoso, user), assign(SKU.powerBiPro))).status).toBe(201);
    expect((await post(emulator, licenseUpdatesPath(IDS.contoso, user), assign(SKU.minecraftFaculty))).status).toBe(201);
    expect(await heldSkus(IDS.contoso, user)).toEqual([SKU.powerBiPro, SKU.minecraftFaculty]);
  });

  it("lists licenses by group: group1 by default, group2 on request", async () => {
    const user = IDS.contosoUser(5);
    await post(emulator, licenseUpdatesPath(IDS.contoso, user), assign(SKU.powerBiPro));
    await post(emulator, licenseUpdatesPath(IDS.contoso, user), assign(SKU.minecraftFaculty));
    const group1 = await get(emulator, licensesPath(IDS.contoso, user));
    expect(group1.json.items.map((l: { productSku: { id: string } }) => l.productSku.id)).toEqual([SKU.powerBiPro]);
    const group2 = await get(emulator, licensesPath(IDS.contoso, user, "?licenseGroupIds=Group2"));
    expect(group2.json.items.map((l: { productSku: { id: string } }) => l.productSku.id)).toEqual([SKU.minecraftFaculty]);
  });

  it("refuses an assignment to a user without a usage location, but lets a removal through", async () => {
    const user = IDS.contosoNoUsageLocation;
    const answer = await post(emulator, licenseUpdatesPath(IDS.contoso, user), assign(SKU.powerBiPro));
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({
      code: 990004,
      description: "License assignment cannot be done for user with invalid usage location.",
      data: [user],
      source: "PartnerFD",
    });
    expect((await post(emulator, licenseUpdatesPath(IDS.contoso, user), remove(SKU.powerBiPro))).status).toBe(201);
  });

  it("refuses a SKU the customer does not subscribe to", async () => {
    const answer = await post(emulator, licenseUpdatesPath(IDS.contoso, IDS.contosoUser(1)), assign("11111111-2222-3333-4444-555555555555"));
    expect(answer.status).toBe(400);
    expect(answer.json.code).toBe(990002);
  });

  it("refuses assigning and removing the same SKU in one request", async () => {
    const answer = await post(emulator, licenseUpdatesPath(IDS.contoso, IDS.contosoUser(1)), {
      licensesToAssign: [{ skuId: SKU.powerBiPro }],
      licensesToRemove: [SKU.powerBiPro],
    });
    expect(answer.status).toBe(400);
    expect(answer.json.code).toBe(990005);
  });

  it.each([
    ["not JSON", "{licensesToAssign:"],
    ["an array", "[]"],
    ["nothing to do", { licensesToAssign: null, licensesToRemove: null }],
    ["a skuId that is not a GUID", { licensesToAssign: [{ skuId: "POWER_BI_PRO" }] }],
    ["a service name in excludedPlans", { licensesToAssign: [{ skuId: SKU.e3, excludedPlans: ["TEAMS1"] }] }],
    ["licensesToAssign not a list", { licensesToAssign: { skuId: SKU.e3 } }],
    ["a removal that is not a GUID", { licensesToRemove: [{ skuId: SKU.e3 }] }],
  ])("refuses a malformed body (%s) with 400 800002", async (_name, body) => {
    const answer = await post(emulator, licenseUpdatesPath(IDS.contoso, IDS.contosoUser(1)), body);
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ code: 800002, source: "PartnerFD" });
    expect(answer.json.data).toHaveLength(1);
  });

  it("refuses malformed ids in the path with 400 800002", async () => {
    const badCustomer = await post(emulator, licenseUpdatesPath("not-a-guid", IDS.contosoUser(1)), assign(SKU.powerBiPro));
    expect(badCustomer.status).toBe(400);
    expect(badCustomer.json.code).toBe(800002);
    const badUser = await post(emulator, licenseUpdatesPath(IDS.contoso, "..%2F..%2Fetc"), assign(SKU.powerBiPro));
    expect(badUser.status).toBe(400);
    expect(badUser.json.code).toBe(800002);
  });

  it("answers 405 to a GET of licenseupdates and 404 to an unknown resource", async () => {
    const wrongMethod = await get(emulator, licenseUpdatesPath(IDS.contoso, IDS.contosoUser(1)));
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.json.code).toBe(990405);
    const unknown = await get(emulator, `/v1/customers/${IDS.contoso}/orders`);
    expect(unknown.status).toBe(404);
    expect(unknown.json.code).toBe(990404);
  });
});
