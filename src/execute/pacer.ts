// Pacing that learns the API's allowance from evidence, per customer and for the partner as a
// whole. Partner Center publishes neither its limits nor how it counts them, so nothing here
// assumes a limiter shape. It follows TCP's congestion control: slow start, then additive-increase /
// multiplicative-decrease (AIMD) around the rate last throttled at, paced by rate as the AWS SDKs'
// adaptive retry mode paces its token bucket (without its CUBIC curve):
//
// - Slow start: a scope is unpaced until its first 429; the scheduler bounds its requests in flight
//   by a window that starts at 2 and doubles per window's worth of answers. When the rate at that
//   first 429 was measured over less than a second (a burst allowance can hide the rate: 5 answers
//   in 40 ms), the pace keeps doubling per second until the next 429 measures it.
// - Estimate from successes: the rate at a 429 is the unthrottled answers over the last
//   `windowMs`, or since the scope began when that is shorter (at least a second); the pace drops
//   to `decreaseFactor` of it, recovers quickly to it, then probes slowly above it.
// - A 429 pauses the customer only until its next slot at the lowered pace: the throttled request
//   alone waits out its Retry-After (call-with-retry.ts), holding no concurrency slot. A request
//   sent after the episode began and refused again shows the Retry-After is meant for the whole
//   scope (a window that resets later): then the scope waits it out. 429s of requests sent before
//   the episode began are its echoes.
// - Partner or customer, by evidence: a customer refused while its pace is under the rate it was
//   last throttled at was not probing its own limit, and one that carries under half of the
//   partner's traffic is likely sharing a limit; two such customers within `partnerWindowMs`
//   are the partner's limit, and the partner's scope is paused (for the whole Retry-After, as one
//   early slot there is a 429 for many customers) and paced the same way. Customers starting
//   together, each meeting its own limit in slow start, are no such evidence.
// Pacing spaces request starts evenly (no bursts), so a paced scope rarely empties the server's bucket.
import type { Clock } from "./clock.js";

export interface PacerOptions {
  clock: Clock;
  /** Hard cap on request starts per second for the whole partner (a shard's share of it). */
  maxRatePerSecond?: number;
  /** Multiplicative decrease on a 429, from the achieved rate. Default 0.85. */
  decreaseFactor?: number;
  /** Share of the gap to the last throttled rate recovered per second. Default 0.5. */
  recoveryPerSecond?: number;
  /** Probe above the last throttled rate: this share of it per second. Default 0.02. */
  probePerSecond?: number;
  /** Window over which the achieved rate is measured. Default 2000 ms. */
  windowMs?: number;
  /** 429s of two customers within this window are taken as the partner's limit. Default 1000 ms. */
  partnerWindowMs?: number;
  /** Floor of a learned pace. Default 0.2/s. */
  minRatePerSecond?: number;
  /**
   * What an earlier run learned: each scope starts paced just under it, as if throttled there,
   * and probes past it as usual (a hint, never a ceiling). Customers it does not know start from
   * the median of those it does (the partner-wide estimate).
   */
  warm?: PacingState;
}

/** What a run learned, to start the next one from (`--pacing-state`): the rate each scope was last throttled at. */
export interface PacingState {
  version: 1;
  savedAt: string;
  partner?: number;
  customers: Record<string, number>;
}

export interface PaceState {
  /** Learned requests per second; undefined while unpaced. */
  ratePerSecond?: number;
  /** The achieved rate at the last 429. */
  throttledAtRate?: number;
  pausedUntil: number;
}

export interface Pacer {
  /** How long until a request to this customer may start (0: now). Does not reserve. */
  delayMs(customerId: string): number;
  /** Resolves when a request to this customer may start, and reserves its slot; resolves early if `signal` aborts. */
  acquire(customerId: string, signal?: AbortSignal): Promise<void>;
  /** The customer answered 429: pause it until Retry-After, lower its pace (and the partner's, if several are throttled). */
  onThrottled(customerId: string, retryAfterMs: number, sentAt?: number): void;
  /** The customer answered without throttling: raise the pace slowly. */
  onSuccess(customerId: string): void;
  state(customerId?: string): PaceState;
  /** What was learned, for the next run. */
  snapshot?(): PacingState;
}

interface Scope {
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
  /** Timestamps of recent unthrottled answers, oldest first. */
  answers: number[];
  episodeStartedAt: number;
  episodeRetryAfterMs: number;
  /** Started from an earlier run's state and not throttled in this one yet: it may grow past it. */
  hinted?: boolean;
  /** The ceiling was measured over less than a second: a burst may hide the rate, keep doubling. */
  untrusted?: boolean;
}

