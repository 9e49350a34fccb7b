// The pacer's parts, each on its own (pacer.test.ts pins them composed): the rate estimated from
// successes, the pace's moves (slow start in rate, the decrease, echoes, the scope's pause on a
// repeated refusal, CUBIC's climb back and probe), the partner-vs-customer attribution, the
// partner queue's order, the long-run rate between refusals, the call window learnt from a lockout,
// the one probe after a lockout's pause and the warm start.
import { describe, expect, it } from "vitest";
import { HOLD_SHARE, PaceControl } from "../../dist/execute/pace-control.js";
import { effectiveRate, newScope, ownReady, paceAt, probeAnswered, readyAt, reserve, type Scope } from "../../dist/execute/pace-scope.js";
import { PartnerAttribution } from "../../dist/execute/partner-attribution.js";
import { PartnerQueue } from "../../dist/execute/partner-queue.js";
import { RateEstimator } from "../../dist/execute/rate-estimator.js";
import { WarmStart } from "../../dist/execute/warm-start.js";
import { WindowGate } from "../../dist/execute/window-gate.js";
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

/** A scope whose first 429 came after 40 ms of answers (5 of them): in slow start in rate from 50 ms on. */
function inSlowStart(): { estimator: RateEstimator; control: PaceControl; scope: Scope } {
  const estimator = new RateEstimator(2_000);
  const control = new PaceControl(CONTROL, estimator);
  const scope = newScope();
  answers(estimator, scope, 0, 40, 10);
  control.throttled(scope, 50, 1_000, 45, false);
  return { estimator, control, scope };
}

/** A scope past slow start, holding at `rate`: its pace, ceiling and last unthrottled pace. */
function holdingAt(rate: number): Scope {
  return Object.assign(newScope(), { rate, ceiling: rate, phase: "hold" as const, lastSuccessPace: rate });
}

