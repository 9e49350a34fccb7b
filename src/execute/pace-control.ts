// How a scope's pace moves. It follows TCP's congestion control as CUBIC (RFC 8312) does it, in
// rate rather than in a window, paced evenly as the AWS SDKs' adaptive retry mode paces its token
// bucket:
// - Slow start. Until a 429 measures the allowance the scope is unpaced (its requests in flight
//   start small and double: scheduler.ts). A first 429 that came too soon to tell a burst from a
//   rate (less than a second of sending) starts a slow start in rate from what was admitted in that
//   second, doubling every half second until the next 429 (each rise brings the next start
//   forward: pace-scope.ts); that one is measured by the pace the last request answered
//   unthrottled was sent at (the answers of a climb lag behind it): that pace itself where the
//   first 429 came after one call (no burst carried the climb), CUBIC's beta of it otherwise.
// - Down, on a 429 (`throttled`): the estimate (`ceiling`) is the pace last answered unthrottled (as sent),
//   at most the successes measured over the window since the scope last resumed (a burst the
//   limiter saved up passes for a rate only until the next 429). The pace holds at `HOLD_SHARE` of
//   it. Only the throttled request waits out its Retry-After (call-with-retry.ts); the scope
//   resumes at its next slot. A request sent after the episode began and refused again shows the
//   limit holds for the whole scope for now (a window that resets later): the scope waits, 1 s at
//   first, doubling while refusals repeat, never longer than the Retry-After (a pessimistic one
//   overstates the wait), and the whole Retry-After once a refusal seconds in has counted down to
//   the first one's end (window-gate.ts: that end is the window's, not a guess). After that pause
//   one request goes first and the others wait for its answer (pace-scope.ts), as TCP restarts
//   from one segment after a timeout: a limit still holding refuses one request, not a pace's
//   worth in flight. The lockout's end may show a call window (window-gate.ts). 429s of requests
//   sent before the episode began are its echoes and lower nothing.
// - Up, while unthrottled and only while the pace binds: after holding `holdMs` (doubled each time
//   a 429 confirms the same estimate, so a steady limit is probed rarely), the pace probes past the
//   estimate on CUBIC's convex curve: slowly near it, faster the longer no 429 comes, so a stale
//   estimate is left quickly while one probe against a true limit costs one 429.
import { effectiveRate, paceRose, probeAnswered, type Scope } from "./pace-scope.js";
import type { RateEstimator } from "./rate-estimator.js";
import { WindowGate } from "./window-gate.js";

export interface PaceControlOptions {
  minRatePerSecond: number;
}

/** The pace holds at this share of the estimate. */
export const HOLD_SHARE = 0.95;
/** Slow start in rate doubles the pace this often. */
const SLOW_START_DOUBLING_MS = 500;
/** CUBIC's constant, as a share of the estimate per second cubed: back at the estimate after cbrt(0.05 / C) s of probing. */
const CUBIC_C = 0.005;
/** The most one 429 lowers the estimate: to this share of the pace last answered unthrottled (CUBIC's beta, as the AWS SDKs use it). */
const BETA = 0.7;
/** A probe's pace stays within this multiple of the rate measured coming back. */
const PROBE_LEAD = 1.45;
/** Hold after a 429 before probing; doubles when a 429 confirms the estimate, up to the most. */
const FIRST_HOLD_MS = 1_000;
const MOST_HOLD_MS = 16_000;
/** A new estimate within this share of the last confirms it. */
const CONFIRMS = 0.1;
/** A first 429 after no more than this many calls admitted in its second: the limit has no burst. */
const NO_BURST_ADMITTED = 1;
/** Only a pace that held a request back this recently is raised. */
const PACE_BINDING_MEMORY_MS = 2_000;

export class PaceControl {
  constructor(
    private readonly options: PaceControlOptions,
    private readonly estimator: RateEstimator,
    private readonly windows: WindowGate = new WindowGate(),
  ) {}