const PACE_BINDING_MEMORY_MS = 2_000;

function newScope(): Scope {
  return { nextStartAt: 0, pausedUntil: 0, lastIncreaseAt: 0, lastPacedAt: -Infinity, answers: [], episodeStartedAt: -Infinity, episodeRetryAfterMs: 0 };
}

export function createPacer(options: PacerOptions): Pacer {
  const clock = options.clock;
  const decrease = options.decreaseFactor ?? 0.85;
  const recovery = options.recoveryPerSecond ?? 0.5;
  const probe = options.probePerSecond ?? 0.02;
  const windowMs = options.windowMs ?? 2_000;
  const partnerWindowMs = options.partnerWindowMs ?? 1_000;
  const minRate = options.minRatePerSecond ?? 0.2;
  /** A warm start paces at this share of the rate last throttled at. */
  const warmShare = 0.95;

  const partner = newScope();
  if (options.maxRatePerSecond !== undefined && options.maxRatePerSecond > 0) partner.cap = options.maxRatePerSecond;
  const customers = new Map<string, Scope>();
  /** Recent 429s: customer and time, for telling a partner limit from a customer's. */
  const recentThrottles: { customerId: string; at: number }[] = [];

  const warmStart = (scope: Scope, ceiling: number | undefined): void => {
    if (ceiling === undefined || !(ceiling > 0)) return;
    scope.ceiling = ceiling;
    scope.rate = Math.max(minRate, ceiling * warmShare);
    scope.lastIncreaseAt = clock.now();
    scope.firstActivityAt = clock.now() - 1_000; // trusted: no slow start in rate
    scope.hinted = true;
  };
  const known = Object.values(options.warm?.customers ?? {}).sort((a, b) => a - b);
  const partnerWide = known.length > 0 ? known[Math.floor(known.length / 2)] : undefined;
  if (options.warm) warmStart(partner, options.warm.partner);

  const scopeOf = (customerId: string): Scope => {
    let scope = customers.get(customerId);
    if (!scope) {
      customers.set(customerId, (scope = newScope()));
      if (options.warm) warmStart(scope, options.warm.customers[customerId] ?? partnerWide);
    }
    return scope;
  };

  const effectiveRate = (scope: Scope): number | undefined => {
    if (scope.rate === undefined) return scope.cap;
    return scope.cap === undefined ? scope.rate : Math.min(scope.rate, scope.cap);
  };

  const pruneAnswers = (scope: Scope, now: number): void => {
    let drop = 0;
    while (drop < scope.answers.length && scope.answers[drop]! <= now - windowMs) drop++;
    if (drop > 0) scope.answers.splice(0, drop);
  };

  /** Unthrottled answers per second over the window (or since the scope began, at least 1 s). */
  const achievedRate = (scope: Scope, now: number): number => {
    pruneAnswers(scope, now);
    const span = Math.min(windowMs, Math.max(1_000, now - (scope.firstActivityAt ?? now)));
    return (scope.answers.length * 1000) / span;
  };

  const readyAt = (scope: Scope, now: number): number => {
    const paced = effectiveRate(scope) !== undefined ? scope.nextStartAt : 0;
    if (paced > now) scope.lastPacedAt = now;
    return Math.max(scope.pausedUntil, paced);
  };

  const delayMs = (customerId: string): number => {
    const now = clock.now();
    return Math.max(0, Math.max(readyAt(scopeOf(customerId), now), readyAt(partner, now)) - now);
  };

  const reserve = (scope: Scope, now: number): void => {
    scope.firstActivityAt ??= now;
    const rate = effectiveRate(scope);
    if (rate === undefined) return;
    const interval = 1000 / rate;
    // A start slightly late keeps the schedule (timers fire late); a long idle gap earns no burst.
    const from = scope.nextStartAt >= now - interval ? scope.nextStartAt : now;
    scope.nextStartAt = Math.max(from, now - interval) + interval;
  };

  const throttle = (scope: Scope, now: number, retryAfterMs: number, sentAt: number): void => {
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
    const achieved = achievedRate(scope, now);
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
    scope.rate = Math.max(minRate, base * decrease);
    // Only the throttled request waits out its Retry-After; the scope resumes at its next slot.
    // (The partner's scope, shared by every customer, keeps the whole Retry-After: one slot early
    // there is a 429 for many customers at once.)
    const resume = now + (scope === partner ? retryAfterMs : Math.min(retryAfterMs, 1000 / scope.rate));
    scope.pausedUntil = resume;
    scope.nextStartAt = resume;
    scope.lastIncreaseAt = resume;
  };

  const raise = (scope: Scope, now: number): void => {
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
    const step = Math.max(scope.ceiling * probe, (scope.ceiling - scope.rate) * recovery);
    scope.rate += step * dt;
  };

  /**
   * Requests whose own customer may go but which wait for the partner's pace, oldest first. When a
   * partner slot opens, the oldest of them whose customer is ready takes it: without this the
   * slot goes to whichever timer fires first, the same customers keep winning, and the others
   * lag behind and finish alone at their own limit (the run's tail).
   */
  const partnerQueue = new Set<{ scope: Scope }>();
  const ownReady = (scope: Scope, now: number): boolean => Math.max(scope.pausedUntil, effectiveRate(scope) !== undefined ? scope.nextStartAt : 0) <= now;
  const firstReadyWaiter = (now: number): { scope: Scope } | undefined => {
    for (const waiter of partnerQueue) if (ownReady(waiter.scope, now)) return waiter;
    return undefined;
  };

  return {
    delayMs,
    async acquire(customerId, signal) {
      const scope = scopeOf(customerId);
      const waiter = { scope };
      try {
        for (;;) {
          if (signal?.aborted) return;
          const now = clock.now();
          const own = readyAt(scope, now);
          const shared = readyAt(partner, now);
          if (own <= now && shared <= now) {
            const first = partnerQueue.size > 0 ? firstReadyWaiter(now) : undefined;
            if (first === undefined || first === waiter) break;
            await clock.sleep(1, signal); // an older waiter takes this slot; try for the next
            continue;
          }
          if (own <= now) partnerQueue.add(waiter); // keeps its place if already queued
          await clock.sleep(Math.max(own, shared) - now, signal);
        }
      } finally {
        partnerQueue.delete(waiter);
      }
      const now = clock.now();
      reserve(scope, now);
      reserve(partner, now);
    },
    onThrottled(customerId, retryAfterMs, sentAt) {
      const now = clock.now();
      const scope = scopeOf(customerId);
      // Evidence of the partner's limit, not timing alone: a customer refused while its pace is
      // under the rate it was last throttled at (it was not probing its own limit), or while it
      // carries under half of the partner's traffic (many customers share what was refused).
      // Two customers each meeting its own limit in slow start are no such evidence.
      const pace = effectiveRate(scope);
      const underOwn = (scope.ceiling !== undefined && pace !== undefined && pace < scope.ceiling && !scope.untrusted) || achievedRate(scope, now) < 0.5 * achievedRate(partner, now);
      const sent = sentAt ?? now;
      throttle(scope, now, retryAfterMs, sent);
      if (!underOwn) return;
      recentThrottles.push({ customerId, at: now });
      while (recentThrottles.length > 0 && recentThrottles[0]!.at < now - partnerWindowMs) recentThrottles.shift();
      const distinct = new Set(recentThrottles.map((t) => t.customerId));
      if (distinct.size >= 2) throttle(partner, now, retryAfterMs, sent);
    },
    onSuccess(customerId) {
      const now = clock.now();
      for (const scope of [scopeOf(customerId), partner]) {
        scope.firstActivityAt ??= now;
        scope.answers.push(now);
        raise(scope, now);
      }
    },
    snapshot() {
      const learned: Record<string, number> = {};
      for (const [id, scope] of customers) if (scope.ceiling !== undefined) learned[id] = scope.ceiling;
      // Customers this run did not reach keep what an earlier run learned.
      for (const [id, ceiling] of Object.entries(options.warm?.customers ?? {})) learned[id] ??= ceiling;
      const state: PacingState = { version: 1, savedAt: new Date(clock.now()).toISOString(), customers: learned };
      const partnerCeiling = partner.ceiling ?? options.warm?.partner;
      if (partnerCeiling !== undefined) state.partner = partnerCeiling;
      return state;
    },
    state(customerId) {
      const scope = customerId === undefined ? partner : scopeOf(customerId);
      const state: PaceState = { pausedUntil: scope.pausedUntil };
      const rate = effectiveRate(scope);
      if (rate !== undefined) state.ratePerSecond = rate;
      if (scope.ceiling !== undefined) state.throttledAtRate = scope.ceiling;
      return state;
    },
  };
}
