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
  /**
   * "slow-start": the allowance is not measured yet (the first refusals came too soon to tell a
   * burst from a rate): the pace doubles every half second until the next 429 measures it.
   * "hold": paced just under the estimate (`ceiling`), probing past it only after `holdMs`.
   */
  phase?: "slow-start" | "hold";
  /** Time spent probing with the pace binding, since the last 429 (the probe's clock). */
  probedMs: number;
  /** Time to hold at the pace before probing again (longer as 429s confirm the same estimate). */
  holdMs: number;
  /** The pace the last 429 refused (CUBIC's W_max): the pace climbs back toward just under it. */
  refusedPace?: number;
  /** The pace the last 429 lowered it to (where CUBIC's climb starts). */
  loweredTo?: number;
  /** The pace when the last unthrottled answer came back. */
  lastSuccessPace?: number;
  /** When the scope last resumed after a 429 (the estimate's window starts no earlier). */
  resumedAt: number;
  /** The scope's own pause after a repeated refusal: doubling from 1 s, never past Retry-After. */
  repeatPauseMs: number;
  /** The most the scope's own limit was measured to admit, after its first 429 (partner-attribution.ts). */
  provenRate?: number;
}

export function newScope(): Scope {
  return { nextStartAt: 0, pausedUntil: 0, lastIncreaseAt: 0, lastPacedAt: -Infinity, answers: [], episodeStartedAt: -Infinity, episodeRetryAfterMs: 0, probedMs: 0, holdMs: 0, resumedAt: -Infinity, repeatPauseMs: 0 };
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
