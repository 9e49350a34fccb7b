// The allowance estimated from evidence: the unthrottled answers of a scope over the last
// `windowMs` before a 429, while it was sending (never reaching back before its first request or
// the end of its last pause: a pause is no evidence of a lower rate), over at least a second:
// 5 answers in 40 ms are a burst, not a rate of 125 per second. Under a second of sending is not
// trusted: it cannot tell a burst from a rate. While a pace above the allowance binds, what the
// limiter admits is its rate, whatever its shape (a token bucket's refill, a window's count).
import type { Scope } from "./pace-scope.js";

/** Sending for less than this tells a burst from a rate too poorly to trust. */
export const TRUSTED_SPAN_MS = 1_000;

/** Spans between refusals adding up to this measure the long-run rate. */
export const REFUSAL_SPAN_MS = 800;
const MIN_ADMITTED_BETWEEN = 5;
/** Started over admitted in the spans at which the limit, not the pace, set what passed. */
const SATURATED_ASKED = 1.1;
/** A pace below this share of the rate the spans measured, at any start since the first refusal, held what passed back. */
const PACE_UNDER_RATE = 0.5;

export interface Measurement {
  /** Unthrottled answers per second. */
  rate: number;
  /** Measured over at least `TRUSTED_SPAN_MS` of sending. */
  trusted: boolean;
}

export class RateEstimator {
  constructor(private readonly windowMs: number) {}

  /** An unthrottled answer of the scope. */
  record(scope: Scope, now: number): void {
    scope.firstActivityAt ??= now;
    scope.answers.push(now);
    scope.admitted++;
  }

  /**
   * A 429 of the scope: its limit was full at this moment. Between two such moments with the scope
   * sending all along, what the limit admitted is its long-run rate times the time (a token
   * bucket's refill, a window's count per window), whatever burst it had saved up before the
   * first. A pause in sending ends the span (the limit's allowance of that time was not asked for).
   */
  refused(scope: Scope, now: number): void {
    const point = { at: now, admitted: scope.admitted, started: scope.started };
    if (scope.sendingBroke || !scope.spanFirst || !scope.spanLast) {
      if (scope.spanFirst && scope.spanLast) {
        scope.spannedAdmitted += scope.spanLast.admitted - scope.spanFirst.admitted;
        scope.spannedStarted += scope.spanLast.started - scope.spanFirst.started;
        scope.spannedMs += scope.spanLast.at - scope.spanFirst.at;
      }
      scope.spanFirst = point;
      scope.sendingBroke = false;
    }
    scope.spanLast = point;
  }

  /**
   * The limit's long-run rate, from the spans between refusals (undefined until they add up to
   * `REFUSAL_SPAN_MS`). `saturated`: the scope asked for more than was admitted in them (10% or
   * more refused), so the limit, not the pace, set what passed; otherwise the rate is a bound
   * from below (a token bucket full for part of a span lost what it refilled then).
   */
  longRunRate(scope: Scope): { rate: number; saturated: boolean } | undefined {
    let admitted = scope.spannedAdmitted;
    let started = scope.spannedStarted;
    let ms = scope.spannedMs;
    if (scope.spanFirst && scope.spanLast) {
      admitted += scope.spanLast.admitted - scope.spanFirst.admitted;
      started += scope.spanLast.started - scope.spanFirst.started;
      ms += scope.spanLast.at - scope.spanFirst.at;
    }
    if (ms < REFUSAL_SPAN_MS || admitted < MIN_ADMITTED_BETWEEN) return undefined;
    const rate = (admitted * 1000) / ms;
    // A pace under the rate for part of the spans set what passed then (a slow start climbing
    // from a first estimate of 1/s), however many of its requests the limit refused at the top.
    const paceBound = scope.spannedLeastPace < PACE_UNDER_RATE * rate;
    return { rate, saturated: started >= SATURATED_ASKED * admitted && !paceBound };
  }

  /** Unthrottled answers per second over the window (since the scope began or resumed, at least 1 s). */
  achievedRate(scope: Scope, now: number): number {
    return this.measure(scope, now).rate;
  }

  measure(scope: Scope, now: number): Measurement {
    this.prune(scope, now);
    const from = Math.max(now - this.windowMs, scope.firstActivityAt ?? now, scope.resumedAt);
    let count = scope.answers.length;
    for (let i = 0; i < scope.answers.length && scope.answers[i]! <= from; i++) count--;
    const span = now - from;
    return { rate: (count * 1000) / Math.max(TRUSTED_SPAN_MS, span), trusted: span >= TRUSTED_SPAN_MS };
  }

  /** Whether the scope had an unthrottled answer at or after `since`. */
  answeredSince(scope: Scope, since: number): boolean {
    const last = scope.answers[scope.answers.length - 1];
    return last !== undefined && last >= since;
  }

  private prune(scope: Scope, now: number): void {
    let drop = 0;
    while (drop < scope.answers.length && scope.answers[drop]! <= now - this.windowMs) drop++;
    if (drop > 0) scope.answers.splice(0, drop);
  }
}
