// Starting from what an earlier run learned (`--pacing-state`): each scope it knows starts paced
// just under the allowance estimated there, as if throttled there, and holds that pace for
// `WARM_HOLD_MS` before probing past it (a hint, never a ceiling: a short job then sends no 429
// at all, a long one still finds a higher allowance). A call window learnt from a lockout
// (window-gate.ts) is kept too, so the next run sends a window's calls and then waits for the
// window instead of running into the lockout again.
//
// Each customer starts from its own estimate; one the state does not know, from the partner-wide
// figure: the median of the customers' long-run estimates (of all where there are none). Partner
// Center limits each partner + customer pair, and nothing suggests one customer differs from the
// next, so an estimate within 20% of that median (partner-wide.ts) is taken for the same limit
// measured over a short job's few seconds (a fixed window's count more or less in the span): that
// customer starts from the median too, and climbs toward the pace the median's customers were
// refused at where it has none of its own (so does one measured between the two).
//
// An estimate is the long-run rate the limit admitted between refusals where one was measured (a
// burst saved up before the first refusal is not in it), else the pace at the last 429, and a
// rate admitted for seconds past it since the last 429 replaces it. Estimates still in slow start
// (not measured), and those of customers refused by the partner's limit (their share of it, not
// their own limit), are not saved. But customers that meet their own limits at the same moment
// look like a partner limit: one that the customers' own estimates account for (they add up to
// little more than it: partner-wide.ts) is not saved, and their estimates are. An estimate that is
// CUBIC's beta of a pace refused (a bound from below) is saved with that pace, and the next run
// climbs from it toward a share of that pace on CUBIC's concave curve in a second (`climbable`
// says where).
// A customer whose few calls never left slow start leaves only what its first 429 had admitted in
// its second (a burst may be in it): a next run that knows no estimate at all starts that
// customer's slow start from there, as the cold run did after that 429, instead of meeting the
// 429 again. At the end, what this run measured replaces the earlier run's, scope by scope.
import type { Clock } from "./clock.js";
import { median, ownLimitsAccountFor, sameLimit } from "./partner-wide.js";
import { HOLD_SHARE } from "./pace-control.js";
import type { Scope } from "./pace-scope.js";
import type { RateEstimator } from "./rate-estimator.js";
import type { CallWindow } from "./window-gate.js";

/** What a run learned, to start the next one from (`--pacing-state`). */
export interface PacingState {
  version: 1;
  savedAt: string;
  /** The partner's estimate, calls per second, when its limit was the one met. */
  partner?: number;
  /** Each customer's estimate, calls per second. */
  customers: Record<string, number>;
  /** The customers whose estimate is a long-run rate measured between refusals. */
  longRun?: string[];
  /**
   * The pace refused, for the customers whose estimate is no measurement but CUBIC's beta of it
   * (fewer answers came back than the pace): the limit lies between the two.
   */
  refused?: Record<string, number>;
  /** Call windows learnt from lockouts. */
  windows?: { partner?: CallWindow; customers?: Record<string, CallWindow> };
  /**
   * What the first 429 of customers still in slow start had admitted in its second (no rate: a
   * burst may be in it), for a next run that knows no estimate at all to start its slow start from.
   */
  slowStart?: Record<string, number>;
}

/** A warm start from an estimate that is no long-run rate (the pace at a 429, which a climb or a burst may have let run ahead) holds at this share of it. */
const WARM_HOLD_SHARE = 0.9;

/**
 * A warm start climbs from an estimate that is CUBIC's beta of a pace refused only where that
 * refusal asked to wait no longer than this: a climb past the limit costs one refusal's wait.
 */
const CHEAP_REFUSAL_MS = 1_000;

/** Admitted this long without a 429, the rate admitted lately replaces a lower estimate. */
const SUSTAINED_MS = 4_000;

/**
 * A warm start's climb toward a share of an earlier run's pace refused takes this long: the
 * earlier run measured the bracket, and a job of a few seconds spends most of them at its top
 * (CUBIC's own curve would take about 4 s to climb from 0.7 of a pace to 0.9 of it).
 */
const WARM_CLIMB_MS = 1_000;

/** A warm start holds its pace this long before probing past the hint. */
const WARM_HOLD_MS = 8_000;

export class WarmStart {
  private readonly partnerWide: number | undefined;
  private readonly partnerWideIsLongRun: boolean;
  private readonly partnerWideRefused: number | undefined;
  private readonly longRun: ReadonlySet<string>;

