// Tokens and access, in the service's check order: 401 for a missing, unknown or expired token, the
// seed's exact 900316 and 900309 bodies, 401 900421 without MFA, then 404 60003 for an unknown
// customer, 403 900150 / 20002 where the partner lacks access, and 404 60002 for an unknown user.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type RunningEmulator } from "../../dist/emulator/server.js";
import { IDS, SKU, TOKEN, assign, demoState, get, licenseUpdatesPath, post, start } from "../support/emulator-http.js";

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await start();
});
afterAll(() => emulator.close());

const skus = (customerId: string) => `/v1/customers/${customerId}/subscribedskus`;

describe("bearer tokens", () => {
  it.each([
    ["missing", null],
    ["unknown", "no-such-token"],
    ["expired", TOKEN.expired],
  ])("answers 401 for a %s token", async (reason, token) => {
    const answer = await get(emulator, skus(IDS.contoso), { token });
    expect(answer.status).toBe(401);
    expect(answer.json).toMatchObject({ code: 990401, source: "PartnerFD" });
    expect(answer.json.description).toContain(reason === "unknown" ? "not valid" : reason === "missing" ? "no bearer" : "expired");
    expect(answer.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
  });

  it("answers an app-only token with the seed's exact 900316 body (400)", async () => {
    const answer = await post(emulator, licenseUpdatesPath(IDS.contoso, IDS.contosoUser(1)), assign(SKU.powerBiPro), {
      token: TOKEN.appOnly,
    });
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({
      code: 900316,
      description:
        "Partner token is not allowed in license management calls. Please call with Partner Access Token. To learn more, see https://learn.microsoft.com/partner-center/developer/enable-secure-app-model#get-access-token",
      source: "PartnerFD",
    });
  });

  it("answers a token blocked by conditional access with the seed's exact 900309 body (403)", async () => {
    const answer = await get(emulator, skus(IDS.contoso), { token: TOKEN.caBlocked });
    expect(answer.status).toBe(403);
    expect(answer.json).toEqual({
      code: 900309,
      description:
        "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance. Learn more at https://learn.microsoft.com/azure/active-directory/conditional-access/concept-conditional-access-users-groups.",
      source: "PartnerFD",
    });
  });

  it("answers a token without an MFA claim with 401 900421", async () => {
    const answer = await get(emulator, skus(IDS.contoso), { token: TOKEN.noMfa });
    expect(answer.status).toBe(401);
    expect(answer.json).toMatchObject({ code: 900421, source: "PartnerFD" });
  });

  it("checks the token before the customer exists", async () => {
    const answer = await get(emulator, skus("00000000-0000-4000-8000-000000000000"), { token: null });
    expect(answer.status).toBe(401);
  });

  it("expires a token by the injected clock", async () => {
    const state = demoState();
    state.accessTokens.push({ token: "short-lived", kind: "app+user", expiresAt: "2030-01-01T00:00:00Z" });
    let now = Date.parse("2029-12-31T23:59:59Z");
    const clocked = await startEmulator({ state, now: () => now });
    try {
      expect((await get(clocked, skus(IDS.contoso), { token: "short-lived" })).status).toBe(200);
      now += 1000;
      expect((await get(clocked, skus(IDS.contoso), { token: "short-lived" })).status).toBe(401);
    } finally {
      await clocked.close();
    }
  });
});

describe("customers, access and users", () => {
  it("answers 404 60003 for an unknown customer", async () => {
    const answer = await get(emulator, skus("00000000-0000-4000-8000-000000000000"));
    expect(answer.status).toBe(404);
    expect(answer.json).toMatchObject({ code: 60003, source: "PartnerFD" });
  });

  it("answers 403 900150 where the partner lacks a GDAP role, on every route", async () => {
    for (const path of [
      skus(IDS.northwind),
      `/v1/customers/${IDS.northwind}/users`,
      `/v1/customers/${IDS.northwind}/users/${IDS.northwindUser(1)}/licenses`,
    ]) {
      const answer = await get(emulator, path);
      expect(answer.status).toBe(403);
      expect(answer.json).toEqual({
        code: 900150,
        description: "The supplied role does not have the rights to perform the requested operation",
        data: [],
        source: "PartnerFD",
      });
    }
    const write = await post(emulator, licenseUpdatesPath(IDS.northwind, IDS.northwindUser(1)), assign(SKU.powerBiPro));
    expect(write.status).toBe(403);
    expect(write.json.code).toBe(900150);
  });

  it("answers 403 20002 where there is no relationship", async () => {
    const answer = await get(emulator, skus(IDS.woodgrove));
    expect(answer.status).toBe(403);
    expect(answer.json).toMatchObject({ code: 20002, source: "PartnerFD" });
  });

  it("answers 404 60002 for an unknown user, on reads and writes", async () => {
    const unknownUser = "5d0b8ea1-0000-4000-8000-00000000dead";
    const read = await get(emulator, `/v1/customers/${IDS.contoso}/users/${unknownUser}`);
    expect(read.status).toBe(404);
    expect(read.json).toMatchObject({ code: 60002, source: "PartnerFD" });
    const write = await post(emulator, licenseUpdatesPath(IDS.contoso, unknownUser), assign(SKU.powerBiPro));
    expect(write.status).toBe(404);
    expect(write.json.code).toBe(60002);
    // A user of another customer is unknown here too.
    const elsewhere = await get(emulator, `/v1/customers/${IDS.contoso}/users/${IDS.fabrikamUser(1)}`);
    expect(elsewhere.status).toBe(404);
  });
});
