// Subscribed SKUs: the group1-only default, both groups on request, the documented seat formulas,
// and seat counts that follow assignments and removals, down to the seed's 60012 body.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../dist/emulator/server.js";
import { IDS, SKU, assign, control, get, licenseUpdatesPath, post, remove, skuCounts, start } from "../support/emulator-http.js";

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await start();
});
afterAll(() => emulator.close());
beforeEach(async () => {
  await control(emulator, "reset", {});
});

const skusPath = (customerId: string, query = "") => `/v1/customers/${customerId}/subscribedskus${query}`;
const ids = (answer: { json: { items: { productSku: { id: string } }[] } }) => answer.json.items.map((i) => i.productSku.id);

describe("GET subscribedskus", () => {
  it("returns only group1 SKUs when licenseGroupIds is absent", async () => {
    const answer = await get(emulator, skusPath(IDS.contoso));
    expect(answer.status).toBe(200);
    expect(ids(answer)).toEqual([SKU.powerBiPro, SKU.e3, SKU.exchangePlan1]);
    expect(answer.json.totalCount).toBe(3);
    expect(answer.json.attributes).toEqual({ objectType: "Collection" });
    expect(answer.json.items.every((i: { productSku: { licenseGroupId: string } }) => i.productSku.licenseGroupId === "group1")).toBe(true);
  });

  it("returns both groups when both are asked for, group ids in lower case", async () => {
    const answer = await get(emulator, skusPath(IDS.contoso, "?licenseGroupIds=Group1&licenseGroupIds=Group2"));
    expect(ids(answer)).toEqual([SKU.powerBiPro, SKU.e3, SKU.exchangePlan1, SKU.minecraftFaculty]);
    const minecraft = answer.json.items[3];
    expect(minecraft.productSku).toEqual({
      id: SKU.minecraftFaculty,
      name: "Minecraft Education Edition Faculty",
      skuPartNumber: "CFQ7TTC0K5DR/0002",
      targetType: "User",
      licenseGroupId: "group2",
    });
    expect(minecraft.servicePlans).toEqual([]);
  });

  it("matches group values case-insensitively and can ask for group2 alone", async () => {
    expect(ids(await get(emulator, skusPath(IDS.contoso, "?licenseGroupIds=group2")))).toEqual([SKU.minecraftFaculty]);
    expect(ids(await get(emulator, skusPath(IDS.contoso, "?LICENSEGROUPIDS=GROUP2")))).toEqual([SKU.minecraftFaculty]);
  });

  it("refuses an unknown license group with 400 800002", async () => {
    const answer = await get(emulator, skusPath(IDS.contoso, "?licenseGroupIds=Group3"));
    expect(answer.status).toBe(400);
    expect(answer.json.code).toBe(800002);
  });

  it("matches the fixed words of the path and the ids case-insensitively", async () => {
    const answer = await get(emulator, `/V1/Customers/${IDS.contoso.toUpperCase()}/SubscribedSkus`);
    expect(answer.status).toBe(200);
    expect(answer.json.totalCount).toBe(3);
  });

  it("reports counts that satisfy the documented formulas", async () => {
    const answer = await get(emulator, skusPath(IDS.contoso, "?licenseGroupIds=Group1&licenseGroupIds=Group2"));
    for (const item of answer.json.items) {
      expect(item.totalUnits).toBe(item.activeUnits + item.warningUnits);
      expect(item.availableUnits).toBe(item.totalUnits - item.consumedUnits);
      expect(item.attributes).toEqual({ objectType: "SubscribedSku" });
      expect(item.capabilityStatus).toBe("Enabled");
    }
    // 25 seats; 12 consumed (2 listed holders + 10 the state does not list).
    const powerBi = answer.json.items[0];
    expect(powerBi).toMatchObject({ activeUnits: 25, totalUnits: 25, consumedUnits: 12, availableUnits: 13, suspendedUnits: 0 });
    expect(powerBi.servicePlans.map((p: { serviceName: string }) => p.serviceName)).toEqual(["EXCHANGE_S_FOUNDATION", "BI_AZURE_P2"]);
  });
});

