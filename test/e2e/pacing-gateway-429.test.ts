// A 429 with a gateway's HTML page and no Retry-After, from the emulator itself
// (--retry-after-format gateway-html): the runner's client backs off toward tens of seconds
// (5, 10, 20, 40, 60 s) and never retries sooner. The emulator answers on loopback in real time;
// the runner's waits run on a short clock (its time jumps by each sleep), so minutes of backoff
// take milliseconds, and the emulator's request log confirms what it answered.
import { afterEach, describe, expect, it } from "vitest";
import pino from "pino";
import { callWithRetry } from "../../dist/execute/call-with-retry.js";
import type { Clock } from "../../dist/execute/clock.js";
import { createPacer } from "../../dist/execute/pacer.js";
import { createPartnerCenterClient } from "../../dist/partner-center/client.js";
import type { LicenseUpdate } from "../../dist/partner-center/types.js";
import { requestLog } from "../support/jobs-e2e.js";
import { startTestEmulator, type RunningEmulator } from "../support/emulator.js";
import { customer, SKU, state, TOKEN } from "../support/state-builder.js";

let emulator: RunningEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

/** Real time plus every sleep so far: a sleep returns at once and moves this clock on by its length. */
class ShortClock implements Clock {
  private skew = 0;
  now(): number {
    return Date.now() + this.skew;
  }
  async sleep(ms: number): Promise<void> {
    this.skew += Math.max(0, ms);
  }
}

describe("a 429 with an HTML body and no Retry-After (a gateway's page)", () => {
  it("the emulator answers that shape, and the client backs off 5, 10, 20, 40, 60 s, never sooner", async () => {
    const tenant = customer(1, 1, { powerBiPro: 5 });
    // One call a hundred seconds: the first write passes, every retry of the next is refused.
    emulator = await startTestEmulator({ state: state([tenant]), rateLimit: { perCustomer: { ratePerSecond: 0.01, burst: 1 } }, throttling: { retryAfterFormat: "gateway-html" } });
    const url = `${emulator.url}/v1/customers/${tenant.id}/users/${tenant.users[0]!.id}/licenseupdates`;
    const update: LicenseUpdate = { licensesToAssign: [{ skuId: SKU.powerBiPro, excludedPlans: null }], licensesToRemove: null, attributes: { objectType: "LicenseUpdate" } };
    const post = (): Promise<Response> => fetch(url, { method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: JSON.stringify(update) });
    expect((await post()).status).toBe(201);
    const page = await post();
    expect(page.status).toBe(429);
    expect(page.headers.get("retry-after")).toBeNull();
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await page.text()).toMatch(/^<!DOCTYPE html>/);

    const clock = new ShortClock();
    const client = createPartnerCenterClient({ baseUrl: emulator.url, tokens: { getToken: async () => TOKEN } });
    const sentAt: number[] = [];
    const call = await callWithRetry(
      tenant.id,
      (ctx) => {
        sentAt.push(clock.now());
        return client.postLicenseUpdate(tenant.id, tenant.users[0]!.id, update, ctx);
      },
      { pacer: createPacer({ clock }), clock, random: () => 0.5, maxAttempts: 6, correlationId: "corr", tokens: { getToken: async () => TOKEN }, logger: pino({ level: "silent" }) },
    );
    expect(call.result.ok).toBe(false);
    expect(!call.result.ok && call.result.kind === "http" && call.result.meta.status).toBe(429);
    expect(call.attempts).toBe(6);
    expect(call.throttled).toBe(6);
    const gaps = sentAt.slice(1).map((t, i) => t - sentAt[i]!);
    const waits = [5_000, 10_000, 20_000, 40_000, 60_000];
    gaps.forEach((gap, i) => {
      expect(gap).toBeGreaterThanOrEqual(waits[i]!);
      expect(gap).toBeLessThan(waits[i]! + 2_000); // the backoff, not something else, set the gap
    });

    // The emulator saw one logical call: six attempts with one MS-RequestId, each a 429 without Retry-After.
    const attempts = (await requestLog(emulator)).filter((e) => e.requestId === call.requestId);
    expect(attempts).toHaveLength(6);
    expect(attempts.every((e) => e.status === 429 && e.retryAfterSeconds === null)).toBe(true);
  });
});
