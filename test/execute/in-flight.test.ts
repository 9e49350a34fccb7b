// In-flight sizing: the requests on the wire follow the estimated allowance times the measured
// latency (Little's law), bounded by --concurrency; the report says which bound held the run.
// Simulated on the fake clock against the emulator's own limiter, with a real answer time.
import { describe, expect, it } from "vitest";
import { executeRequests } from "../../dist/execute/executor.js";
import { InFlightSizer } from "../../dist/execute/in-flight.js";
import { createPacer } from "../../dist/execute/pacer.js";
import { RunBoundTally } from "../../dist/execute/run-bound.js";
import type { RateLimits } from "../../dist/emulator/rate-limit.js";
import type { RowOutcome } from "../../dist/model.js";
import { FakeClock } from "../support/fake-clock.js";
import { created, customerId, request, resetLines, row, silentLogger, SKU_A, throttled, userId } from "../support/execute-fixtures.js";
import { createRateLimitedApi } from "../support/rate-limited-api.js";

describe("InFlightSizer", () => {
  it("while the allowance is unknown: a slow-start window from 8, doubling per window of unthrottled answers, halved once per window at a 429, then grown by one per window", () => {
    const sizer = new InFlightSizer({ ceiling: 32 });
    expect(sizer.limit(undefined)).toBe(8);
    for (let i = 0; i < 7; i++) sizer.onAnswer(false);
    expect(sizer.limit(undefined)).toBe(8);
    sizer.onAnswer(false);
    expect(sizer.limit(undefined)).toBe(16);
    for (let i = 0; i < 16; i++) sizer.onAnswer(false);
    expect(sizer.limit(undefined)).toBe(32);
    for (let i = 0; i < 64; i++) sizer.onAnswer(false);
    expect(sizer.limit(undefined)).toBe(32); // never past the user's bound
    sizer.onAnswer(true);
    expect(sizer.limit(undefined)).toBe(16);
    for (let i = 0; i < 15; i++) sizer.onAnswer(false);
    sizer.onAnswer(true); // a 429 within the window of answers after the decrease: halved once
    expect(sizer.limit(undefined)).toBe(16);
    for (let i = 0; i < 15; i++) sizer.onAnswer(false);
    expect(sizer.limit(undefined)).toBe(16);
    sizer.onAnswer(false); // a window of unthrottled answers: one more, not double
    expect(sizer.limit(undefined)).toBe(17);
    for (let i = 0; i < 17; i++) sizer.onAnswer(false);
    expect(sizer.limit(undefined)).toBe(18);
    for (let i = 0; i < 18; i++) sizer.onAnswer(false);
    sizer.onAnswer(true); // a window's worth of answers since the decrease: halved again
    expect(sizer.limit(undefined)).toBe(9);
    for (let i = 0; i < 2000; i++) sizer.onAnswer(false);
    expect(sizer.limit(undefined)).toBe(32); // grown back, never past the user's bound
  });

  it("holds the ceiling while the allowance is known but no latency is measured yet", () => {
    const sizer = new InFlightSizer({ ceiling: 32 });
    expect(sizer.limit(20)).toBe(32);
  });

  it("sizes rate x latency with headroom, between a floor and the ceiling", () => {
    const sizer = new InFlightSizer({ ceiling: 32 });
    sizer.observeLatency(500);
    expect(sizer.limit(20)).toBe(Math.ceil(20 * 0.5 * 1.5) + 1); // 16
    expect(sizer.limit(0.5)).toBe(2); // the floor
    expect(sizer.limit(1000)).toBe(32); // the user's bound
  });

  it("follows the latency as a moving average, ignoring nonsense", () => {
    const sizer = new InFlightSizer({ ceiling: 64, smoothing: 0.5 });
    sizer.observeLatency(100);
    sizer.observeLatency(300);
    expect(sizer.latencyMs).toBe(200);
    sizer.observeLatency(Number.NaN);
    sizer.observeLatency(-5);
    expect(sizer.latencyMs).toBe(200);
  });
});

describe("RunBoundTally", () => {
  it("names the bound that held requests back longest, latency when none did", () => {
    const tally = new RunBoundTally();
    expect(tally.boundBy(1_000)).toBe("latency");
    tally.note("concurrency", 0);
    tally.note("allowance", 100);
    tally.note(undefined, 400);
    tally.note("concurrency", 900);
    expect(tally.held(1_000)).toEqual({ concurrency: 200, allowance: 300, latency: 0 });
    expect(tally.boundBy(1_000)).toBe("allowance");
    expect(tally.boundBy(1_200)).toBe("concurrency");
  });
});

