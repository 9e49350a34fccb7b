// One paced scope (a customer, or the partner as a whole): what the pacer knows of it and its
// schedule of request starts. Starts are spaced evenly at the scope's rate (no bursts), so a paced
// scope rarely empties the server's bucket.
import type { CallWindow } from "./window-gate.js";

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
  /**
   * The estimate is no measurement but CUBIC's beta of the pace refused (`refusedPace`): fewer
   * answers came back than the pace, so the limit lies somewhere between them.
   */
  ceilingIsBeta?: boolean;
  /** The pace the last 429 lowered it to (where CUBIC's climb starts). */
  loweredTo?: number;
  /** How long CUBIC's climb back toward `refusedPace` takes where not its own (warm-start.ts). */
  climbMs?: number;
  /** The pace the last request answered unthrottled was sent at (the pace at its answer where that is not known). */
  lastSuccessPace?: number;
  /** When the scope last resumed after a 429 (the estimate's window starts no earlier). */
  resumedAt: number;
  /** The scope's own pause after a repeated refusal: doubling from 1 s, never past Retry-After. */
  repeatPauseMs: number;
  /**
   * The most the scope's own limit was measured to admit, after its first 429; for the partner's
   * scope, the most its traffic was measured at where its limit was met (partner-attribution.ts).
   */
  provenRate?: number;
  /**
   * After a pause for a refusal repeated (the limit holds the whole scope): one request goes first
   * and the rest wait for its answer ("wanted": not sent yet; "sent": on the wire since `probeSentAt`),
   * so a limit still holding refuses one request, not a pace's worth of them in flight.
   */
  probe?: "wanted" | "sent";
  probeSentAt?: number;
  /** The call window learnt from a lockout (window-gate.ts), and the starts counted in it. */
  window?: CallWindow;
  /** When the lockout the window was learnt from ended, as its Retry-After named it (this run's windows only). */
  windowEnd?: number;
  /** The partner's answers admitted so far when this customer's last episode of refusals began. */
  partnerAdmittedAtRefusal?: number;
  windowStarts: number[];
  /** The window came from an earlier run: it holds until `windowHintUntil` (a few windows from the first start), then goes. */
  windowHint?: boolean;
  windowHintUntil?: number;
  /** Since the last lockout ended: the first start, and the answers admitted before it. */
  segmentStartAt?: number;
  segmentAdmittedBefore?: number;
  /** A refusal repeated: the limit holds the whole scope until an answer is admitted again. */
  lockedOut: boolean;
  /** A refusal seconds into the lockout named the same end as the first (window-gate.ts). */
  lockoutEndConfirmed?: boolean;
  /** A 429 of this customer was the partner's limit: its own estimate is its share of the partner's, not its own limit. */
  partnerBound?: boolean;
  /**
   * The latest starts, as pairs of when and at what pace (NaN: unpaced), in a ring of
   * `START_PACES_KEPT` pairs (`startPacesNext`: the pair written next): an answer tells of the
   * pace its request was sent at, not the pace when it comes back (a climb has moved on by then:
   * in slow start, by a latency's worth of doubling).
   */
  startPaces: number[];
  startPacesNext: number;
  /** Unthrottled answers so far, and requests started so far. */
  admitted: number;
  started: number;
  lastStartAt?: number;
  /** The scope stopped sending for a while since the last refusal (rate-estimator.ts: the span between refusals breaks). */
  sendingBroke: boolean;
  /** The span of refusals going on: the first of it and the latest (when, and how many answers had been admitted by then). */
  spanFirst?: RefusalPoint;
  spanLast?: RefusalPoint;
  /** Finished spans between refusals, summed: answers admitted, requests started and milliseconds. */
  spannedAdmitted: number;
  spannedStarted: number;
  spannedMs: number;
  /** The least pace a request started at since the first refusal (unpaced: none). */
  spannedLeastPace: number;
}

export interface RefusalPoint {
  at: number;
  admitted: number;
  started: number;
}

/** Starts whose pace is kept: more than are ever in flight for one scope. */
const START_PACES_KEPT = 64;

/**
 * The pace a request started at `sentAt` was sent at: the latest start at or before it. Null when
 * it was sent unpaced or is older than the starts kept (its answer tells nothing of a pace).
 */
export function paceAt(scope: Scope, sentAt: number): number | null {
  const paces = scope.startPaces;
  const kept = paces.length / 2;
  for (let back = 1; back <= kept; back++) {
    const i = 2 * ((scope.startPacesNext - back + START_PACES_KEPT) % START_PACES_KEPT);
    if (paces[i]! > sentAt) continue;
    const pace = paces[i + 1]!;
    return Number.isNaN(pace) ? null : pace;
  }
  return null;
}