describe("seats follow assignments", () => {
  it("consumes a seat on assign and gives it back on remove", async () => {
    const user = IDS.contosoUser(1);
    expect(await skuCounts(emulator, IDS.contoso, SKU.powerBiPro)).toMatchObject({ consumedUnits: 12, availableUnits: 13 });
    expect((await post(emulator, licenseUpdatesPath(IDS.contoso, user), assign(SKU.powerBiPro))).status).toBe(201);
    expect(await skuCounts(emulator, IDS.contoso, SKU.powerBiPro)).toMatchObject({ consumedUnits: 13, availableUnits: 12 });
    expect((await post(emulator, licenseUpdatesPath(IDS.contoso, user), remove(SKU.powerBiPro))).status).toBe(201);
    expect(await skuCounts(emulator, IDS.contoso, SKU.powerBiPro)).toMatchObject({ consumedUnits: 12, availableUnits: 13 });
  });

  it("answers the seed's exact 60012 body when the last seat is gone, and never goes below zero", async () => {
    // Fabrikam: 5 Power BI Pro seats, 3 held.
    expect((await post(emulator, licenseUpdatesPath(IDS.fabrikam, IDS.fabrikamUser(4)), assign(SKU.powerBiPro))).status).toBe(201);
    expect((await post(emulator, licenseUpdatesPath(IDS.fabrikam, IDS.fabrikamUser(5)), assign(SKU.powerBiPro))).status).toBe(201);
    expect(await skuCounts(emulator, IDS.fabrikam, SKU.powerBiPro)).toMatchObject({ consumedUnits: 5, availableUnits: 0 });

    const refused = await post(emulator, licenseUpdatesPath(IDS.fabrikam, IDS.fabrikamUser(6)), assign(SKU.powerBiPro));
    expect(refused.status).toBe(400);
    expect(refused.json).toEqual({
      code: 60012,
      description: "We are sorry, it looks like you have run out of licenses. Buy more licenses, and then try again.",
      data: [
        `LicenseQuotaExceededException : Subscription with Account ${IDS.fabrikam} and SKU ${SKU.powerBiPro} does not have any available licenses left.`,
      ],
      source: "PartnerFD",
    });
    expect(await skuCounts(emulator, IDS.fabrikam, SKU.powerBiPro)).toMatchObject({ consumedUnits: 5, availableUnits: 0 });
  });

  it("refuses a request with several SKUs as a whole, naming the first SKU without seats", async () => {
    await post(emulator, licenseUpdatesPath(IDS.fabrikam, IDS.fabrikamUser(4)), assign(SKU.powerBiPro));
    await post(emulator, licenseUpdatesPath(IDS.fabrikam, IDS.fabrikamUser(5)), assign(SKU.powerBiPro));
    const user = IDS.fabrikamUser(6);
    const refused = await post(emulator, licenseUpdatesPath(IDS.fabrikam, user), assign(SKU.e3, SKU.powerBiPro));
    expect(refused.status).toBe(400);
    expect(refused.json.code).toBe(60012);
    expect(refused.json.data[0]).toContain(`SKU ${SKU.powerBiPro} does not`);
    // Nothing applied: E3 not consumed, the user holds nothing.
    expect(await skuCounts(emulator, IDS.fabrikam, SKU.e3)).toMatchObject({ consumedUnits: 0, availableUnits: 15 });
    const licenses = await get(emulator, `/v1/customers/${IDS.fabrikam}/users/${user}/licenses`);
    expect(licenses.json.items).toEqual([]);
  });

  it("consumes no seat for a SKU already held, and frees none for one not held", async () => {
    // Contoso user 18 holds Power BI Pro; user 13 holds nothing.
    const before = await skuCounts(emulator, IDS.contoso, SKU.powerBiPro);
    const again = await post(emulator, licenseUpdatesPath(IDS.contoso, IDS.contosoUser(18)), assign(SKU.powerBiPro));
    expect(again.status).toBe(201);
    const notHeld = await post(emulator, licenseUpdatesPath(IDS.contoso, IDS.contosoUser(13)), remove(SKU.powerBiPro));
    expect(notHeld.status).toBe(201);
    expect(await skuCounts(emulator, IDS.contoso, SKU.powerBiPro)).toEqual(before);
  });
});
