// The allowance estimated from evidence: the unthrottled answers of a scope over the last
// `windowMs`, or since the scope began when that is shorter (but at least a second: 5 answers in
// 40 ms are a burst, not a rate of 125 per second).
import type { Scope } from "./pace-scope.js";

export class RateEstimator {
  constructor(private readonly windowMs: number) {}

  /** An unthrottled answer of the scope. */
  record(scope: Scope, now: number): void {
    scope.firstActivityAt ??= now;
    scope.answers.push(now);
  }

  /** Unthrottled answers per second over the window (or since the scope began, at least 1 s). */
  achievedRate(scope: Scope, now: number): number {
    this.prune(scope, now);
    const span = Math.min(this.windowMs, Math.max(1_000, now - (scope.firstActivityAt ?? now)));
    return (scope.answers.length * 1000) / span;
  }

  private prune(scope: Scope, now: number): void {
    let drop = 0;
    while (drop < scope.answers.length && scope.answers[drop]! <= now - this.windowMs) drop++;
    if (drop > 0) scope.answers.splice(0, drop);
  }
}