async function simulate(options: { writes: number; customers?: number; concurrency: number; latencyMs: number; rateLimit: RateLimits }) {
  resetLines();
  const clock = new FakeClock();
  const api = createRateLimitedApi({ clock, rateLimit: options.rateLimit, latencyMs: options.latencyMs });
  const customers = options.customers ?? 1;
  const requests = [];
  for (let u = 0; u < options.writes; u++) for (let c = 0; c < customers; c++) requests.push(request([row(customerId(c), userId(u), SKU_A)]));
  const outcomes: RowOutcome[] = [];
  const report = await clock.run(
    executeRequests(requests, {
      api,
      retry: { pacer: createPacer({ clock }), clock, random: () => 0.5, maxAttempts: 10, correlationId: "corr", tokens: { getToken: async () => "t" } },
      concurrency: options.concurrency,
      stop: new AbortController().signal,
      onOutcome: (o) => outcomes.push(o),
      logger: silentLogger,
      clock,
    }),
  );
  const admitted = api.arrivals.filter((a) => a.status !== 429).map((a) => a.at);
  // The rate of admitted writes over the second half of the run: the steady state, discovery left out.
  const half = admitted.slice(Math.floor(admitted.length / 2));
  const steadyRate = ((half.length - 1) * 1000) / (half[half.length - 1]! - half[0]!);
  return { report, outcomes, steadyRate, throttled: api.arrivals.length - admitted.length };
}

