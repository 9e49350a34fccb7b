// The pacer's parts, each on its own (pacer.test.ts pins them composed): the rate estimated from
// successes, the pace's moves (slow start in rate, decrease, echoes), the partner-vs-customer
// attribution, the partner queue's order and the warm start.
import { describe, expect, it } from "vitest";
import { PaceControl } from "../../dist/execute/pace-control.js";
import { effectiveRate, newScope, reserve } from "../../dist/execute/pace-scope.js";
import { PartnerAttribution } from "../../dist/execute/partner-attribution.js";
import { PartnerQueue } from "../../dist/execute/partner-queue.js";
import { RateEstimator } from "../../dist/execute/rate-estimator.js";
import { WarmStart } from "../../dist/execute/warm-start.js";
import { FakeClock } from "../support/fake-clock.js";

const CONTROL = { decreaseFactor: 0.85, recoveryPerSecond: 0.5, probePerSecond: 0.02, minRatePerSecond: 0.2 };

describe("RateEstimator", () => {
  it("takes a burst over at least a second, not as the rate: 5 answers in 40 ms are 5/s", () => {
    const estimator = new RateEstimator(2_000);
    const scope = newScope();
    for (let i = 0; i < 5; i++) estimator.record(scope, 1_000 + i * 10);
    expect(estimator.achievedRate(scope, 1_040)).toBe(5);
  });

  it("counts the successes of the last window only", () => {
    const estimator = new RateEstimator(2_000);
    const scope = newScope();
    for (let t = 0; t <= 4_000; t += 100) estimator.record(scope, t); // 10/s for 4 s
    expect(estimator.achievedRate(scope, 4_000)).toBeCloseTo(10, 5);
    expect(estimator.achievedRate(scope, 5_000)).toBeCloseTo(5, 5); // half the window empty
  });
});

describe("PaceControl", () => {
  it("a 429 sets the pace to 0.85 of the achieved rate; a 429 of a request sent before the episode is an echo", () => {
    const estimator = new RateEstimator(2_000);
    const control = new PaceControl(CONTROL, estimator);
    const scope = newScope();
    scope.firstActivityAt = 0;
    for (let t = 50; t <= 2_000; t += 50) estimator.record(scope, t); // 20/s
    control.throttled(scope, 2_000, 1_000, 1_990, false);
    expect(scope.ceiling).toBeCloseTo(20, 5);
    expect(effectiveRate(scope)).toBeCloseTo(17, 5);
    // Only the throttled request sleeps: the scope resumes at its next slot, not after 1 s.
    expect(scope.pausedUntil).toBeCloseTo(2_000 + 1000 / 17, 5);
    control.throttled(scope, 2_010, 1_000, 1_995, false); // sent before the episode began
    expect(effectiveRate(scope)).toBeCloseTo(17, 5);
  });

  it("slow start in rate: a ceiling measured over less than a second doubles per second while the pace binds", () => {
    const estimator = new RateEstimator(2_000);
    const control = new PaceControl(CONTROL, estimator);
    const scope = newScope();
    for (let i = 0; i < 4; i++) estimator.record(scope, i * 10);
    control.throttled(scope, 100, 1_000, 90, false);
    expect(scope.untrusted).toBe(true);
    const start = effectiveRate(scope)!;
    scope.lastPacedAt = 1_000 + 1000 / start; // the pace held a request back
    control.raise(scope, 1_000 + 1000 / start + 1_000);
    expect(effectiveRate(scope)).toBeCloseTo(start * 2, 5);
  });

  it("never raises a pace that holds nothing back", () => {
    const estimator = new RateEstimator(2_000);
    const control = new PaceControl(CONTROL, estimator);
    const scope = newScope();
    for (let t = 0; t < 2_000; t += 100) estimator.record(scope, t);
    control.throttled(scope, 2_000, 100, 1_990, false);
    const rate = effectiveRate(scope);
    control.raise(scope, 10_000);
    expect(effectiveRate(scope)).toBe(rate);
  });
});

describe("PartnerAttribution", () => {
  it("two customers refused while under their own ceilings are the partner's limit; one is not", () => {
    const estimator = new RateEstimator(2_000);
    const attribution = new PartnerAttribution(1_000, estimator);
    const partner = newScope();
    const a = Object.assign(newScope(), { rate: 5, ceiling: 10 });
    const b = Object.assign(newScope(), { rate: 5, ceiling: 10 });
    expect(attribution.pointsAtPartner(a, partner, 0)).toBe(true);
    expect(attribution.isPartnerLimit("a", 0)).toBe(false);
    expect(attribution.isPartnerLimit("a", 100)).toBe(false); // the same customer again
    expect(attribution.pointsAtPartner(b, partner, 200)).toBe(true);
    expect(attribution.isPartnerLimit("b", 200)).toBe(true);
    expect(attribution.isPartnerLimit("a", 5_000)).toBe(false); // the window has passed
  });

  it("a customer at its own ceiling carrying the partner's traffic points at itself", () => {
    const estimator = new RateEstimator(2_000);
    const attribution = new PartnerAttribution(1_000, estimator);
    const partner = newScope();
    const customer = Object.assign(newScope(), { rate: 10, ceiling: 10 });
    for (let t = 0; t < 2_000; t += 100) {
      estimator.record(customer, t);
      estimator.record(partner, t);
    }
    expect(attribution.pointsAtPartner(customer, partner, 2_000)).toBe(false);
  });
});

describe("PartnerQueue", () => {
  it("gives the slot to the oldest waiter whose own customer is ready", () => {
    const queue = new PartnerQueue();
    const paused = { scope: Object.assign(newScope(), { pausedUntil: 500 }) };
    const ready = { scope: newScope() };
    const later = { scope: newScope() };
    queue.add(paused);
    queue.add(ready);
    queue.add(later);
    queue.add(paused); // keeps its place
    expect(queue.firstReady(100)).toBe(ready);
    expect(queue.firstReady(600)).toBe(paused);
  });
});

describe("WarmStart and the schedule", () => {
  it("starts a known customer at 95% of its saved rate, an unknown one at the median, and keeps what it did not reach", () => {
    const clock = new FakeClock(0);
    const warm = new WarmStart(clock, 0.2, { version: 1, savedAt: "", customers: { a: 10, b: 20, c: 30 } });
    const known = newScope();
    warm.startCustomer(known, "a");
    expect(effectiveRate(known)).toBeCloseTo(9.5, 5);
    const unknown = newScope();
    warm.startCustomer(unknown, "z");
    expect(effectiveRate(unknown)).toBeCloseTo(19, 5);
    unknown.ceiling = 12;
    expect(warm.snapshot(newScope(), new Map([["z", unknown]])).customers).toEqual({ a: 10, b: 20, c: 30, z: 12 });
  });

  it("spaces starts evenly at the pace and earns no burst from an idle gap", () => {
    const scope = Object.assign(newScope(), { rate: 10 });
    reserve(scope, 0);
    expect(scope.nextStartAt).toBe(100);
    reserve(scope, 100);
    expect(scope.nextStartAt).toBe(200);
    reserve(scope, 5_000); // idle for seconds: the next slot is one interval on, not a backlog
    expect(scope.nextStartAt).toBe(5_100);
  });
});