  /**
   * The scope answered 429 for a request sent at `sentAt`. `wholeRetryAfter`: the scope waits out
   * the whole Retry-After even at the first refusal (the partner's scope, shared by every customer:
   * one slot early there is a 429 for many customers at once).
   */
  throttled(scope: Scope, now: number, retryAfterMs: number, sentAt: number, wholeRetryAfter: boolean): void {
    // Requests sent before the last decrease took effect are its echoes: no second decrease.
    if (sentAt < scope.resumedAt || sentAt <= scope.episodeStartedAt) return;
    if (now < scope.episodeStartedAt + scope.episodeRetryAfterMs && !this.estimator.answeredSince(scope, scope.resumedAt)) {
      // Refused again with nothing admitted since the decrease: the limit holds for the whole scope
      // for now (a window that resets later, a lockout), whatever the pace.
      this.windows.refusedInLockout(scope, now, retryAfterMs);
      // A Retry-After that counted down to the first one's end is true: a probe before that end
      // only collects another 429. Otherwise it may overstate, and the probes come sooner.
      scope.repeatPauseMs = scope.lockoutEndConfirmed ? retryAfterMs : Math.min(retryAfterMs, Math.max(1_000, scope.repeatPauseMs * 2));
      this.pause(scope, now + scope.repeatPauseMs);
      scope.probe = "wanted";
      scope.lockedOut = true;
      // In slow start that ends it: the limit admits no more than the first 429 measured.
      if (scope.phase === "slow-start" && scope.ceiling !== undefined) {
        scope.phase = "hold";
        scope.rate = Math.max(this.options.minRatePerSecond, HOLD_SHARE * scope.ceiling);
      }
      return;
    }
    const pace = effectiveRate(scope);
    const measured = this.estimator.measure(scope, now);
    const lastPace = scope.lastSuccessPace ?? pace;
    let ceiling: number | undefined;
    if (pace === undefined || lastPace === undefined) ceiling = measured.rate > 0 ? measured.rate : undefined;
    // Trusted successes cap a pace that a saved-up burst let pass; fewer of them than the pace are
    // a pace that did not bind throughout (no evidence), so one 429 lowers the estimate no
    // further than CUBIC's beta of the pace.
    else if (measured.trusted && now - scope.lastPacedAt > PACE_BINDING_MEMORY_MS) ceiling = measured.rate; // the pace held nothing back: only the successes tell
    else if (scope.phase === "slow-start" && noBurst(scope)) ceiling = lastPace;
    else ceiling = Math.min(lastPace, Math.max(measured.rate, BETA * lastPace));
    const beta = scope.phase === "hold" && pace !== undefined && lastPace !== undefined && ceiling === BETA * lastPace && ceiling > measured.rate;
    scope.episodeStartedAt = now;
    scope.episodeRetryAfterMs = retryAfterMs;
    scope.repeatPauseMs = 0;
    scope.probe = undefined;
    scope.lockedOut = false;
    scope.lockoutEndConfirmed = undefined;
    if (ceiling === undefined) {
      // Nothing answered yet: stay unpaced, paused for the Retry-After.
      this.pause(scope, now + retryAfterMs);
      return;
    }
    const confirmed = scope.ceiling !== undefined && scope.phase === "hold" && Math.abs(ceiling - scope.ceiling) <= CONFIRMS * scope.ceiling;
    scope.holdMs = confirmed ? Math.min(MOST_HOLD_MS, Math.max(FIRST_HOLD_MS, scope.holdMs * 2)) : FIRST_HOLD_MS;
    scope.ceiling = ceiling;
    scope.ceilingIsBeta = beta;
    scope.phase = pace === undefined && !measured.trusted ? "slow-start" : "hold";
    scope.rate = Math.max(this.options.minRatePerSecond, scope.phase === "hold" ? HOLD_SHARE * ceiling : ceiling);
    scope.probedMs = 0;
    // CUBIC's W_max: the pace refused. The pace climbs back toward just under it (concave), holds
    // there, then probes past it (convex).
    scope.refusedPace = Math.max(scope.rate, lastPace ?? scope.rate);
    scope.loweredTo = scope.rate;
    scope.climbMs = undefined;
    scope.lastSuccessPace = undefined;
    // Only the throttled request waits out its Retry-After; the scope resumes at its next slot.
    const resume = now + (wholeRetryAfter ? retryAfterMs : Math.min(retryAfterMs, 1000 / scope.rate));
    scope.pausedUntil = resume;
    scope.nextStartAt = resume;
    scope.lastIncreaseAt = resume;
    scope.resumedAt = resume;
  }

