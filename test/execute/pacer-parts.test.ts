// The pacer's parts, each on its own (pacer.test.ts pins them composed): the rate estimated from
// successes, the pace's moves (slow start in rate, the decrease, echoes, the scope's pause on a
// repeated refusal, CUBIC's climb back and probe), the partner-vs-customer attribution, the
// partner queue's order and the warm start.
import { describe, expect, it } from "vitest";
import { HOLD_SHARE, PaceControl } from "../../dist/execute/pace-control.js";
import { effectiveRate, newScope, reserve, type Scope } from "../../dist/execute/pace-scope.js";
import { PartnerAttribution } from "../../dist/execute/partner-attribution.js";
import { PartnerQueue } from "../../dist/execute/partner-queue.js";
import { RateEstimator } from "../../dist/execute/rate-estimator.js";
import { WarmStart } from "../../dist/execute/warm-start.js";
import { FakeClock } from "../support/fake-clock.js";

const CONTROL = { minRatePerSecond: 0.2 };

/** Unthrottled answers of `scope` every `everyMs` from `from` to `to` (inclusive). */
function answers(estimator: RateEstimator, scope: Scope, from: number, to: number, everyMs: number): void {
  for (let t = from; t <= to; t += everyMs) estimator.record(scope, t);
}

/**
 * Calls `raise` every 100 ms from `from` to `to`, the pace binding each time (a request held back),
 * `answered` unthrottled answers coming back each time.
 */
function raiseWhileBinding(control: PaceControl, scope: Scope, from: number, to: number, estimator?: RateEstimator, answered = 1): void {
  for (let t = from; t <= to; t += 100) {
    for (let i = 0; i < answered; i++) estimator?.record(scope, t);
    scope.lastPacedAt = t;
    control.raise(scope, t);
  }
}

describe("RateEstimator", () => {
  it("takes a burst over at least a second and does not trust it: 5 answers in 40 ms are 5/s, untrusted", () => {
    const estimator = new RateEstimator(2_000);
    const scope = Object.assign(newScope(), { firstActivityAt: 990 }); // the first request left at 990
    answers(estimator, scope, 1_000, 1_040, 10);
    expect(estimator.measure(scope, 1_040)).toEqual({ rate: 5, trusted: false });
  });

  it("counts the successes of the last window only, and never across the last pause (a pause is no lower rate)", () => {
    const estimator = new RateEstimator(2_000);
    const scope = newScope();
    answers(estimator, scope, 0, 4_000, 100); // 10/s for 4 s
    expect(estimator.measure(scope, 4_000)).toEqual({ rate: 10, trusted: true });
    const paused = newScope();
    answers(estimator, paused, 0, 1_000, 100);
    paused.resumedAt = 2_500; // paused from 1 s to 2.5 s
    answers(estimator, paused, 2_500, 3_500, 100);
    const measured = estimator.measure(paused, 3_500);
    expect(measured.trusted).toBe(true);
    expect(measured.rate).toBeCloseTo(10, 0); // not 5.5, as the whole window with the pause in it
  });
});

