// The limiter shapes beside the token bucket: fixed and sliding windows, refused calls that accrue,
// Retry-After that says the truth, more (pessimistic) or less (optimistic), as seconds, an
// HTTP-date or not at all. Over HTTP, with an injected clock, so nothing sleeps.
import { afterEach, describe, expect, it } from "vitest";
import { parseRateLimit, parseRetryAfterMode, startEmulator, type EmulatorOptions, type RunningEmulator } from "../../dist/emulator/server.js";
import { IDS, control, demoState, get } from "../support/emulator-http.js";

let emulator: RunningEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

// A whole minute since the epoch: fixed windows start on multiples of their length.
let clock = Date.parse("2026-01-01T00:00:00Z");
const now = () => clock;
const skus = (customerId: string) => `/v1/customers/${customerId}/subscribedskus`;
const start = (options: Omit<EmulatorOptions, "state" | "now">) => startEmulator({ state: demoState(), now, ...options }).then((e) => (emulator = e));
const statuses = async (count: number, customer = IDS.contoso): Promise<number[]> => {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push((await get(emulator!, skus(customer))).status);
  return out;
};

describe("limiter shapes", () => {
  it("fixed window: the limit per window, then 429 until the next window starts, whatever the burst before", async () => {
    clock = Date.parse("2026-01-01T00:00:00Z");
    await start({ rateLimit: { perCustomer: { kind: "fixed-window", limit: 3, windowSeconds: 10 } } });
    clock += 7_200; // 2.8 s before the window ends
    expect(await statuses(3)).toEqual([200, 200, 200]);
    const refused = await get(emulator!, skus(IDS.contoso));
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("3");
    clock += 2_800;
    expect(await statuses(4)).toEqual([200, 200, 200, 429]);
  });

  it("sliding window: at most the limit in any window ending now", async () => {
    clock = Date.parse("2026-01-01T00:00:00Z");
    await start({ rateLimit: { perCustomer: { kind: "sliding-window", limit: 2, windowSeconds: 60 } } });
    expect(await statuses(1)).toEqual([200]);
    clock += 30_000;
    expect(await statuses(1)).toEqual([200]);
    const refused = await get(emulator!, skus(IDS.contoso));
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("30"); // the first call leaves the window then
    clock += 30_000;
    expect(await statuses(2)).toEqual([200, 429]); // one slot freed, the second call still in the window
  });

  it("refused calls accrue when asked: knocking during the lockout prolongs it", async () => {
    clock = Date.parse("2026-01-01T00:00:00Z");
    await start({ rateLimit: { perCustomer: { kind: "sliding-window", limit: 2, windowSeconds: 10 } }, throttling: { accrueRefused: true } });
    expect(await statuses(3)).toEqual([200, 200, 429]);
    clock += 10_000; // the two admitted calls left the window; the refused one (at the same time) too
    expect(await statuses(1)).toEqual([200]);
    clock += 5_000;
    expect(await statuses(2)).toEqual([200, 429]); // the refused call counts: 3 in the window
    clock += 5_000;
    expect(await statuses(1)).toEqual([429]); // still 2 in the last 10 s: the call at +15 s and the refused one
  });

  it("without accrual, refused calls take nothing", async () => {
    clock = Date.parse("2026-01-01T00:00:00Z");
    await start({ rateLimit: { perCustomer: { ratePerSecond: 1, burst: 1 } } });
    expect(await statuses(5)).toEqual([200, 429, 429, 429, 429]);
    clock += 1_000;
    expect(await statuses(1)).toEqual([200]);
  });

  it("token bucket with accrual: each refusal is a debt paid back before the next call passes", async () => {
    clock = Date.parse("2026-01-01T00:00:00Z");
    await start({ rateLimit: { perCustomer: { ratePerSecond: 1, burst: 1 } }, throttling: { accrueRefused: true } });
    expect(await statuses(3)).toEqual([200, 429, 429]);
    clock += 1_000;
    const refused = await get(emulator!, skus(IDS.contoso));
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("2");
    clock += 3_000; // the debt paid back, then one token
    expect(await statuses(1)).toEqual([200]);
  });

  it("per partner: the customers share one window", async () => {
    clock = Date.parse("2026-01-01T00:00:00Z");
    await start({ rateLimit: { perPartner: { kind: "fixed-window", limit: 2, windowSeconds: 1 } } });
    expect([...(await statuses(1, IDS.contoso)), ...(await statuses(1, IDS.fabrikam)), ...(await statuses(1, IDS.northwind))]).toEqual([200, 200, 429]);
    expect((await control(emulator!, "counters")).json.throttled).toEqual({ total: 1, partner: 1, customer: 0 });
  });
});

