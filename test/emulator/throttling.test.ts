// Throttling: a token bucket per customer and one per partner; over either, 429 with an integer
// Retry-After derived from the bucket and the documented 429 body. Time comes from an injected
// clock, so nothing sleeps.
import { afterEach, describe, expect, it } from "vitest";
import { parseRateLimit, startEmulator, type RunningEmulator } from "../../dist/emulator/server.js";
import { IDS, control, demoState, get } from "../support/emulator-http.js";

let emulator: RunningEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

let clock = Date.parse("2026-01-01T00:00:00Z");
const now = () => clock;
const skus = (customerId: string) => `/v1/customers/${customerId}/subscribedskus`;

describe("throttling", () => {
  it("answers 429 with Retry-After from the customer's bucket, and admits again once it refilled", async () => {
    emulator = await startEmulator({ state: demoState(), now, rateLimit: { perCustomer: { ratePerSecond: 0.25 } } });
    expect((await get(emulator, skus(IDS.contoso))).status).toBe(200);
    const throttled = await get(emulator, skus(IDS.contoso));
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get("retry-after")).toBe("4");
    expect(throttled.json).toEqual({ statusCode: 429, message: "Rate limit is exceeded. Try again in 4 seconds." });
    expect(throttled.headers.get("ms-requestid")).toBeTruthy();

    // Another customer has its own bucket.
    expect((await get(emulator, skus(IDS.fabrikam))).status).toBe(200);

    clock += 3000;
    const later = await get(emulator, skus(IDS.contoso));
    expect(later.status).toBe(429);
    expect(later.headers.get("retry-after")).toBe("1");
    clock += 1000;
    expect((await get(emulator, skus(IDS.contoso))).status).toBe(200);
  });

  it("gives a Retry-After of at least 1 even when the wait is a few milliseconds", async () => {
    emulator = await startEmulator({ state: demoState(), now, rateLimit: { perCustomer: { ratePerSecond: 100, burst: 1 } } });
    expect((await get(emulator, skus(IDS.contoso))).status).toBe(200);
    const throttled = await get(emulator, skus(IDS.contoso));
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get("retry-after")).toBe("1");
  });

  it("shares the partner's bucket across customers, with its burst", async () => {
    emulator = await startEmulator({ state: demoState(), now, rateLimit: { perPartner: { ratePerSecond: 1, burst: 2 } } });
    expect((await get(emulator, skus(IDS.contoso))).status).toBe(200);
    expect((await get(emulator, skus(IDS.fabrikam))).status).toBe(200);
    const third = await get(emulator, `/v1/customers/${IDS.contoso}/users`);
    expect(third.status).toBe(429);
    expect(third.headers.get("retry-after")).toBe("1");
    const counters = (await control(emulator, "counters")).json;
    expect(counters.throttled).toEqual({ total: 1, partner: 1, customer: 0 });
    const log = (await control(emulator, "log")).json.entries;
    expect(log.at(-1)).toMatchObject({ status: 429, retryAfterSeconds: 1, endpoint: "users" });
  });

  it("checks the token before throttling: a refused token takes no token from the bucket", async () => {
    emulator = await startEmulator({ state: demoState(), now, rateLimit: { perCustomer: { ratePerSecond: 0.5 } } });
    expect((await get(emulator, skus(IDS.contoso), { token: "bogus" })).status).toBe(401);
    expect((await get(emulator, skus(IDS.contoso))).status).toBe(200);
  });

  it("takes a rate limit at run time through /_emulator/config", async () => {
    emulator = await startEmulator({ state: demoState(), now });
    for (let i = 0; i < 5; i += 1) expect((await get(emulator, skus(IDS.contoso))).status).toBe(200);
    const config = await control(emulator, "config", { rateLimit: "customer=0.5" });
    expect(config.status).toBe(200);
    expect(config.json.rateLimit).toEqual({ perCustomer: { ratePerSecond: 0.5 } });
    expect((await get(emulator, skus(IDS.contoso))).status).toBe(200);
    expect((await get(emulator, skus(IDS.contoso))).headers.get("retry-after")).toBe("2");
    expect((await control(emulator, "config", { rateLimit: null })).status).toBe(200);
    expect((await get(emulator, skus(IDS.contoso))).status).toBe(200);
  });
});

describe("parseRateLimit", () => {
  it("reads rates and bursts per scope", () => {
    expect(parseRateLimit("customer=10,partner=40")).toEqual({ perCustomer: { ratePerSecond: 10 }, perPartner: { ratePerSecond: 40 } });
    expect(parseRateLimit("customer=10:20")).toEqual({ perCustomer: { ratePerSecond: 10, burst: 20 } });
    expect(parseRateLimit(" Partner = 0.5 ")).toEqual({ perPartner: { ratePerSecond: 0.5 } });
    expect(parseRateLimit("off")).toEqual({});
  });

  it.each(["", "tenant=5", "customer=0", "customer=abc", "customer=5:0", "customer=1,customer=2", "customer"])(
    "refuses %j",
    (spec) => {
      expect(parseRateLimit(spec)).toHaveProperty("error");
    },
  );
});
