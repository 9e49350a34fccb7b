// One paced scope (a customer, or the partner as a whole): what the pacer knows of it and its
// schedule of request starts. Starts are spaced evenly at the scope's rate (no bursts), so a paced
// scope rarely empties the server's bucket.

export interface Scope {
  rate?: number;
  ceiling?: number;
  /** Hard cap (partner scope only). */
  cap?: number;
  nextStartAt: number;
  pausedUntil: number;
  lastIncreaseAt: number;
  /** Last time the scope's own pace held a request back: only a pace that binds is raised. */
  lastPacedAt: number;
  firstActivityAt?: number;
  /** Timestamps of recent unthrottled answers, oldest first (rate-estimator.ts). */
  answers: number[];
  episodeStartedAt: number;
  episodeRetryAfterMs: number;
  /** Started from an earlier run's state and not throttled in this one yet: it may grow past it. */
  hinted?: boolean;
  /** The ceiling was measured over less than a second: a burst may hide the rate, keep doubling. */
  untrusted?: boolean;
}

export function newScope(): Scope {
  return { nextStartAt: 0, pausedUntil: 0, lastIncreaseAt: 0, lastPacedAt: -Infinity, answers: [], episodeStartedAt: -Infinity, episodeRetryAfterMs: 0 };
}

/** The scope's pace: its learned rate, at most its cap; undefined while unpaced. */
export function effectiveRate(scope: Scope): number | undefined {
  if (scope.rate === undefined) return scope.cap;
  return scope.cap === undefined ? scope.rate : Math.min(scope.rate, scope.cap);
}

/** When the scope lets a request start: after its pause and its next paced slot. Notes that its pace held one back. */
export function readyAt(scope: Scope, now: number): number {
  const paced = effectiveRate(scope) !== undefined ? scope.nextStartAt : 0;
  if (paced > now) scope.lastPacedAt = now;
  return Math.max(scope.pausedUntil, paced);
}

/** Whether the scope lets a request start now (without noting anything). */
export function ownReady(scope: Scope, now: number): boolean {
  return Math.max(scope.pausedUntil, effectiveRate(scope) !== undefined ? scope.nextStartAt : 0) <= now;
}

/** A request starts now: the next slot is one interval later. */
export function reserve(scope: Scope, now: number): void {
  scope.firstActivityAt ??= now;
  const rate = effectiveRate(scope);
  if (rate === undefined) return;
  const interval = 1000 / rate;
  // A start slightly late keeps the schedule (timers fire late); a long idle gap earns no burst.
  const from = scope.nextStartAt >= now - interval ? scope.nextStartAt : now;
  scope.nextStartAt = Math.max(from, now - interval) + interval;
}
