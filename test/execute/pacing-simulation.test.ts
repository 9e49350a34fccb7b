// The pacing goals, simulated on a fake clock against token buckets (the benchmark's
// rate-bound scenarios, without the emulator): few 429s, close to the allowance.
import { describe, expect, it } from "vitest";
import { executeRequests } from "../../dist/execute/executor.js";
import { createPacer } from "../../dist/execute/pacer.js";
import type { RowOutcome } from "../../dist/model.js";
import { FakeClock } from "../support/fake-clock.js";
import { customerId, request, resetLines, row, silentLogger, SKU_A, userId } from "../support/execute-fixtures.js";
import { createRateLimitedApi } from "../support/rate-limited-api.js";

function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

async function simulate(customers: number, writesPerCustomer: number, partnerRatePerSecond?: number, customerRatePerSecond = 10) {
  resetLines();
  const clock = new FakeClock();
  const api = createRateLimitedApi({ clock, customerRatePerSecond, latencyMs: 50, ...(partnerRatePerSecond ? { partnerRatePerSecond } : {}) });
  const requests = [];
  // Interleaved by customer, as a roster of many customers usually is after sorting by user.
  for (let u = 0; u < writesPerCustomer; u++) for (let c = 0; c < customers; c++) requests.push(request([row(customerId(c), userId(u), SKU_A)]));
  const outcomes: RowOutcome[] = [];
  const started = clock.now();
  const report = await clock.run(
    executeRequests(requests, {
      api,
      retry: { pacer: createPacer({ clock }), clock, random: seededRandom(7), maxAttempts: 10, correlationId: "corr", tokens: { getToken: async () => "t" } },
      concurrency: 16,
      stop: new AbortController().signal,
      onOutcome: (o) => outcomes.push(o),
      logger: silentLogger,
      clock,
    }),
  );
  const seconds = (clock.now() - started) / 1000;
  const calls = api.arrivals.length;
  const throttledCalls = api.arrivals.filter((a) => a.status === 429).length;
  return { report, outcomes, seconds, calls, throttledCalls, api };
}

describe("pacing against a rate-limited API (fake clock)", () => {
  it("one customer at 10/s: 300 writes, <= 5% throttled, <= 1.15 x 30 s", async () => {
    const sim = await simulate(1, 300);
    expect(sim.outcomes).toHaveLength(300);
    expect(sim.outcomes.every((o) => o.status === "assigned")).toBe(true);
    console.log(`1 customer: ${sim.seconds.toFixed(2)} s, ${sim.throttledCalls}/${sim.calls} throttled`);
    expect(sim.throttledCalls / sim.calls).toBeLessThanOrEqual(0.05);
    expect(sim.seconds).toBeLessThanOrEqual(1.15 * 30);
    expect(sim.report.throttled).toBe(sim.throttledCalls);
    expect(sim.report.requestsSent).toBe(sim.calls);
  });

  it("latency-bound (no throttling): 2000 writes at 50 ms and concurrency 16 reach >= 0.90 of the ideal", async () => {
    const sim = await simulate(1, 2000, undefined, 1_000_000);
    const ideal = (2000 / 16) * 0.05;
    console.log(`latency-bound: ${sim.seconds.toFixed(2)} s, ideal ${ideal.toFixed(2)} s`);
    expect(sim.outcomes).toHaveLength(2000);
    expect(ideal / sim.seconds).toBeGreaterThanOrEqual(0.9);
  });

  it("starts slowly on a customer whose allowance is unknown: 2 in flight, then 4, then 8", async () => {
    const sim = await simulate(1, 40, undefined, 1_000_000);
    const firstAt = sim.api.arrivals[0]!.at;
    const inFirstRoundTrip = sim.api.arrivals.filter((a) => a.at < firstAt + 50).length;
    const inSecond = sim.api.arrivals.filter((a) => a.at >= firstAt + 50 && a.at < firstAt + 100).length;
    expect(inFirstRoundTrip).toBe(2);
    expect(inSecond).toBe(4);
  });

  it("never sends a retry before the Retry-After it was given", async () => {
    const sim = await simulate(1, 120);
    const byRequest = new Map<string, typeof sim.api.arrivals>();
    for (const a of sim.api.arrivals) byRequest.set(a.requestId, [...(byRequest.get(a.requestId) ?? []), a]);
    let retried = 0;
    for (const attempts of byRequest.values()) {
      for (let i = 1; i < attempts.length; i++) {
        const previous = attempts[i - 1]!;
        retried++;
        expect(attempts[i]!.at - previous.at).toBeGreaterThanOrEqual((previous.retryAfterSeconds ?? 0) * 1000);
      }
    }
    expect(retried).toBeGreaterThan(0);
  });

  it("five customers at 10/s under a partner limit of 40/s: >= 0.85 x 40/s", async () => {
    const sim = await simulate(5, 300, 40);
    expect(sim.outcomes).toHaveLength(1500);
    expect(sim.outcomes.every((o) => o.status === "assigned")).toBe(true);
    const throughput = 1500 / sim.seconds;
    console.log(`5 customers: ${sim.seconds.toFixed(2)} s, ${throughput.toFixed(1)}/s, ${sim.throttledCalls}/${sim.calls} throttled`);
    expect(throughput).toBeGreaterThanOrEqual(0.85 * 40);
  });
});