  /**
   * The scope answered without throttling, to a request sent at `sentPace` (null: unpaced or too
   * long ago to tell; undefined: not known, taken as the pace now).
   */
  raise(scope: Scope, now: number, sentPace?: number | null): void {
    probeAnswered(scope);
    if (scope.lockedOut) {
      scope.lockedOut = false;
      // This answer is the first admitted after the lockout: it counts in the next window.
      this.windows.lockoutEnded(scope, now, scope.admitted - 1);
    }
    const pace = effectiveRate(scope);
    const answeredPace = sentPace === undefined ? pace : sentPace;
    if (answeredPace !== undefined && answeredPace !== null) scope.lastSuccessPace = answeredPace;
    if (scope.rate === undefined || scope.ceiling === undefined || now < scope.pausedUntil) return;
    const dt = Math.min(1_000, Math.max(0, now - scope.lastIncreaseAt));
    scope.lastIncreaseAt = now;
    if (now - scope.lastPacedAt > PACE_BINDING_MEMORY_MS) return;
    if (scope.phase === "slow-start") {
      scope.rate *= 2 ** (dt / SLOW_START_DOUBLING_MS);
      paceRose(scope);
      return;
    }
    scope.probedMs += dt;
    const target = this.cubic(scope);
    if (target === undefined) return;
    // Never far ahead of what comes back unthrottled (the AWS SDKs' adaptive mode caps its rate at
    // twice the measured one): answers lag by the latency, and a probe is priced by what it sends
    // before its first 429 returns. A warm start's climb toward the pace an earlier run was refused
    // at stays under that pace: the earlier run is its evidence.
    const warmClimb = scope.climbMs !== undefined && target <= wMax(scope);
    const evidence = Math.max(HOLD_SHARE * scope.ceiling, PROBE_LEAD * this.estimator.achievedRate(scope, now));
    scope.rate = Math.max(scope.rate, warmClimb ? target : Math.min(evidence, target));
  }

  /**
   * CUBIC's curve (RFC 8312), in rate: W(t) = W_max + C * W_max * (t - K)^3 with W_max just under
   * the pace refused and K the time it takes to climb back there from the lowered pace (`climbMs`
   * where a warm start set it: the concave part then runs from the lowered pace to W_max in K);
   * around K it holds for `holdMs` before the convex part probes past. Undefined while nothing is
   * to change.
   */
  private cubic(scope: Scope): number | undefined {
    const top = wMax(scope);
    const start = scope.loweredTo ?? scope.rate!;
    const k = start >= top ? 0 : scope.climbMs !== undefined ? scope.climbMs / 1000 : Math.cbrt((top - start) / (CUBIC_C * top));
    const t = scope.probedMs / 1000;
    // W_max - (W_max - start) * ((K - t) / K)^3 is W_max + C * W_max * (t - K)^3 with C from K.
    if (t < k) return top - (top - start) * ((k - t) / k) ** 3;
    const beyond = t - k - scope.holdMs / 1000;
    return beyond <= 0 ? top : top * (1 + CUBIC_C * beyond ** 3);
  }

  private pause(scope: Scope, until: number): void {
    scope.pausedUntil = Math.max(scope.pausedUntil, until);
    scope.nextStartAt = Math.max(scope.nextStartAt, scope.pausedUntil);
    scope.resumedAt = Math.max(scope.resumedAt, scope.pausedUntil);
    scope.lastIncreaseAt = Math.max(scope.lastIncreaseAt, scope.pausedUntil);
  }
}

/**
 * A slow start's limit has no burst to carry a climb past its rate: its first 429 came after one
 * call (a bucket with a burst of 1; the slow start's estimate is still what that 429's second
 * admitted). The pace last admitted at the 429 that ends the slow start was then under the limit,
 * a latency of doubling under the pace refused, and is the estimate: CUBIC's beta of it took 6.1/s
 * for a limit of 10/s. Where a burst may have carried the climb's last paces (a bucket with a
 * burst of 5 let 17/s pass against 10/s), beta it is.
 */
const noBurst = (scope: Scope): boolean => scope.ceiling !== undefined && scope.ceiling <= NO_BURST_ADMITTED;

/** CUBIC's W_max: just under the pace refused. */
const wMax = (scope: Scope): number => HOLD_SHARE * (scope.refusedPace ?? scope.ceiling!);