/** A new customer scope, started by the warm start. */
function startedBy(warm: WarmStart, customerId: string): Scope {
  const scope = newScope();
  warm.startCustomer(scope, customerId);
  return scope;
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

  it("the long-run rate is what the limit admitted between refusals while the scope asked for more: a burst before the first is not in it", () => {
    const estimator = new RateEstimator(2_000);
    const scope = Object.assign(newScope(), { rate: 100 });
    // A saved-up burst of 10 passes at once, then the first refusal.
    for (let t = 0; t < 100; t += 10) {
      reserve(scope, t);
      estimator.record(scope, t);
    }
    estimator.refused(scope, 100);
    expect(estimator.longRunRate(scope)).toBeUndefined(); // one refusal: no span yet
    // Then 15 a second asked, 10 a second admitted, for 2 s, and refused again.
    scope.rate = 15;
    for (let t = 100; t < 2_100; t += 1000 / 15) reserve(scope, t);
    answers(estimator, scope, 200, 2_100, 100);
    estimator.refused(scope, 2_100);
    const longRun = estimator.longRunRate(scope)!;
    expect(longRun.rate).toBeCloseTo(10, 0); // not the 15/s of the first 2.1 s with the burst
    expect(longRun.saturated).toBe(true);
  });

  it("a span where the scope asked for no more than was admitted is a bound from below; a pause in sending ends the span", () => {
    const estimator = new RateEstimator(2_000);
    const scope = Object.assign(newScope(), { rate: 5 });
    estimator.refused(scope, 0);
    for (let t = 0; t <= 2_000; t += 200) {
      reserve(scope, t);
      estimator.record(scope, t);
    }
    estimator.refused(scope, 2_000);
    expect(estimator.longRunRate(scope)).toEqual({ rate: 5.5, saturated: false }); // 11 answers in 2 s, every one asked admitted
    const paused = Object.assign(newScope(), { rate: 10 });
    estimator.refused(paused, 0);
    for (let t = 0; t <= 500; t += 100) reserve(paused, t);
    answers(estimator, paused, 0, 500, 100);
    // Nothing sent from 0.5 s to 3 s (a pause): the next refusal starts a new span.
    for (let t = 3_000; t <= 3_500; t += 100) reserve(paused, t);
    answers(estimator, paused, 3_000, 3_500, 100);
    estimator.refused(paused, 3_500);
    expect(estimator.longRunRate(paused)).toBeUndefined(); // the spans sent through add up to under 0.8 s
  });

  it("a span where the pace was under half the rate it measured for part of it is a bound from below, however many the limit refused at its top (a slow start climbing from 1/s)", () => {
    const estimator = new RateEstimator(2_000);
    const scope = Object.assign(newScope(), { rate: 1 });
    estimator.refused(scope, 0);
    // A second each at 1, 2, 4 and 8/s, the last two of the 8/s refused at the top: the pace, not
    // the limit, set what passed for most of it.
    let t = 0;
    for (const rate of [1, 2, 4, 8]) {
      scope.rate = rate;
      for (let i = 0; i < rate; i++, t += 1000 / rate) {
        reserve(scope, t);
        if (t < 3_750) estimator.record(scope, t + 50);
      }
    }
    estimator.refused(scope, 4_000);
    const longRun = estimator.longRunRate(scope)!;
    expect(longRun.rate).toBeCloseTo(13 / 4, 5); // 13 answers in 4 s, for a pace that reached 8/s
    expect(longRun.saturated).toBe(false); // 15 asked for 13 admitted, but at 1/s for a second of it
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
    const { estimator, control, scope } = inSlowStart();
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

  it("slow start against a limit with no burst (its first 429 after one call) ends at the pace last admitted, not CUBIC's beta of it", () => {
    const estimator = new RateEstimator(2_000);
    const control = new PaceControl(CONTROL, estimator);
    const scope = Object.assign(newScope(), { firstActivityAt: -10 });
    estimator.record(scope, 40); // one call admitted, the next refused
    control.throttled(scope, 50, 1_000, 45, false);
    expect(effectiveRate(scope)).toBe(1);
    raiseWhileBinding(control, scope, 1_100, 2_600); // 1/s doubling every 0.5 s: 8/s
    answers(estimator, scope, 1_100, 2_600, 250); // what a climb from 1/s sends: fewer than its last pace
    const answeredAt = scope.lastSuccessPace!;
    expect(answeredAt).toBeGreaterThan(6);
    expect(estimator.achievedRate(scope, 2_650)).toBeLessThan(0.7 * answeredAt);
    control.throttled(scope, 2_650, 1_000, 2_620, false);
    expect(scope.phase).toBe("hold");
    // No saved-up burst carried the climb: the pace last admitted was under the limit.
    expect(scope.ceiling).toBeCloseTo(answeredAt, 5);
  });

  it("a climb brings the next start forward: a slow start from 1/s sends its next request at the pace it has climbed to, not a second after the last", () => {
    const estimator = new RateEstimator(2_000);
    const control = new PaceControl(CONTROL, estimator);
    const scope = Object.assign(newScope(), { firstActivityAt: -10 });
    estimator.record(scope, 40);
    control.throttled(scope, 50, 1_000, 45, false);
    const resume = scope.pausedUntil;
    reserve(scope, resume);
    expect(scope.nextStartAt).toBe(resume + 1_000); // at 1/s
    scope.lastPacedAt = resume + 500;
    control.raise(scope, resume + 500); // half a second of doubling: 2/s
    expect(effectiveRate(scope)).toBeCloseTo(2, 5);
    expect(scope.nextStartAt).toBeCloseTo(resume + 500, 5); // one interval at 2/s after the last start
    scope.pausedUntil = resume + 800; // never inside a pause
    scope.lastPacedAt = resume + 600;
    control.raise(scope, resume + 600);
    expect(scope.nextStartAt).toBeCloseTo(resume + 500, 5); // already due: not moved
  });

  it("an answer tells of the pace its request was sent at: a climb since is no pace admitted", () => {
    const { estimator, control, scope } = inSlowStart();
    reserve(scope, 300); // sent at the slow start's first pace
    const sentPace = effectiveRate(scope)!;
    expect(paceAt(scope, 300)).toBe(sentPace);
    raiseWhileBinding(control, scope, 400, 1_800); // the pace climbs on meanwhile
    expect(effectiveRate(scope)!).toBeGreaterThan(8 * sentPace);
    estimator.record(scope, 1_810);
    control.raise(scope, 1_810, paceAt(scope, 300));
    expect(scope.lastSuccessPace).toBe(sentPace);
    control.throttled(scope, 1_850, 1_000, 1_820, false);
    // The estimate is at most the pace admitted, not the pace the climb had reached.
    expect(scope.ceiling!).toBeLessThanOrEqual(sentPace);
    // A request sent unpaced, or older than the starts kept, tells nothing of a pace.
    const unpaced = newScope();
    reserve(unpaced, 10);
    expect(paceAt(unpaced, 10)).toBeNull();
    expect(paceAt(unpaced, 5)).toBeNull();
    // The latest 64 starts are kept, whatever the run's length.
    const long = holdingAt(10);
    for (let t = 0; t < 1_000; t++) reserve(long, 100 * t);
    expect(paceAt(long, 99_950)).toBe(10);
    expect(paceAt(long, 100 * (1_000 - 64))).toBe(10);
    expect(paceAt(long, 100 * (1_000 - 65))).toBeNull();
    expect(long.startPaces).toHaveLength(128);
  });

  it("a 429 after a second and more of answers: the estimate is the successes (a saved-up burst let the pace run ahead), the pace 95% of it", () => {
    const estimator = new RateEstimator(2_000);
    const control = new PaceControl(CONTROL, estimator);
    const scope = holdingAt(25);
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
    const scope = holdingAt(12);
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
    const capped = holdingAt(12);
    answers(estimator, capped, 0, 2_000, 100);
    control.throttled(capped, 2_000, 1_500, 1_990, false);
    control.throttled(capped, 2_200, 1_500, 2_150, false);
    control.throttled(capped, 3_250, 1_500, 3_210, false);
    expect(capped.pausedUntil - 3_250).toBe(1_500); // 2 s doubled, cut to the 1.5 s Retry-After
  });

  it("climbs back toward just under the pace refused (concave), holds, then probes past it (convex), only while the pace binds and never past 1.45x what comes back", () => {
    const estimator = new RateEstimator(2_000);
    const control = new PaceControl(CONTROL, estimator);
    const scope = holdingAt(20);
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

describe("a lockout: one probe after the pause, and the call window it shows", () => {
  it("after a pause for a repeated refusal one request goes first; the others wait for its answer (or 5 s, if it is lost)", () => {
    const estimator = new RateEstimator(2_000);
    const control = new PaceControl(CONTROL, estimator);
    const scope = holdingAt(20);
    answers(estimator, scope, 0, 2_000, 50);
    control.throttled(scope, 2_000, 5_000, 1_990, false);
    control.throttled(scope, 2_100, 5_000, 2_080, false); // refused again, nothing admitted: paused 1 s
    const resume = scope.pausedUntil;
    expect(resume).toBe(3_100);
    expect(readyAt(scope, resume)).toBe(resume);
    reserve(scope, resume); // the probe
    expect(readyAt(scope, resume + 100)).toBeGreaterThan(resume + 100);
    expect(ownReady(scope, resume + 100)).toBe(false);
    probeAnswered(scope);
    expect(ownReady(scope, resume + 1_000)).toBe(true);
    const lost = Object.assign(newScope(), { probe: "wanted" as const });
    reserve(lost, 0);
    expect(ownReady(lost, 4_999)).toBe(false);
    // No answer in 5 s (a transient failure tells the pacer nothing): the others go.
    expect(readyAt(lost, 5_000)).toBeLessThanOrEqual(5_000);
    expect(lost.probe).toBeUndefined();
  });

  it("a refusal whose Retry-After counted down to the first one's end waits for that end; one that names a fresh wait each time goes on doubling", () => {
    const estimator = new RateEstimator(2_000);
    const control = new PaceControl(CONTROL, estimator, new WindowGate());
    // A minute's lockout: every refusal names the same end, 60.45 s (whole seconds, rounded up).
    const window = holdingAt(150);
    answers(estimator, window, 0, 1_400, 7);
    control.throttled(window, 1_450, 59_000, 1_400, false);
    const refusedAt: number[] = [];
    for (let now = 1_510; now < 60_000; now = window.pausedUntil + 50) {
      refusedAt.push(now);
      control.throttled(window, now, Math.ceil((60_450 - now) / 1_000) * 1_000, now - 50, false);
    }
    // Refused again at once, then after 1 s and 2 s: that one, 3.2 s in, names the first's end, and
    // the scope waits for it (doubling, it would have probed 4 s, 8 s, 16 s and 32 s later).
    expect(refusedAt).toEqual([1_510, 2_560, 4_610]);
    expect(window.pausedUntil).toBe(4_610 + 56_000);
    // Pessimistic: 5 s said at every refusal, a fresh end each time: 1 s, 2 s, 4 s.
    const pessimistic = holdingAt(12);
    answers(estimator, pessimistic, 0, 2_000, 100);
    control.throttled(pessimistic, 2_000, 5_000, 1_990, false);
    const pauses: number[] = [];
    for (let now = 2_200; now < 7_000; now = pessimistic.pausedUntil + 50) {
      control.throttled(pessimistic, now, 5_000, now - 40, false);
      pauses.push(pessimistic.pausedUntil - now);
    }
    expect(pauses).toEqual([1_000, 2_000, 4_000]); // 3.3 s in, it named an end 3.3 s later than the first's
  });

  it("a Retry-After of a minute that held the whole scope is a window: its count is what passed before it, and no start makes more than that in the window", () => {
    const estimator = new RateEstimator(2_000);
    const gate = new WindowGate();
    const control = new PaceControl(CONTROL, estimator, gate);
    const scope = holdingAt(150);
    // 200 calls pass in the first 1.4 s, then 429 with Retry-After 59 s, refused again at every probe.
    for (let i = 0; i < 200; i++) {
      gate.started(scope, i * 7);
      estimator.record(scope, i * 7 + 50);
    }
    control.throttled(scope, 1_450, 59_000, 1_400, false);
    for (let now = 2_500; now < 60_000; now = scope.pausedUntil + 50) control.throttled(scope, now, Math.max(1_000, 60_450 - now), now - 50, false);
    expect(scope.lockedOut).toBe(true);
    expect(scope.window).toBeUndefined();
    estimator.record(scope, 61_000);
    control.raise(scope, 61_000); // the first admitted after the lockout
    expect(scope.window).toEqual({ limit: 200, ms: 1_450 + 59_000 });
    // From here on: the window's count (less 2% kept spare) at the pace, then the wait for the oldest to leave.
    for (let i = 0; i < 196; i++) gate.started(scope, 61_000 + i);
    expect(gate.readyAt(scope, 61_200)).toBe(61_000 + 60_450);
    expect(gate.readyAt(scope, 61_000 + 60_451)).toBeLessThanOrEqual(61_000 + 60_451);
  });

  it("windows customers learnt from one lockout (the same end) are the partner's, counted over every customer's calls before it; one with another end stays the customer's", () => {
    const gate = new WindowGate();
    const partner = Object.assign(newScope(), { segmentStartAt: 0, segmentAdmittedBefore: 0 });
    const learnt = (limit: number, end: number, partnerAdmitted: number, starts: number[]): Scope =>
      Object.assign(newScope(), { window: { limit, ms: end - 100 }, windowEnd: end, partnerAdmittedAtRefusal: partnerAdmitted, windowStarts: starts });
    const a = learnt(3, 60_400, 200, [60_400]);
    gate.learnt(a, partner, [a]);
    expect(a.window).toEqual({ limit: 3, ms: 60_300 }); // one customer's window is its own, so far
    expect(partner.window).toBeUndefined();
    const b = learnt(2, 60_900, 199, [60_450]); // the same end, within the Retry-After's rounding
    const other = learnt(20, 95_000, 150, [95_000]); // locked out to another end: its own limit
    gate.learnt(b, partner, [a, b, other]);
    expect(partner.window).toEqual({ limit: 199, ms: 60_900 }); // all customers' calls before the refusal, from the first start
    expect(partner.windowStarts).toEqual([60_400, 60_450]);
    expect([a.window, b.window, a.windowStarts, b.windowStarts]).toEqual([undefined, undefined, [], []]);
    const c = learnt(1, 60_500, 200, [60_500]); // another share of the same window, learnt later
    gate.learnt(c, partner, [a, b, c, other]);
    expect(c.window).toBeUndefined();
    expect(partner.window).toEqual({ limit: 199, ms: 60_900 });
    // Locked out to another end while the partner's window held: its own limit.
    const other2 = learnt(20, 95_300, 150, [95_300]);
    gate.learnt(other2, partner, [a, b, c, other, other2]);
    expect([other.window, other2.window]).toEqual([{ limit: 20, ms: 94_900 }, { limit: 20, ms: 95_200 }]);
    // The partner's window now holds every customer's starts: 195 of its 199 (2% kept spare) and then the wait.
    for (let i = 0; i < 193; i++) gate.started(partner, 61_000 + i);
    expect(gate.readyAt(partner, 61_500)).toBe(60_400 + 60_900);
  });

  it("no window from a Retry-After the limit did not hold for (pessimistic), nor from a short one", () => {
    const estimator = new RateEstimator(2_000);
    const gate = new WindowGate();
    const control = new PaceControl(CONTROL, estimator, gate);
    const pessimistic = holdingAt(12);
    gate.started(pessimistic, 0);
    answers(estimator, pessimistic, 0, 2_000, 100);
    control.throttled(pessimistic, 2_000, 5_000, 1_990, false);
    control.throttled(pessimistic, 2_100, 5_000, 2_050, false);
    estimator.record(pessimistic, 3_200);
    control.raise(pessimistic, 3_200); // admitted 1.2 s after a Retry-After of 5 s
    expect(pessimistic.lockedOut).toBe(false);
    expect(pessimistic.window).toBeUndefined();
    const short = holdingAt(12);
    gate.started(short, 0);
    answers(estimator, short, 0, 2_000, 100);
    control.throttled(short, 2_000, 1_000, 1_990, false);
    control.throttled(short, 2_100, 1_000, 2_050, false);
    estimator.record(short, 3_000);
    control.raise(short, 3_000);
    expect(short.window).toBeUndefined(); // a second's Retry-After, rounded up to whole seconds, tells no window
    // Held for the whole 5 s, but every refusal named a fresh 5 s (a pessimistic Retry-After): no window.
    const fresh = holdingAt(12);
    gate.started(fresh, 0);
    answers(estimator, fresh, 0, 2_000, 100);
    control.throttled(fresh, 2_000, 5_000, 1_990, false);
    for (let now = 2_100; now < 6_500; now = fresh.pausedUntil + 50) control.throttled(fresh, now, 5_000, now - 40, false);
    estimator.record(fresh, 7_200);
    control.raise(fresh, 7_200);
    expect(fresh.window).toBeUndefined();
  });
});

describe("the schedule of starts", () => {
  it("a customer's start a timer fired late is caught up no closer than 95% of the interval to the next; the partner's is caught up whole", () => {
    for (const [catchUpWhole, nextAt] of [
      [false, 115 + 95], // 95 ms after the late start: a burst of 1 at the pace's estimate still admits it
      [true, 200], // back on the schedule: the partner's starts wait for customers' slots
    ] as const) {
      const scope = Object.assign(newScope(), { rate: 10 });
      reserve(scope, 0, catchUpWhole);
      expect(scope.nextStartAt).toBe(100);
      reserve(scope, 115, catchUpWhole); // 15 ms late
      expect(scope.nextStartAt).toBeCloseTo(nextAt, 6);
    }
    // On time, the schedule stays evenly spaced.
    const onTime = Object.assign(newScope(), { rate: 10 });
    for (let t = 0; t <= 500; t += 100) reserve(onTime, t);
    expect(onTime.nextStartAt).toBe(600);
  });
});

describe("WarmStart and the schedule", () => {
  it("starts a known customer at 95% of its own long-run estimate or 90% of a pace at a 429, an unknown one from the median of the long-run estimates, holding 8 s before probing, and keeps what it did not reach", () => {
    const clock = new FakeClock(0);
    const saved = { version: 1 as const, savedAt: "", customers: { a: 10, b: 20, c: 40, d: 25 }, longRun: ["a", "d"] };
    const warm = new WarmStart(clock, 0.2, saved, new RateEstimator(2_000));
    const longRun = newScope();
    warm.startCustomer(longRun, "a");
    expect(effectiveRate(longRun)).toBeCloseTo(9.5, 5);
    expect(longRun).toMatchObject({ phase: "hold", holdMs: 8_000 });
    // c: the pace at a 429, which a climb or a burst may have let run ahead of the limit.
    const atRefusal = newScope();
    warm.startCustomer(atRefusal, "c");
    expect(effectiveRate(atRefusal)).toBeCloseTo(36, 5);
    // z: unknown, the median of the long-run estimates (10 and 25: the upper one), at 95%.
    const unknown = newScope();
    warm.startCustomer(unknown, "z");
    expect(effectiveRate(unknown)).toBeCloseTo(23.75, 5);
    unknown.ceiling = 12;
    // A slow start's guess is no measurement, nor a customer's share of the partner's limit: not saved.
    const guessing = Object.assign(newScope(), { ceiling: 1, phase: "slow-start" as const });
    const sharing = Object.assign(newScope(), { ceiling: 2, phase: "hold" as const, partnerBound: true });
    const snapshot = warm.snapshot(newScope(), new Map([["z", unknown], ["y", guessing], ["x", sharing]]));
    expect(snapshot.customers).toEqual({ a: 10, b: 20, c: 40, d: 25, z: 12 });
    expect(snapshot.longRun).toEqual(["a", "d"]);
  });

  it("a customer whose estimate is within 20% of the partner-wide median starts from the median, keeping its own pace refused; one farther off keeps its own", () => {
    const clock = new FakeClock(0);
    // Customers of one partner, one limit of 10/s measured over a short job: long-run rates of 8.8
    // to 10.3, paces at a 429 of 9 and 11; one customer limited at 4/s.
    const longRun = { c0: 10.3, c1: 10.2, c2: 10.0, c3: 9.8, c4: 8.8, c5: 4 };
    const customers = { ...longRun, c6: 9, c7: 11 };
    const warm = new WarmStart(clock, 0.2, { version: 1, savedAt: "", customers, longRun: Object.keys(longRun), refused: { c4: 12 } }, new RateEstimator(2_000));
    const started = (id: string): Scope => startedBy(warm, id);
    // The median of the six long-run rates: 10 (the upper middle one), at 95% as a long-run estimate.
    for (const id of ["c0", "c2", "c3"]) expect(effectiveRate(started(id)), id).toBeCloseTo(9.5, 5);
    const low = started("c4");
    expect(effectiveRate(low)).toBeCloseTo(9.5, 5); // 8.8 is within 20% of 10
    expect(low.refusedPace).toBeCloseTo(0.9 * 12, 5); // and it still climbs toward its pace refused
    expect(effectiveRate(started("c5"))).toBeCloseTo(3.8, 5); // 4 is no measurement of the same limit
    // A pace at a 429 raised to the median keeps its 90% (it may have run ahead of the limit); lowered to it, 95%.
    expect(effectiveRate(started("c6"))).toBeCloseTo(9, 5);
    expect(effectiveRate(started("c7"))).toBeCloseTo(9.5, 5);
  });

  it("a customer taken for the median's limit climbs toward the pace the median's customers were refused at: raised to the median, measured between the two, or not in the state", () => {
    const clock = new FakeClock(0);
    // A burst of 1 at 10/s: customers that left CUBIC's beta of a refused 10/s or measured 7 to
    // 7.5/s, one measured 9.2/s, one limited at 4/s, and two at 13/s refused at 19/s (another
    // limit: their pace refused is not the median's).
    const customers = { a: 7, b: 7, c: 7, d: 7.5, e: 9.2, f: 4, g: 13, h: 13 };
    const warm = new WarmStart(clock, 0.2, { version: 1, savedAt: "", customers, refused: { a: 10, g: 19, h: 19 } }, new RateEstimator(2_000));
    const started = (id: string): Scope => startedBy(warm, id);
    const raised = started("b"); // within 20% of the median, 7.5
    expect(effectiveRate(raised)).toBeCloseTo(6.75, 5);
    expect(raised.refusedPace).toBeCloseTo(9, 5); // 90% of a's 10/s, not of the outliers' 19/s
    const between = started("e"); // farther off, but under the pace refused: the same limit measured closer
    expect(effectiveRate(between)).toBeCloseTo(0.9 * 9.2, 5);
    expect(between.refusedPace).toBeCloseTo(9, 5);
    const unknown = started("new"); // not in the state: the median's limit, as b
    expect(effectiveRate(unknown)).toBeCloseTo(6.75, 5);
    expect(unknown.refusedPace).toBeCloseTo(9, 5);
    const own = started("f"); // another limit: held, no climb
    expect(effectiveRate(own)).toBeCloseTo(3.6, 5);
    expect(own.refusedPace).toBeCloseTo(3.6 / HOLD_SHARE, 5);
    const control = new PaceControl(CONTROL, new RateEstimator(2_000));
    for (const scope of [raised, between, unknown, own]) raiseWhileBinding(control, scope, 0, 1_000);
    expect(effectiveRate(raised)).toBeCloseTo(HOLD_SHARE * 9, 5);
    expect(effectiveRate(unknown)).toBeCloseTo(HOLD_SHARE * 9, 5);
    expect(effectiveRate(between)).toBeCloseTo(HOLD_SHARE * 9, 5);
    expect(effectiveRate(own)).toBeCloseTo(3.6, 5);
  });

  it("a partner limit the customers' own estimates add up to is not saved, and their estimates and paces refused are; one they fall well short of is", () => {
    const clock = new FakeClock(0);
    const estimator = new RateEstimator(2_000);
    const held = (ceiling: number, extra: Partial<Scope> = {}): Scope => Object.assign(newScope(), { ceiling, rate: 0.95 * ceiling, phase: "hold" as const, ...extra });
    const warm = new WarmStart(clock, 0.2, undefined, estimator);
    // Four customers each meeting their own limit of 10/s at once, taken for a partner limit of 38/s.
    const own = new Map([
      ["a", held(10)],
      ["b", held(10, { partnerBound: true })],
      ["c", held(7, { ceilingIsBeta: true, refusedPace: 10, episodeStartedAt: 1_000, episodeRetryAfterMs: 1_000 })],
      ["d", held(10, { partnerBound: true })],
    ]);
    const accounted = warm.snapshot(held(38), own);
    expect(accounted.partner).toBeUndefined();
    expect(accounted.customers).toEqual({ a: 10, b: 10, c: 7, d: 10 });
    expect(accounted.refused).toEqual({ c: 10 });
    // Four customers refused at 2.5/s beside a partner limit of 4/s: each got more while others waited; a partner limit.
    const sharing = new Map([
      ["a", held(2.5)],
      ["b", held(2.5, { partnerBound: true })],
      ["c", held(2.5, { ceilingIsBeta: true, refusedPace: 3.5, episodeStartedAt: 1_000, episodeRetryAfterMs: 1_000 })],
      ["d", held(2.5, { partnerBound: true })],
    ]);
    const shared = warm.snapshot(held(4), sharing);
    expect(shared.partner).toBe(4);
    expect(shared.customers).toEqual({ a: 2.5, c: 2.5 });
    expect(shared.refused).toBeUndefined();
    // Ten customers at their own 10/s, estimates of 7.4/s (CUBIC's 0.7 of a pace refused), taken for
    // a partner limit where their traffic was 62/s: accounted for by their estimates (74/s).
    const ten = new Map(Array.from({ length: 10 }, (_, i) => [`c${i}`, held(7.4)] as const));
    expect(warm.snapshot(held(62), ten).partner).toBeUndefined();
    // The same limit lowered later to 30/s, as customers finished and each refusal of the rest was
    // taken for it: measured against the 62/s it admitted where it was met, still accounted for.
    const lowered = held(30, { provenRate: 62 });
    expect(warm.snapshot(lowered, ten).partner).toBeUndefined();
    // Without that measurement, the estimates run well past it: a partner limit.
    expect(warm.snapshot(held(30), ten).partner).toBe(30);
  });

  it("the partner's traffic where its limit was met, measured over a second and more, is kept as the most that limit admitted", () => {
    const estimator = new RateEstimator(2_000);
    const attribution = new PartnerAttribution(1_000, estimator);
    const partner = newScope();
    answers(estimator, partner, 0, 300, 10); // 31 answers in 0.3 s: too short to tell
    attribution.notePartnerMet(partner, 300);
    expect(partner.provenRate).toBeUndefined();
    answers(estimator, partner, 310, 2_000, 1000 / 60); // then 60/s
    attribution.notePartnerMet(partner, 2_000);
    expect(partner.provenRate).toBeGreaterThan(55);
    // Met again later at less (fewer customers sending): the most stays.
    const most = partner.provenRate!;
    answers(estimator, partner, 2_100, 6_000, 1000 / 20);
    attribution.notePartnerMet(partner, 6_000);
    expect(partner.provenRate).toBe(most);
  });

  it("a customer still in slow start is saved with what its first 429 admitted; a next run that knows no estimate starts its slow start there, one that knows any starts from the median", () => {
    const clock = new FakeClock(0);
    const estimator = new RateEstimator(2_000);
    const cold = new WarmStart(clock, 0.2, undefined, estimator);
    const slow = Object.assign(newScope(), { ceiling: 6, rate: 24, phase: "slow-start" as const });
    const unpaced = newScope(); // never refused: nothing to say
    const saved = cold.snapshot(newScope(), new Map([["a", slow], ["b", unpaced]]));
    expect(saved).toMatchObject({ customers: {}, slowStart: { a: 6 } });

    const warm = new WarmStart(clock, 0.2, saved, estimator);
    const again = newScope();
    warm.startCustomer(again, "a");
    expect(again).toMatchObject({ phase: "slow-start", ceiling: 6, rate: 6 });
    // It doubles every half second while the pace binds, as after a cold run's first 429.
    const control = new PaceControl(CONTROL, estimator);
    raiseWhileBinding(control, again, 0, 1_000, estimator, 1);
    expect(effectiveRate(again)!).toBeGreaterThan(20);
    // Kept for a customer this run did not reach; replaced once one measures an estimate.
    expect(warm.snapshot(newScope(), new Map()).slowStart).toEqual({ a: 6 });
    const measuredNow = Object.assign(newScope(), { ceiling: 9, phase: "hold" as const });
    const next = warm.snapshot(newScope(), new Map([["a", measuredNow]]));
    expect(next.customers).toEqual({ a: 9 });
    expect(next.slowStart).toBeUndefined();

    // Where the state has any estimate, the partner-wide median is the better start.
    const mixed = new WarmStart(clock, 0.2, { version: 1, savedAt: "", customers: { b: 10 }, slowStart: { a: 6 } }, estimator);
    const fromMedian = newScope();
    mixed.startCustomer(fromMedian, "a");
    expect(fromMedian).toMatchObject({ phase: "hold", ceiling: 10 });
  });

  it("a warm start holds its pace with no climb toward a pace refused, keeps the call window, and saves what this run showed", async () => {
    const clock = new FakeClock(0);
    const estimator = new RateEstimator(2_000);
    const window = { limit: 200, ms: 60_000 };
    const warm = new WarmStart(clock, 0.2, { version: 1, savedAt: "", customers: { a: 10 }, windows: { customers: { a: window } } }, estimator);
    const scope = newScope();
    warm.startCustomer(scope, "a");
    expect(effectiveRate(scope)).toBeCloseTo(9, 5); // 90% of an estimate that is no long-run rate
    expect(scope.window).toEqual(window);
    const control = new PaceControl(CONTROL, estimator);
    raiseWhileBinding(control, scope, 0, 7_000, estimator, 1);
    expect(effectiveRate(scope)).toBeCloseTo(9, 5); // held: CUBIC's curve starts at the pace held
    // Admitted at 12/s for 5 s without a 429: the 10/s estimate was stale. Its work ended there,
    // 3 s before the run's: measured up to its last answer, not over its idle end.
    for (let t = 7_000; t <= 12_000; t += 1000 / 12) estimator.record(scope, t);
    await clock.advance(15_000);
    const saved = warm.snapshot(newScope(), new Map([["a", scope]]));
    expect(saved.customers.a).toBeCloseTo(12, 0);
    expect(saved.windows).toEqual({ customers: { a: window } });
  });

  it("windows several customers learnt are the partner's, saved as one; a saved window holds for three of its windows, then only a lockout shows it again", () => {
    const clock = new FakeClock(0);
    const warm = new WarmStart(clock, 0.2, undefined, new RateEstimator(2_000));
    const customer = (limit: number, ms: number): Scope => Object.assign(newScope(), { ceiling: 15, phase: "hold" as const, window: { limit, ms } });
    const saved = warm.snapshot(newScope(), new Map([["a", customer(20, 60_300)], ["b", customer(19, 60_450)], ["c", Object.assign(newScope(), { ceiling: 15, phase: "hold" as const })]]));
    expect(saved.windows).toEqual({ partner: { limit: 39, ms: 60_450 } });
    const gate = new WindowGate();
    const next = new WarmStart(clock, 0.2, saved, new RateEstimator(2_000));
    const partner = newScope();
    next.startPartner(partner);
    expect(partner.window).toEqual({ limit: 39, ms: 60_450 });
    for (let i = 0; i < 38; i++) gate.started(partner, 1_000 + i);
    expect(gate.readyAt(partner, 2_000)).toBe(1_000 + 60_450); // 38: the count less one kept spare
    expect(gate.readyAt(partner, 1_000 + 3 * 60_450 - 1)).toBe(0);
    expect(partner.window).toBeDefined();
    expect(gate.readyAt(partner, 1_000 + 3 * 60_450)).toBe(0);
    expect(partner.window).toBeUndefined(); // a hint, never a ceiling
  });

  it("an estimate that is CUBIC's beta of a pace refused is saved with that pace; the next run climbs from it toward a share of it on CUBIC's concave curve, in a second", () => {
    const clock = new FakeClock(0);
    const estimator = new RateEstimator(2_000);
    const control = new PaceControl(CONTROL, estimator);
    /** A scope held at 10/s, the pace binding, 5 answers a second coming back, refused at 3 s with this Retry-After. */
    const refusedAt10 = (retryAfterMs: number): Scope => {
      const scope = Object.assign(newScope(), { rate: 10, ceiling: 10.5, phase: "hold" as const, firstActivityAt: 0, lastPacedAt: 2_990 });
      answers(estimator, scope, 1_000, 3_000, 200);
      control.throttled(scope, 3_000, retryAfterMs, 2_990, false);
      return scope;
    };
    const beta = refusedAt10(1_000);
    expect(beta).toMatchObject({ ceiling: 7, ceilingIsBeta: true, refusedPace: 10 });
    // Answers that came back at the rate the pace asked for measure the estimate: no bound from below.
    const measuredScope = Object.assign(newScope(), { rate: 10, ceiling: 10.5, phase: "hold" as const, firstActivityAt: 0, lastPacedAt: 2_990 });
    answers(estimator, measuredScope, 1_000, 3_000, 100);
    control.throttled(measuredScope, 3_000, 1_000, 2_990, false);
    expect(measuredScope.ceilingIsBeta).toBe(false);
    const cold = new WarmStart(clock, 0.2, undefined, estimator);
    // A refusal that asked for 5 s: a climb past the limit would cost that wait, so nothing to climb toward.
    const saved = cold.snapshot(newScope(), new Map([["a", beta], ["b", refusedAt10(5_000)], ["c", measuredScope]]));
    expect(saved.customers.a).toBeCloseTo(7, 5);
    expect(saved.refused).toEqual({ a: 10 });
    // Where the partner's limit was met, the pace refused may have been a share of it: none saved.
    const sharing = Object.assign(newScope(), { ceiling: 2, phase: "hold" as const, partnerBound: true });
    expect(cold.snapshot(newScope(), new Map([["a", refusedAt10(1_000)], ["x", sharing]])).refused).toBeUndefined();

    const warm = new WarmStart(clock, 0.2, saved, estimator);
    const climbing = newScope();
    warm.startCustomer(climbing, "a");
    expect(effectiveRate(climbing)).toBeCloseTo(6.3, 5); // 90% of the estimate, as any pace at a 429
    const warmEstimator = new RateEstimator(2_000);
    const warmControl = new PaceControl(CONTROL, warmEstimator);
    const top = HOLD_SHARE * 0.9 * 10; // just under 90% of the pace refused
    raiseWhileBinding(warmControl, climbing, 0, 500, warmEstimator, 1);
    // Half a second in, most of the way (CUBIC's own curve would take about 4 s), past 1.45x the
    // 5/s measured coming back so far: the earlier run is the evidence for a pace under its refusal.
    expect(effectiveRate(climbing)!).toBeGreaterThan(8);
    expect(effectiveRate(climbing)!).toBeGreaterThan(1.45 * warmEstimator.achievedRate(climbing, 500));
    raiseWhileBinding(warmControl, climbing, 600, 1_000, warmEstimator, 1);
    expect(effectiveRate(climbing)!).toBeCloseTo(top, 5); // there in a second...
    raiseWhileBinding(warmControl, climbing, 1_100, 6_000, warmEstimator, 1);
    expect(effectiveRate(climbing)!).toBeCloseTo(top, 5); // ...and no further for the hold
    // Re-saved by a run that met no 429, the pace refused is kept as it was.
    expect(warm.snapshot(newScope(), new Map([["a", climbing]])).refused).toEqual({ a: 10 });
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
