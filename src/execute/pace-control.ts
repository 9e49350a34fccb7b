// How a scope's pace moves, as TCP's congestion control moves its window: slow start, then
// additive-increase / multiplicative-decrease (AIMD) around the rate last throttled at.
// - Down, on a 429 (`throttled`): the pace drops to `decreaseFactor` of the rate achieved at it
//   (rate-estimator.ts). Only the throttled request waits out its Retry-After (call-with-retry.ts);
//   the scope resumes at its next slot at the lowered pace. A request sent after the episode
//   began and refused again shows the Retry-After is meant for the whole scope (a window that
//   resets later): then the scope waits it out. 429s of requests sent before the episode began
//   are its echoes, and lower nothing.
// - Up, on an unthrottled answer (`raise`), only while the pace binds: slow start in rate when
//   the ceiling was measured over less than a second (a burst allowance can hide the rate: 5
//   answers in 40 ms), doubling per second until the next 429 measures it; an earlier run's
//   figure is grown past at 20% a second (a hint, never a ceiling); otherwise the pace recovers
//   `recoveryPerSecond` of the gap to the ceiling per second, then probes `probePerSecond` of it.
import { effectiveRate, type Scope } from "./pace-scope.js";
import type { RateEstimator } from "./rate-estimator.js";

export interface PaceControlOptions {
  decreaseFactor: number;
  recoveryPerSecond: number;
  probePerSecond: number;
  minRatePerSecond: number;
}

/** Only a pace that held a request back this recently is raised. */
const PACE_BINDING_MEMORY_MS = 2_000;

export class PaceControl {
  constructor(
    private readonly options: PaceControlOptions,
    private readonly estimator: RateEstimator,
  ) {}

  /**
   * The scope answered 429 for a request sent at `sentAt`. `wholeRetryAfter`: the scope waits out
   * the whole Retry-After even at the first refusal (the partner's scope, shared by every customer:
   * one slot early there is a 429 for many customers at once).
   */
  throttled(scope: Scope, now: number, retryAfterMs: number, sentAt: number, wholeRetryAfter: boolean): void {
    const until = now + retryAfterMs;
    // Requests sent before the episode began are its echoes: no second decrease.
    if (sentAt <= scope.episodeStartedAt) return;
    if (now < scope.episodeStartedAt + scope.episodeRetryAfterMs) {
      // Sent after the episode began and refused again: the Retry-After holds for the whole scope
      // (a window that resets later), so the scope waits it out.
      scope.pausedUntil = Math.max(scope.pausedUntil, until);
      scope.nextStartAt = Math.max(scope.nextStartAt, scope.pausedUntil);
      return;
    }
    scope.episodeStartedAt = now;
    scope.episodeRetryAfterMs = retryAfterMs;
    scope.hinted = false;
    const achieved = this.estimator.achievedRate(scope, now);
    scope.untrusted = now - (scope.firstActivityAt ?? now) < 1_000;
    const current = effectiveRate(scope);
    const base = achieved > 0 ? (current === undefined ? achieved : Math.min(current, achieved)) : current;
    if (base === undefined) {
      // Nothing answered yet: stay unpaced, paused for the Retry-After.
      scope.pausedUntil = until;
      scope.nextStartAt = until;
      return;
    }
    scope.ceiling = base;
    scope.rate = Math.max(this.options.minRatePerSecond, base * this.options.decreaseFactor);
    // Only the throttled request waits out its Retry-After; the scope resumes at its next slot.
    const resume = now + (wholeRetryAfter ? retryAfterMs : Math.min(retryAfterMs, 1000 / scope.rate));
    scope.pausedUntil = resume;
    scope.nextStartAt = resume;
    scope.lastIncreaseAt = resume;
  }

  /** The scope answered without throttling. */
  raise(scope: Scope, now: number): void {
    if (scope.rate === undefined || scope.ceiling === undefined || now < scope.pausedUntil) return;
    const dt = Math.min(1_000, Math.max(0, now - scope.lastIncreaseAt)) / 1000;
    scope.lastIncreaseAt = now;
    if (now - scope.lastPacedAt > PACE_BINDING_MEMORY_MS) return;
    if (scope.hinted && scope.rate >= scope.ceiling) {
      // An earlier run's figure is a hint, never a ceiling: past it, grow 20% a second until a 429.
      scope.rate *= 1.2 ** dt;
      return;
    }
    if (scope.untrusted) {
      // Slow start, in rate: doubling per second until the next 429 measures the allowance.
      scope.rate *= 2 ** dt;
      return;
    }
    const step = Math.max(scope.ceiling * this.options.probePerSecond, (scope.ceiling - scope.rate) * this.options.recoveryPerSecond);
    scope.rate += step * dt;
  }
}