/** Two starts of a customer's scope are never closer than this share of its interval (the share the pace holds at, pace-control.ts). */
const LEAST_GAP_SHARE = 0.95;

/** A gap between two starts longer than this many of the pace's intervals (and `IDLE_MS`) is a pause in sending. */
const IDLE_INTERVALS = 3;
const IDLE_MS = 300;

export function newScope(): Scope {
  return { nextStartAt: 0, pausedUntil: 0, lastIncreaseAt: 0, lastPacedAt: -Infinity, answers: [], episodeStartedAt: -Infinity, episodeRetryAfterMs: 0, probedMs: 0, holdMs: 0, resumedAt: -Infinity, repeatPauseMs: 0, admitted: 0, started: 0, windowStarts: [], startPaces: [], startPacesNext: 0, lockedOut: false, sendingBroke: false, spannedAdmitted: 0, spannedStarted: 0, spannedMs: 0, spannedLeastPace: Infinity };
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
  return Math.max(scope.pausedUntil, paced, probeWait(scope, now));
}

/** A probe after a pause is on the wire: the others wait for its answer (polled), unless it was lost. */
function probeWait(scope: Scope, now: number): number {
  if (scope.probe !== "sent" || scope.probeSentAt === undefined) return 0;
  if (now - scope.probeSentAt >= PROBE_LOST_MS) {
    scope.probe = undefined;
    return 0;
  }
  return now + PROBE_POLL_MS;
}

/** The probe's answer is awaited this long at most (a transient failure tells the pacer nothing). */
const PROBE_LOST_MS = 5_000;
/** Requests waiting for the probe's answer look again this often. */
const PROBE_POLL_MS = 10;

/** An answer came back that was no 429: a probe in flight has done its job. */
export function probeAnswered(scope: Scope): void {
  if (scope.probe === "sent") scope.probe = undefined;
}

/** Whether the scope lets a request start now (without noting anything). */
export function ownReady(scope: Scope, now: number): boolean {
  return Math.max(scope.pausedUntil, effectiveRate(scope) !== undefined ? scope.nextStartAt : 0) <= now && scope.probe !== "sent";
}

/**
 * The pace rose: a start scheduled at the old pace comes one new interval after the last start
 * (never inside a pause). A slow start of a few sparse calls otherwise sends each at the pace
 * before the last doubling, a second apart from a first estimate of 1/s, however far the pace
 * has climbed since.
 */
export function paceRose(scope: Scope): void {
  const rate = effectiveRate(scope);
  if (rate === undefined || scope.lastStartAt === undefined) return;
  const sooner = Math.max(scope.pausedUntil, scope.lastStartAt + 1000 / rate);
  if (sooner < scope.nextStartAt) scope.nextStartAt = sooner;
}

/**
 * A request starts now: the next slot is one interval later. `catchUpWhole`: a late start may be
 * caught up whole (the partner's scope, whose starts wait for a customer's slot as often as for
 * a timer: holding its schedule to each late start would lose those slots for good).
 */
export function reserve(scope: Scope, now: number, catchUpWhole = false): void {
  scope.firstActivityAt ??= now;
  const rate = effectiveRate(scope);
  if (scope.lastStartAt !== undefined && now - scope.lastStartAt > Math.max(IDLE_MS, rate === undefined ? 0 : (IDLE_INTERVALS * 1000) / rate)) scope.sendingBroke = true;
  scope.lastStartAt = now;
  scope.started++;
  const pair = 2 * scope.startPacesNext;
  scope.startPaces[pair] = now;
  scope.startPaces[pair + 1] = rate ?? Number.NaN;
  scope.startPacesNext = (scope.startPacesNext + 1) % START_PACES_KEPT;
  if (scope.probe === "wanted") {
    scope.probe = "sent";
    scope.probeSentAt = now;
  }
  if (scope.spanFirst && rate !== undefined) scope.spannedLeastPace = Math.min(scope.spannedLeastPace, rate);
  if (rate === undefined) return;
  const interval = 1000 / rate;
  // A start slightly late keeps the schedule (timers fire late); a long idle gap earns no burst.
  // Catching up after a late start never brings two starts closer than `LEAST_GAP_SHARE` of the
  // interval: held at 95% of the estimate, no two starts come faster than the estimate itself. A
  // bucket with a burst of 1 refuses the second of two requests that arrive closer than its
  // interval, and a start 15 ms late would otherwise put the next one 15 ms early.
  const from = scope.nextStartAt >= now - interval ? scope.nextStartAt : now;
  const onSchedule = Math.max(from, now - interval) + interval;
  scope.nextStartAt = catchUpWhole ? onSchedule : Math.max(onSchedule, now + LEAST_GAP_SHARE * interval);
}