describe("Retry-After modes and shapes", () => {
  const refusedAfterOne = async (options: Omit<EmulatorOptions, "state" | "now">) => {
    clock = Date.parse("2026-01-01T00:00:00Z");
    await start(options);
    expect(await statuses(1)).toEqual([200]);
    const refused = await get(emulator!, skus(IDS.contoso));
    expect(refused.status).toBe(429);
    return refused;
  };
  const oneInThreeSeconds = { perCustomer: { kind: "fixed-window" as const, limit: 1, windowSeconds: 3 } };

  it("exact: the whole seconds until a call passes", async () => {
    expect((await refusedAfterOne({ rateLimit: oneInThreeSeconds })).headers.get("retry-after")).toBe("3");
  });

  it("pessimistic: at least the seconds given, though a call would pass sooner", async () => {
    const refused = await refusedAfterOne({ rateLimit: oneInThreeSeconds, throttling: { retryAfter: "pessimistic", retryAfterSeconds: 5 } });
    expect(refused.headers.get("retry-after")).toBe("5");
    expect(refused.json).toEqual({ statusCode: 429, message: "Rate limit is exceeded. Try again in 5 seconds." });
    clock += 3_000;
    expect(await statuses(1)).toEqual([200]);
  });

  it("optimistic: at most the seconds given; a retry then is refused again", async () => {
    const refused = await refusedAfterOne({ rateLimit: oneInThreeSeconds, throttling: { retryAfter: "optimistic", retryAfterSeconds: 1 } });
    expect(refused.headers.get("retry-after")).toBe("1");
    clock += 1_000;
    expect(await statuses(1)).toEqual([429]);
  });

  it("as an HTTP-date", async () => {
    const refused = await refusedAfterOne({ rateLimit: oneInThreeSeconds, throttling: { retryAfterFormat: "http-date" } });
    expect(refused.headers.get("retry-after")).toBe(new Date(clock + 3_000).toUTCString());
    const log = (await control(emulator!, "log")).json.entries;
    expect(log.at(-1)).toMatchObject({ status: 429, retryAfterSeconds: 3 });
  });

  it("missing: no Retry-After header at all", async () => {
    const refused = await refusedAfterOne({ rateLimit: oneInThreeSeconds, throttling: { retryAfterFormat: "missing" } });
    expect(refused.headers.get("retry-after")).toBeNull();
  });

  it("gateway-html: no Retry-After and a gateway's HTML page for a body, even with a BOM set", async () => {
    const refused = await refusedAfterOne({ rateLimit: oneInThreeSeconds, bom: true, throttling: { retryAfterFormat: "gateway-html" } });
    expect(refused.headers.get("retry-after")).toBeNull();
    expect(refused.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(refused.text).toMatch(/^<!DOCTYPE html>\n<html>.*Too Many Requests/);
    expect(refused.json).toBeUndefined();
    const log = (await control(emulator!, "log")).json.entries;
    expect(log.at(-1)).toMatchObject({ status: 429, retryAfterSeconds: null });
  });

  it("set at run time through /_emulator/config, and shown there", async () => {
    clock = Date.parse("2026-01-01T00:00:00Z");
    await start({});
    const config = await control(emulator!, "config", { rateLimit: "customer=fixed:1/3s", throttling: { retryAfter: "pessimistic", retryAfterSeconds: 7, accrueRefused: true } });
    expect(config.status).toBe(200);
    expect(config.json.rateLimit).toEqual(oneInThreeSeconds);
    expect(config.json.throttling).toEqual({ retryAfter: "pessimistic", retryAfterSeconds: 7, accrueRefused: true });
    expect(await statuses(1)).toEqual([200]);
    expect((await get(emulator!, skus(IDS.contoso))).headers.get("retry-after")).toBe("7");
    expect((await control(emulator!, "config", { rateLimit: { perCustomer: { kind: "fixed-window", limit: 0, windowSeconds: 1 } } })).status).toBe(400);
  });
});

describe("throttling from the state file", () => {
  it("applies the state's limits and Retry-After settings; the options override them", async () => {
    clock = Date.parse("2026-01-01T00:00:00Z");
    const withThrottling = { ...demoState(), throttling: { rateLimit: "customer=fixed:1/3s", retryAfter: "pessimistic" as const, retryAfterSeconds: 9 } };
    emulator = await startEmulator({ state: withThrottling, now });
    expect(await statuses(1)).toEqual([200]);
    expect((await get(emulator, skus(IDS.contoso))).headers.get("retry-after")).toBe("9");
    await emulator.close();
    emulator = await startEmulator({ state: withThrottling, now, rateLimit: { perCustomer: { kind: "fixed-window", limit: 2, windowSeconds: 3 } }, throttling: { retryAfter: "exact" } });
    expect(await statuses(3)).toEqual([200, 200, 429]);
    expect((await get(emulator, skus(IDS.contoso))).headers.get("retry-after")).toBe("3");
  });

  it("refuses a state whose throttling is not valid", async () => {
    await expect(startEmulator({ state: { ...demoState(), throttling: { rateLimit: "customer=fixed:10/soon" } }, now })).rejects.toThrow(/throttling.rateLimit/);
    await expect(startEmulator({ state: { ...demoState(), throttling: { retryAfter: "sometimes" } } as never, now })).rejects.toThrow(/invalid emulator state/);
  });
});

describe("limiter specs", () => {
  it("reads windows with their length in seconds or minutes, and buckets with or without a prefix", () => {
    expect(parseRateLimit("customer=fixed:10/1s,partner=sliding:600/2m")).toEqual({
      perCustomer: { kind: "fixed-window", limit: 10, windowSeconds: 1 },
      perPartner: { kind: "sliding-window", limit: 600, windowSeconds: 120 },
    });
    expect(parseRateLimit("customer=bucket:10:1")).toEqual({ perCustomer: { ratePerSecond: 10, burst: 1 } });
    expect(parseRateLimit("customer=fixed:0/1s")).toMatchObject({ error: expect.stringContaining("at least 1") });
    expect(parseRateLimit("customer=fixed:10/soon")).toMatchObject({ error: expect.stringContaining("duration") });
  });

  it("reads Retry-After modes", () => {
    expect(parseRetryAfterMode("exact")).toEqual({ retryAfter: "exact" });
    expect(parseRetryAfterMode("pessimistic:5")).toEqual({ retryAfter: "pessimistic", retryAfterSeconds: 5 });
    expect(parseRetryAfterMode("optimistic")).toMatchObject({ error: expect.stringContaining("optimistic:") });
    expect(parseRetryAfterMode("sometimes")).toMatchObject({ error: expect.stringContaining("exact") });
  });
});