describe("PaceControl", () => {
  it("slow start: a first 429 after under a second starts the pace at what that second admitted, doubling every half second while it binds", () => {
    const estimator = new RateEstimator(2_000);
    const control = new PaceControl(CONTROL, estimator);
    const scope = Object.assign(newScope(), { firstActivityAt: -10 });
    answers(estimator, scope, 0, 40, 10); // a burst of 5
    control.throttled(scope, 50, 1_000, 45, false);
    expect(scope.phase).toBe("slow-start");
    expect(effectiveRate(scope)).toBe(5);
    const resume = scope.pausedUntil;
    expect(resume).toBe(50 + 1000 / 5); // only the throttled request waits out its Retry-After
    scope.lastPacedAt = resume + 500;
    control.raise(scope, resume + 500);
    expect(effectiveRate(scope)).toBeCloseTo(10, 5);
    control.raise(scope, resume + 10_000); // held nothing back for long: no growth
    expect(effectiveRate(scope)).toBeCloseTo(10, 5);
  });

  it("slow start ends at the next 429, its estimate the pace last answered unthrottled (the answers of a climb lag it)", () => {
    const estimator = new RateEstimator(2_000);
    const control = new PaceControl(CONTROL, estimator);
    const scope = newScope();
    answers(estimator, scope, 0, 40, 10);
    control.throttled(scope, 50, 1_000, 45, false);
    raiseWhileBinding(control, scope, 300, 1_800); // 5/s doubling every 0.5 s: 40/s
    answers(estimator, scope, 300, 1_800, 100);
    const answeredAt = scope.lastSuccessPace!;
    expect(answeredAt).toBeGreaterThan(20);
    const measured = estimator.achievedRate(scope, 1_850);
    expect(measured).toBeLessThan(0.7 * answeredAt);
    control.throttled(scope, 1_850, 1_000, 1_820, false);
    expect(scope.phase).toBe("hold");
    // The 10/s that came back lag the climb: the estimate is CUBIC's beta of the pace answered at.
    expect(scope.ceiling).toBeCloseTo(0.7 * answeredAt, 5);
    expect(effectiveRate(scope)).toBeCloseTo(HOLD_SHARE * scope.ceiling!, 5);
  });

  it("a 429 after a second and more of answers: the estimate is the successes (a saved-up burst let the pace run ahead), the pace 95% of it", () => {
    const estimator = new RateEstimator(2_000);
    const control = new PaceControl(CONTROL, estimator);
    const scope = Object.assign(newScope(), { rate: 25, ceiling: 25, phase: "hold" as const, lastSuccessPace: 25 });
    answers(estimator, scope, 50, 2_000, 50); // 20/s admitted
    scope.lastPacedAt = 1_990;
    control.throttled(scope, 2_000, 5_000, 1_990, false);
    expect(scope.ceiling).toBeCloseTo(20, 0);
    expect(effectiveRate(scope)).toBeCloseTo(0.95 * scope.ceiling!, 5);
    // Only the throttled request waits out its 5 s; the scope resumes at its next slot.
    expect(scope.pausedUntil).toBeCloseTo(2_000 + 1000 / effectiveRate(scope)!, 5);
    const rate = effectiveRate(scope);
    control.throttled(scope, 2_010, 5_000, 1_995, false); // sent before the decrease took effect: an echo
    expect(effectiveRate(scope)).toBe(rate);
  });

  it("refused again with nothing admitted since the decrease: the scope waits 1 s, doubling, never longer than the Retry-After", () => {
    const estimator = new RateEstimator(2_000);
    const control = new PaceControl(CONTROL, estimator);
    const scope = Object.assign(newScope(), { rate: 12, ceiling: 12, phase: "hold" as const, lastSuccessPace: 12 });
    answers(estimator, scope, 0, 2_000, 100);
    scope.lastPacedAt = 2_000;
    control.throttled(scope, 2_000, 3_000, 1_990, false);
    const rate = effectiveRate(scope);
    const pauses: number[] = [];
    for (let now = 2_200; now < 5_000; now = scope.pausedUntil + 50) {
      control.throttled(scope, now, 3_000, now - 40, false);
      pauses.push(scope.pausedUntil - now);
    }
    expect(pauses).toEqual([1_000, 2_000]); // the third would end past the episode's Retry-After
    expect(effectiveRate(scope)).toBe(rate); // a window still full, not a pace too high
    const capped = Object.assign(newScope(), { rate: 12, ceiling: 12, phase: "hold" as const, lastSuccessPace: 12 });
    answers(estimator, capped, 0, 2_000, 100);
    control.throttled(capped, 2_000, 1_500, 1_990, false);
    control.throttled(capped, 2_200, 1_500, 2_150, false);
    control.throttled(capped, 3_250, 1_500, 3_210, false);
    expect(capped.pausedUntil - 3_250).toBe(1_500); // 2 s doubled, cut to the 1.5 s Retry-After
  });

  it("climbs back toward just under the pace refused (concave), holds, then probes past it (convex), only while the pace binds and never past 1.45x what comes back", () => {
    const estimator = new RateEstimator(2_000);
    const control = new PaceControl(CONTROL, estimator);
    const scope = Object.assign(newScope(), { rate: 20, ceiling: 20, phase: "hold" as const, lastSuccessPace: 20 });
    answers(estimator, scope, 50, 1_000, 50);
    scope.lastPacedAt = 1_000;
    control.throttled(scope, 1_000, 1_000, 990, false); // refused at 20/s; the successes say about 20/s
    const lowered = effectiveRate(scope)!;
    expect(scope.ceiling).toBeGreaterThanOrEqual(19);
    expect(lowered).toBeCloseTo(HOLD_SHARE * scope.ceiling!, 5);
    // Twenty a second come back while it climbs.
    const resume = scope.pausedUntil;
    raiseWhileBinding(control, scope, resume, resume + 1_000, estimator, 2);
    expect(effectiveRate(scope)).toBeGreaterThan(lowered); // concave: back toward 0.95 x the pace refused
    expect(effectiveRate(scope)).toBeLessThan(19);
    const k = Math.cbrt((19 - lowered) / (0.005 * 19)) * 1000;
    raiseWhileBinding(control, scope, resume + 1_100, resume + k + 500, estimator, 2);
    expect(effectiveRate(scope)).toBeCloseTo(19, 1); // held just under the pace refused
    // Only ten a second come back from here: the probe may lead them by 45% at most (14.5/s, under the 19/s held).
    raiseWhileBinding(control, scope, resume + k + 600, resume + 20_000, estimator, 1);
    expect(effectiveRate(scope)).toBeCloseTo(19, 1);
    const again = Object.assign(newScope(), { rate: 10, ceiling: 10, phase: "hold" as const, holdMs: 1_000, loweredTo: 10 });
    // 20/s come back: the cap is out of reach.
    raiseWhileBinding(control, again, 0, 1_000, estimator, 2);
    expect(effectiveRate(again)).toBe(10);
    raiseWhileBinding(control, again, 1_100, 5_000, estimator, 2);
    const probed = effectiveRate(again)!;
    expect(probed).toBeGreaterThan(10);
    expect(probed).toBeLessThan(13); // slowly near the estimate
    again.lastPacedAt = -Infinity;
    for (let t = 5_100; t < 8_000; t += 100) control.raise(again, t); // the pace held nothing back
    expect(effectiveRate(again)).toBe(probed);
  });
});