  constructor(
    private readonly clock: Clock,
    private readonly minRate: number,
    private readonly warm: PacingState | undefined,
    private readonly estimator: RateEstimator,
  ) {
    this.longRun = new Set(warm?.longRun ?? []);
    // The long-run estimates are the better measurements: the median of those where there are any.
    const all = Object.entries(warm?.customers ?? {});
    const measuredLongRun = all.filter(([id]) => this.longRun.has(id));
    this.partnerWideIsLongRun = measuredLongRun.length > 0;
    this.partnerWide = median((measuredLongRun.length > 0 ? measuredLongRun : all).map(([, rate]) => rate));
    // The pace the median's customers (those taken for its limit) were refused at: an outlier's is another limit's.
    const taken = Object.entries(warm?.refused ?? {}).filter(([id]) => sameLimit(warm?.customers[id], this.partnerWide));
    this.partnerWideRefused = median(taken.map(([, pace]) => pace));
  }

  startPartner(scope: Scope): void {
    if (!this.warm) return;
    this.start(scope, this.warm.partner, false);
    startWindow(scope, this.warm.windows?.partner);
  }

  startCustomer(scope: Scope, customerId: string): void {
    if (!this.warm) return;
    const own = this.warm.customers[customerId];
    const refused = this.warm.refused?.[customerId];
    const partnerWide = this.partnerWide;
    if (own === undefined) {
      const slowStart = this.warm.slowStart?.[customerId];
      if (partnerWide === undefined && slowStart !== undefined) this.startSlow(scope, slowStart);
      // Taken for the median's limit, as a customer measured near it is.
      else this.start(scope, partnerWide, this.partnerWideIsLongRun, this.partnerWideRefused);
    } else if (partnerWide !== undefined && sameLimit(own, partnerWide)) {
      // Raised to the median, a pace at a 429 keeps its wider margin (it may have run ahead of the limit).
      this.start(scope, partnerWide, this.partnerWideIsLongRun && (this.longRun.has(customerId) || own >= partnerWide), refused ?? this.partnerWideRefused);
    } else {
      // Between the median and the pace the median's customers were refused at, it is the same limit measured closer.
      const bracketed = partnerWide !== undefined && this.partnerWideRefused !== undefined && own > partnerWide && own < this.partnerWideRefused;
      this.start(scope, own, this.longRun.has(customerId), refused ?? (bracketed ? this.partnerWideRefused : undefined));
    }
    startWindow(scope, this.warm.windows?.customers?.[customerId]);
  }

  /** What was learned, for the next run: this run's estimates, and the earlier run's for scopes it did not reach. */
  snapshot(partner: Scope, customers: ReadonlyMap<string, Scope>): PacingState {
    const learned: Record<string, number> = {};
    const longRun = new Set<string>();
    const refused: Record<string, number> = {};
    const own = new Map<string, { rate: number; longRun: boolean }>();
    for (const [id, scope] of customers) if (measured(scope)) own.set(id, this.estimate(scope, this.clock.now()));
    // Against the most the partner's limit was measured to admit: one lowered later, as customers
    // finished and each refusal of the rest was taken for it, would look short of their estimates.
    const accounted = measured(partner) && ownLimitsAccountFor(Math.max(partner.ceiling, partner.provenRate ?? 0), customers.size, [...own.values()].map((e) => e.rate));
    // Where the partner's limit was met, a customer's pace refused may have been its share of it.
    const partnerMet = !accounted && (measured(partner) || [...customers.values()].some((scope) => scope.partnerBound));
    const windows: Record<string, CallWindow> = {};
    const slowStart: Record<string, number> = {};
    for (const [id, scope] of customers) {
      if (scope.window) windows[id] = scope.window;
      if (scope.phase === "slow-start" && scope.ceiling !== undefined) slowStart[id] = scope.ceiling;
      if (!measured(scope) || (scope.partnerBound && partnerMet)) continue;
      const estimate = own.get(id)!;
      learned[id] = estimate.rate;
      if (estimate.longRun) longRun.add(id);
      else if (estimate.rate === scope.ceiling) {
        const pace = scope.episodeStartedAt === -Infinity ? this.warm?.refused?.[id] : climbable(scope, partnerMet);
        if (pace !== undefined) refused[id] = pace;
      }
    }
    for (const [id, rate] of Object.entries(this.warm?.customers ?? {})) {
      if (learned[id] !== undefined) continue;
      learned[id] = rate;
      if (this.longRun.has(id)) longRun.add(id);
      const earlier = this.warm?.refused?.[id];
      if (earlier !== undefined) refused[id] = earlier;
    }
    for (const [id, window] of Object.entries(this.warm?.windows?.customers ?? {})) windows[id] ??= window;
    for (const [id, admitted] of Object.entries(this.warm?.slowStart ?? {})) slowStart[id] ??= admitted;
    // Windows several customers learnt in this run are one window shared by the partner (its count
    // split between them): saved as the partner's, the next run's customers share it whatever
    // their number, instead of each keeping a share.
    const shared = [...customers].filter(([, scope]) => scope.window).map(([id, scope]) => [id, scope.window!] as const);
    let partnerWindow = partner.window ?? this.warm?.windows?.partner;
    if (shared.length >= 2) {
      partnerWindow = { limit: shared.reduce((sum, [, w]) => sum + w.limit, 0), ms: Math.max(...shared.map(([, w]) => w.ms)) };
      for (const [id] of shared) delete windows[id];
    }
    const state: PacingState = { version: 1, savedAt: new Date(this.clock.now()).toISOString(), customers: learned };
    const partnerRate = measured(partner) ? (accounted ? undefined : partner.ceiling) : this.warm?.partner;
    if (partnerRate !== undefined) state.partner = partnerRate;
    if (longRun.size > 0) state.longRun = [...longRun];
    if (Object.keys(refused).length > 0) state.refused = refused;
    for (const id of Object.keys(learned)) delete slowStart[id]; // an estimate is the better start
    if (Object.keys(slowStart).length > 0) state.slowStart = slowStart;
    if (partnerWindow || Object.keys(windows).length > 0) {
      state.windows = {};
      if (partnerWindow) state.windows.partner = partnerWindow;
      if (Object.keys(windows).length > 0) state.windows.customers = windows;
    }
    return state;
  }

