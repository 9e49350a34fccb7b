// Starting from what an earlier run learned (`--pacing-state`): each scope it knows starts paced
// just under the allowance estimated there, as if throttled there, and holds that pace for
// `WARM_HOLD_MS` before probing past it (a hint, never a ceiling: a short job then sends no 429
// at all, a long one still finds a higher allowance). A call window learnt from a lockout
// (window-gate.ts) is kept too, so the next run sends a window's calls and then waits for the
// window instead of running into the lockout again.
//
// Each customer starts from its own estimate; one the state does not know, from the partner-wide
// figure: the median of the customers' long-run estimates (of all where there are none). An
// estimate is the long-run rate the limit admitted between refusals where one was measured (a
// burst saved up before the first refusal is not in it), else the pace at the last 429, and a
// rate admitted for seconds past it since the last 429 replaces it. Estimates still in slow start
// (not measured), and those of customers refused by the partner's limit (their share of it, not
// their own limit), are not saved. At the end, what this run measured replaces the earlier run's,
// scope by scope.
import type { Clock } from "./clock.js";
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
  /** Call windows learnt from lockouts. */
  windows?: { partner?: CallWindow; customers?: Record<string, CallWindow> };
}

/** A warm start from an estimate that is no long-run rate (the pace at a 429, which a climb or a burst may have let run ahead) holds at this share of it. */
const WARM_HOLD_SHARE = 0.9;

/** Admitted this long without a 429, the rate admitted lately replaces a lower estimate. */
const SUSTAINED_MS = 4_000;

/** A warm start holds its pace this long before probing past the hint. */
const WARM_HOLD_MS = 8_000;

export class WarmStart {
  private readonly partnerWide: number | undefined;
  private readonly partnerWideIsLongRun: boolean;
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
    const known = (measuredLongRun.length > 0 ? measuredLongRun : all).map(([, rate]) => rate).sort((a, b) => a - b);
    this.partnerWideIsLongRun = measuredLongRun.length > 0;
    this.partnerWide = known.length > 0 ? known[Math.floor(known.length / 2)] : undefined;
  }

  startPartner(scope: Scope): void {
    if (!this.warm) return;
    this.start(scope, this.warm.partner, false);
    startWindow(scope, this.warm.windows?.partner);
  }

  startCustomer(scope: Scope, customerId: string): void {
    if (!this.warm) return;
    const own = this.warm.customers[customerId];
    if (own !== undefined) this.start(scope, own, this.longRun.has(customerId));
    else this.start(scope, this.partnerWide, this.partnerWideIsLongRun);
    startWindow(scope, this.warm.windows?.customers?.[customerId]);
  }

  /** What was learned, for the next run: this run's estimates, and the earlier run's for scopes it did not reach. */
  snapshot(partner: Scope, customers: ReadonlyMap<string, Scope>): PacingState {
    const learned: Record<string, number> = {};
    const longRun = new Set<string>();
    const windows: Record<string, CallWindow> = {};
    for (const [id, scope] of customers) {
      if (scope.window) windows[id] = scope.window;
      if (!measured(scope) || scope.partnerBound) continue;
      const estimate = this.estimate(scope, this.clock.now());
      learned[id] = estimate.rate;
      if (estimate.longRun) longRun.add(id);
    }
    for (const [id, rate] of Object.entries(this.warm?.customers ?? {})) {
      if (learned[id] !== undefined) continue;
      learned[id] = rate;
      if (this.longRun.has(id)) longRun.add(id);
    }
    for (const [id, window] of Object.entries(this.warm?.windows?.customers ?? {})) windows[id] ??= window;
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
    const partnerRate = measured(partner) ? partner.ceiling : this.warm?.partner;
    if (partnerRate !== undefined) state.partner = partnerRate;
    if (longRun.size > 0) state.longRun = [...longRun];
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
    const recent = this.estimator.measure(scope, now);
    const unthrottledMs = now - Math.max(scope.episodeStartedAt, scope.resumedAt);
    if (recent.trusted && unthrottledMs >= SUSTAINED_MS && recent.rate > estimate.rate) return { rate: recent.rate, longRun: false };
    return estimate;
  }

  private start(scope: Scope, ceiling: number | undefined, longRun: boolean): void {
    if (ceiling === undefined || !(ceiling > 0)) return;
    scope.ceiling = ceiling;
    scope.rate = Math.max(this.minRate, ceiling * (longRun ? HOLD_SHARE : WARM_HOLD_SHARE));
    scope.phase = "hold";
    // CUBIC's curve starts at the pace it holds: no climb back toward a pace refused, which this run has not met.
    scope.loweredTo = scope.rate;
    scope.refusedPace = scope.rate / HOLD_SHARE;
    scope.holdMs = WARM_HOLD_MS;
    scope.lastIncreaseAt = this.clock.now();
  }
}

function startWindow(scope: Scope, window: CallWindow | undefined): void {
  if (!(window && window.limit >= 1 && window.ms > 0)) return;
  scope.window = { limit: window.limit, ms: window.ms };
  scope.windowHint = true;
}

/** The scope's estimate was measured in this run or kept from the earlier one (not a slow start's guess). */
function measured(scope: Scope): scope is Scope & { ceiling: number } {
  return scope.ceiling !== undefined && scope.phase === "hold";
}
