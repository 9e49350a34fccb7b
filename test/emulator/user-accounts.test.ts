// The emulator's customer and user-account routes: GET a customer with its company profile, PATCH a
// user's usage location, a user's licenses with their plans (an excluded plan is absent), and a
// held SKU re-assigned with other excluded plans taking them without a second seat.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../dist/emulator/server.js";
import { IDS, PLAN, SKU, TOKEN, assign, control, get, licenseUpdatesPath, newRequestId, post, skuCounts, start } from "../support/emulator-http.js";

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await start();
});
beforeEach(async () => {
  await control(emulator, "reset", {});
});
afterAll(() => emulator.close());

async function patch(path: string, body: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${emulator.url}${path}`, {
    method: "PATCH",
    headers: { authorization: `Bearer ${TOKEN.appUser}`, "content-type": "application/json", "ms-requestid": newRequestId() },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: JSON.parse((await response.text()).replace(/^\uFEFF/, "")) };
}

describe("GET customer", () => {
  it("answers the customer with its company profile", async () => {
    const answer = await get(emulator, `/v1/customers/${IDS.contoso}`);
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ id: IDS.contoso, companyProfile: { companyName: "Contoso Ltd" }, attributes: { objectType: "Customer" } });
  });
});

describe("PATCH user", () => {
  const path = `/v1/customers/${IDS.contoso}/users/${IDS.contosoNoUsageLocation}`;

  it("sets the usage location, answers 200 with the user, and lets licenses be assigned afterwards", async () => {
    const refused = await post(emulator, licenseUpdatesPath(IDS.contoso, IDS.contosoNoUsageLocation), assign(SKU.powerBiPro));
    expect(refused.status).toBe(400);
    const answer = await patch(path, { usageLocation: "us", attributes: { objectType: "CustomerUser" } });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ id: IDS.contosoNoUsageLocation, usageLocation: "US", attributes: { objectType: "CustomerUser" } });
    expect((await get(emulator, path)).json.usageLocation).toBe("US");
    expect((await post(emulator, licenseUpdatesPath(IDS.contoso, IDS.contosoNoUsageLocation), assign(SKU.powerBiPro))).status).toBe(201);
  });

  it("refuses a usage location that is not two letters, and reset() restores the file's", async () => {
    expect((await patch(path, { usageLocation: "USA", attributes: { objectType: "CustomerUser" } })).status).toBe(400);
    await patch(path, { usageLocation: "FR", attributes: { objectType: "CustomerUser" } });
    await control(emulator, "reset", {});
    expect((await get(emulator, path)).json.usageLocation ?? null).toBeNull();
  });
});

describe("user licenses and plan changes", () => {
  it("lists a held license's plans without the excluded ones, and a re-assign with other excluded plans changes them, no second seat", async () => {
    const user = IDS.contosoUser(1);
    const licensesPath = `/v1/customers/${IDS.contoso}/users/${user}/licenses?licenseGroupIds=Group1&licenseGroupIds=Group2`;
    const withoutTeams = { licensesToAssign: [{ skuId: SKU.e3, excludedPlans: [PLAN.teams1] }], licensesToRemove: null, attributes: { objectType: "LicenseUpdate" } };
    expect((await post(emulator, licenseUpdatesPath(IDS.contoso, user), withoutTeams)).status).toBe(201);
    const seats = (await skuCounts(emulator, IDS.contoso, SKU.e3)).consumedUnits;
    const plansOf = async (): Promise<string[]> => {
      const items = (await get(emulator, licensesPath)).json.items as { productSku: { id: string }; servicePlans: { id: string; capabilityStatus: string }[] }[];
      const e3 = items.find((item) => item.productSku.id === SKU.e3)!;
      expect(e3.servicePlans.every((plan) => plan.capabilityStatus === "Assigned")).toBe(true);
      return e3.servicePlans.map((plan) => plan.id).sort();
    };
    const without = await plansOf();
    expect(without).toContain(PLAN.exchangeEnterprise);
    expect(without).not.toContain(PLAN.teams1);
    expect((await post(emulator, licenseUpdatesPath(IDS.contoso, user), assign(SKU.e3))).status).toBe(201);
    expect(await plansOf()).toEqual([...without, PLAN.teams1].sort());
    expect((await skuCounts(emulator, IDS.contoso, SKU.e3)).consumedUnits).toBe(seats);
  });
});