  /**
   * The estimate to save: the long-run rate measured between refusals where there is one, else the
   * last estimate. A long-run rate measured while the scope asked for little more than was
   * admitted (the pace, not the limit, set what passed: a token bucket full for part of the time
   * lost what it refilled then) is a bound from below, not the rate.
   */
  private estimate(scope: Scope & { ceiling: number }, now: number): { rate: number; longRun: boolean } {
    const longRun = this.estimator.longRunRate(scope);
    const estimate = longRun === undefined ? { rate: scope.ceiling, longRun: false } : longRun.saturated ? { rate: longRun.rate, longRun: true } : { rate: Math.max(longRun.rate, scope.ceiling), longRun: false };
    // A pace that probed past the estimate and was admitted for a good while since the last 429
    // has shown the estimate stale: what it was admitted at is the better figure.
    // Measured up to the scope's last answer: a customer whose work ended early sent nothing since.
    const end = Math.min(now, scope.answers[scope.answers.length - 1] ?? now);
    const recent = this.estimator.measure(scope, end);
    const unthrottledMs = end - Math.max(scope.episodeStartedAt, scope.resumedAt);
    if (recent.trusted && unthrottledMs >= SUSTAINED_MS && recent.rate > estimate.rate) return { rate: recent.rate, longRun: false };
    return estimate;
  }

  private start(scope: Scope, ceiling: number | undefined, longRun: boolean, refused?: number): void {
    if (ceiling === undefined || !(ceiling > 0)) return;
    scope.ceiling = ceiling;
    scope.rate = Math.max(this.minRate, ceiling * (longRun ? HOLD_SHARE : WARM_HOLD_SHARE));
    scope.phase = "hold";
    // CUBIC's curve starts at the pace it holds: no climb back toward a pace refused, which this run has not met.
    scope.loweredTo = scope.rate;
    scope.refusedPace = scope.rate / HOLD_SHARE;
    // An estimate that is CUBIC's beta of a pace refused is a bound from below: the pace climbs on
    // CUBIC's concave curve toward a share of the pace refused, in `WARM_CLIMB_MS`, holds there,
    // then probes past it.
    if (refused !== undefined && WARM_HOLD_SHARE * refused > scope.refusedPace) {
      scope.refusedPace = WARM_HOLD_SHARE * refused;
      scope.climbMs = WARM_CLIMB_MS;
    }
    scope.holdMs = WARM_HOLD_MS;
    scope.lastIncreaseAt = this.clock.now();
  }

  /** A slow start in rate from what an earlier run's first 429 admitted in its second, as after that 429 (pace-control.ts). */
  private startSlow(scope: Scope, admitted: number): void {
    if (!(admitted > 0)) return;
    scope.ceiling = admitted;
    scope.rate = Math.max(this.minRate, admitted);
    scope.phase = "slow-start";
    scope.lastIncreaseAt = this.clock.now();
  }
}

function startWindow(scope: Scope, window: CallWindow | undefined): void {
  if (!(window && window.limit >= 1 && window.ms > 0)) return;
  scope.window = { limit: window.limit, ms: window.ms };
  scope.windowHint = true;
}

/**
 * The pace refused to climb back toward in the next run, where the scope's estimate is CUBIC's
 * beta of it: a refusal of the hold (no slow start's overshoot), by the customer's own limit (a
 * pace refused where the partner's limit was met may have been its share of it), that asked for
 * a short wait.
 */
function climbable(scope: Scope & { ceiling: number }, partnerMet: boolean): number | undefined {
  if (partnerMet || !scope.ceilingIsBeta || scope.episodeRetryAfterMs > CHEAP_REFUSAL_MS) return undefined;
  return scope.refusedPace !== undefined && scope.refusedPace > scope.ceiling ? scope.refusedPace : undefined;
}

/** The scope's estimate was measured in this run or kept from the earlier one (not a slow start's guess). */
function measured(scope: Scope): scope is Scope & { ceiling: number } {
  return scope.ceiling !== undefined && scope.phase === "hold";
}
