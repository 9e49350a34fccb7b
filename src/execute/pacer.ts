// Pacing that learns the API's allowance from evidence, per customer and for the partner as a
// whole. Partner Center publishes neither its limits nor how it counts them, so nothing here
// assumes a limiter shape. It follows TCP's congestion control as CUBIC (RFC 8312) does it, in rate
// rather than in a window: a slow start until a 429 measures the allowance, then a multiplicative
// decrease on each 429 and CUBIC's curve back up, paced evenly and capped by the rate measured
// coming back as the AWS SDKs' adaptive retry mode does (token bucket with a CUBIC rate). This
// module composes, each job in its own module:
// - pace-scope.ts: a scope's state and its evenly spaced schedule of request starts;
// - rate-estimator.ts: the allowance estimated from the successes over a window, not the burst, and
//   the long-run rate the limit admitted between refusals;
// - pace-control.ts: the pace down on a 429 and up while unthrottled (slow start in rate, hold,
//   CUBIC's climb and probe; only the throttled request waits out its Retry-After);
// - partner-attribution.ts: a partner limit told from customer limits by evidence;
// - partner-queue.ts: partner slots go to the oldest waiting request whose customer is ready;
// - window-gate.ts: a call window learnt from a lockout (Azure API Management's rate-limit policy
//   counts calls in a window of a minute or more): no start that would overrun it;
// - warm-start.ts: starting from, and saving, what an earlier run learned.
// Slow start in requests in flight is the scheduler's (scheduler.ts) and the executor's (in-flight.ts).
import type { Clock } from "./clock.js";
import { PaceControl } from "./pace-control.js";
import { effectiveRate, newScope, paceAt, readyAt, reserve, type Scope } from "./pace-scope.js";
import { PartnerAttribution } from "./partner-attribution.js";
import { PartnerQueue, type PartnerWaiter } from "./partner-queue.js";
import { RateEstimator } from "./rate-estimator.js";
import { WarmStart, type PacingState } from "./warm-start.js";
import { WindowGate } from "./window-gate.js";

export type { PacingState } from "./warm-start.js";

export interface PacerOptions {
  clock: Clock;
  /** Hard cap on request starts per second for the whole partner (a shard's share of it). */
  maxRatePerSecond?: number;
  /** Window over which the achieved rate is measured. Default 2000 ms. */
  windowMs?: number;
  /** 429s of two customers within this window are taken as the partner's limit. Default 1000 ms. */
  partnerWindowMs?: number;
  /** Floor of a learned pace. Default 0.2/s. */
  minRatePerSecond?: number;
  /**
   * What an earlier run learned: each scope starts paced just under it and holds there a while
   * before probing past it (a hint, never a ceiling). Customers it does not know start from the
   * median of those it does (the partner-wide estimate).
   */
  warm?: PacingState;
}

export interface PaceState {
  /** Learned requests per second; undefined while unpaced. */
  ratePerSecond?: number;
  /** The allowance estimated at the last 429. */
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
  /** The customer answered without throttling, to a request sent at `sentAt`: raise the pace slowly. */
  onSuccess(customerId: string, sentAt?: number): void;
  state(customerId?: string): PaceState;
  /** What was learned, for the next run. */
  snapshot?(): PacingState;
}

export function createPacer(options: PacerOptions): Pacer {
  const clock = options.clock;
  const minRate = options.minRatePerSecond ?? 0.2;
  const estimator = new RateEstimator(options.windowMs ?? 2_000);
  const windows = new WindowGate();
  const control = new PaceControl({ minRatePerSecond: minRate }, estimator, windows);
  const attribution = new PartnerAttribution(options.partnerWindowMs ?? 1_000, estimator);
  const warm = new WarmStart(clock, minRate, options.warm, estimator);

  const partner = newScope();
  if (options.maxRatePerSecond !== undefined && options.maxRatePerSecond > 0) partner.cap = options.maxRatePerSecond;
  warm.startPartner(partner);
  const customers = new Map<string, Scope>();

  const scopeOf = (customerId: string): Scope => {
    let scope = customers.get(customerId);
    if (!scope) {
      customers.set(customerId, (scope = newScope()));
      warm.startCustomer(scope, customerId);
    }
    return scope;
  };

  /** When the scope lets a request start: its pace, pause, probe and call window. */
  const scopeReadyAt = (scope: Scope, now: number): number => Math.max(readyAt(scope, now), windows.readyAt(scope, now));

  const delayMs = (customerId: string): number => {
    const now = clock.now();
    return Math.max(0, Math.max(scopeReadyAt(scopeOf(customerId), now), scopeReadyAt(partner, now)) - now);
  };

  const partnerQueue = new PartnerQueue();

  return {
    delayMs,
    async acquire(customerId, signal) {
      const scope = scopeOf(customerId);
      const waiter: PartnerWaiter = { scope };
      try {
        for (;;) {
          if (signal?.aborted) return;
          const now = clock.now();
          const own = scopeReadyAt(scope, now);
          const shared = scopeReadyAt(partner, now);
          if (own <= now && shared <= now) {
            const first = partnerQueue.size > 0 ? partnerQueue.firstReady(now) : undefined;
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
      reserve(partner, now, true);
      windows.started(scope, now);
      windows.started(partner, now);
    },
    onThrottled(customerId, retryAfterMs, sentAt) {
      const now = clock.now();
      const scope = scopeOf(customerId);
      // Read before the customer's own pace is lowered by this very 429.
      const pointsAtPartner = attribution.pointsAtPartner(scope, partner, now);
      attribution.noteProven(scope, now);
      const sent = sentAt ?? now;
      estimator.refused(scope, now);
      control.throttled(scope, now, retryAfterMs, sent, false);
      if (scope.episodeStartedAt === now) scope.partnerAdmittedAtRefusal = partner.admitted;
      if (pointsAtPartner && attribution.isPartnerLimit(customerId, now)) {
        // Their estimates are their shares of the partner's limit, not their own limits.
        for (const id of attribution.recentCustomers()) scopeOf(id).partnerBound = true;
        attribution.notePartnerMet(partner, now);
        control.throttled(partner, now, retryAfterMs, sent, true);
      }
    },
    onSuccess(customerId, sentAt) {
      const now = clock.now();
      const customer = scopeOf(customerId);
      estimator.record(customer, now);
      const windowBefore = customer.window;
      control.raise(customer, now, sentAt === undefined ? undefined : paceAt(customer, sentAt));
      if (customer.window !== windowBefore) windows.learnt(customer, partner, customers.values());
      estimator.record(partner, now);
      control.raise(partner, now, sentAt === undefined ? undefined : paceAt(partner, sentAt));
    },
    snapshot() {
      return warm.snapshot(partner, customers);
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