describe("PartnerAttribution", () => {
  it("a customer in slow start, or refused near the rate its own limit admitted, is no evidence of a partner limit", () => {
    const estimator = new RateEstimator(2_000);
    const attribution = new PartnerAttribution(1_000, estimator);
    const partner = newScope();
    const starting = Object.assign(newScope(), { phase: "slow-start" as const });
    answers(estimator, starting, 0, 2_000, 500); // 2/s while the partner carries 40/s
    answers(estimator, partner, 0, 2_000, 25);
    expect(attribution.pointsAtPartner(starting, partner, 2_000)).toBe(false);
    const atOwn = Object.assign(newScope(), { phase: "hold" as const, provenRate: 10 });
    answers(estimator, atOwn, 0, 2_000, 100);
    const alone = newScope();
    answers(estimator, alone, 0, 2_000, 100);
    expect(attribution.pointsAtPartner(atOwn, alone, 2_000)).toBe(false);
  });

  it("refused at well under what its own limit was measured to admit: the partner's doing; two such customers within the window are the partner's limit, one is not", () => {
    const estimator = new RateEstimator(2_000);
    const attribution = new PartnerAttribution(1_000, estimator);
    const partner = newScope();
    const a = Object.assign(newScope(), { phase: "hold" as const, provenRate: 10 });
    answers(estimator, a, 0, 2_000, 250); // 4/s now, where 10/s passed before
    answers(estimator, partner, 0, 2_000, 250);
    expect(attribution.pointsAtPartner(a, partner, 2_000)).toBe(true);
    expect(attribution.isPartnerLimit("a", 2_000)).toBe(false);
    expect(attribution.isPartnerLimit("a", 2_100)).toBe(false); // the same customer again
    expect(attribution.isPartnerLimit("b", 2_200)).toBe(true);
    expect(attribution.isPartnerLimit("c", 9_000)).toBe(false); // the window has passed
  });

  it("notes what a customer's own limit admitted only after its first 429, over a trusted stretch", () => {
    const estimator = new RateEstimator(2_000);
    const attribution = new PartnerAttribution(1_000, estimator);
    const customer = newScope();
    answers(estimator, customer, 0, 2_000, 100);
    attribution.noteProven(customer, 2_000); // the first burst, before any 429: not its rate
    expect(customer.provenRate).toBeUndefined();
    customer.episodeStartedAt = 2_000;
    customer.resumedAt = 2_100;
    answers(estimator, customer, 2_100, 4_100, 100);
    attribution.noteProven(customer, 4_100);
    expect(customer.provenRate).toBeCloseTo(10, 0);
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
  it("starts a customer at 95% of the partner-wide (median) estimate, or of its own long-run one where that differs by far, holding 8 s before probing, and keeps what it did not reach", () => {
    const clock = new FakeClock(0);
    const saved = { version: 1 as const, savedAt: "", customers: { a: 10, b: 20, c: 30, d: 25 }, longRun: ["a", "d"] };
    const warm = new WarmStart(clock, 0.2, saved, new RateEstimator(2_000));
    // a: its own long-run rate, half the median: its own limit.
    const own = newScope();
    warm.startCustomer(own, "a");
    expect(effectiveRate(own)).toBeCloseTo(9.5, 5);
    expect(own).toMatchObject({ phase: "hold", holdMs: 8_000 });
    // c: 1.2x the median, but only the pace at a 429 (no long-run rate): a noisy sample, the median rules.
    const noisy = newScope();
    warm.startCustomer(noisy, "c");
    expect(effectiveRate(noisy)).toBeCloseTo(23.75, 5);
    // d: a long-run rate, but near the median: the median.
    const near = newScope();
    warm.startCustomer(near, "d");
    expect(effectiveRate(near)).toBeCloseTo(23.75, 5);
    const unknown = newScope();
    warm.startCustomer(unknown, "z");
    expect(effectiveRate(unknown)).toBeCloseTo(23.75, 5);
    unknown.ceiling = 12;
    // A slow start's guess is no measurement, nor a customer's share of the partner's limit: not saved.
    const guessing = Object.assign(newScope(), { ceiling: 1, phase: "slow-start" as const });
    const sharing = Object.assign(newScope(), { ceiling: 2, phase: "hold" as const, partnerBound: true });
    const snapshot = warm.snapshot(newScope(), new Map([["z", unknown], ["y", guessing], ["x", sharing]]));
    expect(snapshot.customers).toEqual({ a: 10, b: 20, c: 30, d: 25, z: 12 });
    expect(snapshot.longRun).toEqual(["a", "d"]);
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