describe("in-flight sizing in the executor (fake clock, 500 ms answers)", () => {
  const limit20: RateLimits = { perCustomer: { ratePerSecond: 20 } };

  it("at --concurrency 8 latency caps the run at 8/0.5 s = 16/s under a 20/s allowance, and says concurrency bound it", async () => {
    const sim = await simulate({ writes: 200, concurrency: 8, latencyMs: 500, rateLimit: limit20 });
    expect(sim.outcomes.every((o) => o.status === "assigned")).toBe(true);
    expect(sim.steadyRate).toBeLessThanOrEqual(16.01);
    expect(sim.report.pacing).toMatchObject({ boundBy: "concurrency", concurrency: 8, mostInFlight: 8 });
    expect(sim.report.pacing.latencyMs).toBe(500);
  });

  it("a job of 160 writes (8 s at the limit) reaches the 20/s allowance in its second half, as the end-to-end test does", async () => {
    const sim = await simulate({ writes: 160, concurrency: 32, latencyMs: 500, rateLimit: limit20 });
    expect(sim.outcomes.every((o) => o.status === "assigned")).toBe(true);
    // More than the 16/s that 8 in flight would allow, discovery and a probe included.
    expect(sim.steadyRate).toBeGreaterThan(17);
  });

  it("with the default ceiling (32) the run reaches the 20/s allowance, sized well under the ceiling, and says the allowance bound it", async () => {
    const sim = await simulate({ writes: 300, concurrency: 32, latencyMs: 500, rateLimit: limit20 });
    expect(sim.outcomes.every((o) => o.status === "assigned")).toBe(true);
    // Above the 16/s that 8 in flight would allow; the bucket's burst of 20 lets it pass 20/s a little.
    // The pace holds at 95% of its estimate and probes past it rarely (17.8/s measured when this was written).
    expect(sim.steadyRate).toBeGreaterThanOrEqual(17.5);
    expect(sim.report.pacing.boundBy).toBe("allowance");
    expect(sim.throttled / (300 + sim.throttled)).toBeLessThanOrEqual(0.1);
  });

  it("an API that slows down suddenly gets no pile of requests: the wire holds allowance x measured latency", async () => {
    // Paced at 10/s (--max-rate), answers in 200 ms, then in 3 s: a fixed bound of 32 would
    // let 30 requests pile onto the slowed API; sized from the measured latency, ceil(10 x 0.2 x 1.5) + 1 = 4
    // (one more may be past its pacer wait) until slower answers raise the measure; then rate x 3 s.
    resetLines();
    const clock = new FakeClock();
    let onWire = 0;
    /** Most on the wire from the slowdown until its first slow answer (which the measure then learns from). */
    let mostAfterSlowdown = 0;
    let slowAnswered = false;
    let calls = 0;
    const api = {
      getSubscribedSkus: () => Promise.reject(new Error("not used")),
      getUsersPage: () => Promise.reject(new Error("not used")),
      async postLicenseUpdate(_c: string, _u: string, update: import("../../dist/partner-center/types.js").LicenseUpdate) {
        const slow = ++calls > 60;
        onWire++;
        if (slow && !slowAnswered) mostAfterSlowdown = Math.max(mostAfterSlowdown, onWire);
        await clock.sleep(slow ? 3_000 : 200);
        onWire--;
        if (slow) slowAnswered = true;
        return created(update);
      },
    };
    const requests = [];
    for (let u = 0; u < 100; u++) requests.push(request([row(customerId(1), userId(u), SKU_A)]));
    const outcomes: RowOutcome[] = [];
    const pacer = createPacer({ clock, maxRatePerSecond: 10 });
    const report = await clock.run(
      executeRequests(requests, {
        api,
        retry: { pacer, clock, random: () => 0.5, maxAttempts: 3, correlationId: "corr", tokens: { getToken: async () => "t" } },
        concurrency: 32,
        stop: new AbortController().signal,
        onOutcome: (o) => outcomes.push(o),
        logger: silentLogger,
        clock,
      }),
    );
    expect(outcomes.every((o) => o.status === "assigned")).toBe(true);
    expect(mostAfterSlowdown).toBeLessThanOrEqual(5);
    expect(report.pacing.mostInFlight).toBeGreaterThan(20);
    expect(report.pacing.latencyMs).toBeGreaterThan(2_000);
  });

  it("one throttled customer does not hold a never-throttled one to the halved window for the rest of the run", async () => {
    // --concurrency 4, answers in 500 ms: customer 0 is limited to 1 call a second, customer 1 has
    // no limit and 120 writes. Customer 1 is never paced (it is never refused), so the run's
    // window sizes what is in flight; halved at customer 0's first 429 and grown no further it
    // would hold both customers to 2 in flight (4/s) for the whole run, where 4 in flight give 8/s.
    resetLines();
    const clock = new FakeClock();
    const limited = customerId(0);
    let lastAdmitted = Number.NEGATIVE_INFINITY;
    const api = {
      getSubscribedSkus: () => Promise.reject(new Error("not used")),
      getUsersPage: () => Promise.reject(new Error("not used")),
      async postLicenseUpdate(customer: string, _u: string, update: import("../../dist/partner-center/types.js").LicenseUpdate) {
        const at = clock.now();
        await clock.sleep(500);
        if (customer !== limited) return created(update);
        if (at - lastAdmitted < 1_000) return throttled(1);
        lastAdmitted = at;
        return created(update);
      },
    };
    const requests = [];
    for (let u = 0; u < 6; u++) requests.push(request([row(limited, userId(u), SKU_A)]));
    for (let u = 0; u < 120; u++) requests.push(request([row(customerId(1), userId(u), SKU_A)]));
    const outcomes: RowOutcome[] = [];
    const unlimitedDone: number[] = [];
    await clock.run(
      executeRequests(requests, {
        api,
        retry: { pacer: createPacer({ clock }), clock, random: () => 0.5, maxAttempts: 10, correlationId: "corr", tokens: { getToken: async () => "t" } },
        concurrency: 4,
        stop: new AbortController().signal,
        onOutcome: (o) => {
          outcomes.push(o);
          if (o.customerId !== limited) unlimitedDone.push(clock.now());
        },
        logger: silentLogger,
        clock,
      }),
    );
    expect(outcomes.filter((o) => o.status === "assigned")).toHaveLength(126);
    // Customer 1's rate over its second half: near the 8/s that 4 in flight allow, less the
    // slot customer 0's paced calls take now and then; 2 in flight would give at most 4/s.
    const half = unlimitedDone.slice(60);
    const rate = ((half.length - 1) * 1000) / (half[half.length - 1]! - half[0]!);
    expect(rate).toBeGreaterThan(6);
  });

  it("with no limit a large roster is bound by the ceiling, a small one by the answer time", async () => {
    const big = await simulate({ writes: 400, concurrency: 16, latencyMs: 500, rateLimit: {} });
    expect(big.report.pacing).toMatchObject({ boundBy: "concurrency", mostInFlight: 16 });
    const small = await simulate({ writes: 2, concurrency: 16, latencyMs: 500, rateLimit: {} });
    expect(small.report.pacing.boundBy).toBe("latency");
  });
});
