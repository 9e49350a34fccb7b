// Starting from what an earlier run learned (`--pacing-state`): each scope it knows starts paced
// just under the rate it was last throttled at, as if throttled there, and may grow past it (a
// hint, never a ceiling). Customers it does not know start from the median of those it does (the
// partner-wide estimate). At the end, what this run learned replaces it, scope by scope.
import type { Clock } from "./clock.js";
import type { Scope } from "./pace-scope.js";

/** What a run learned, to start the next one from (`--pacing-state`): the rate each scope was last throttled at. */
export interface PacingState {
  version: 1;
  savedAt: string;
  partner?: number;
  customers: Record<string, number>;
}

/** A warm start paces at this share of the rate last throttled at. */
const WARM_SHARE = 0.95;

export class WarmStart {
  private readonly partnerWide: number | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly minRate: number,
    private readonly warm: PacingState | undefined,
  ) {
    const known = Object.values(warm?.customers ?? {}).sort((a, b) => a - b);
    this.partnerWide = known.length > 0 ? known[Math.floor(known.length / 2)] : undefined;
  }

  startPartner(scope: Scope): void {
    if (this.warm) this.start(scope, this.warm.partner);
  }

  startCustomer(scope: Scope, customerId: string): void {
    if (this.warm) this.start(scope, this.warm.customers[customerId] ?? this.partnerWide);
  }

  /** What was learned, for the next run: this run's ceilings, and the earlier run's for scopes it did not reach. */
  snapshot(partner: Scope, customers: ReadonlyMap<string, Scope>): PacingState {
    const learned: Record<string, number> = {};
    for (const [id, scope] of customers) if (scope.ceiling !== undefined) learned[id] = scope.ceiling;
    for (const [id, ceiling] of Object.entries(this.warm?.customers ?? {})) learned[id] ??= ceiling;
    const state: PacingState = { version: 1, savedAt: new Date(this.clock.now()).toISOString(), customers: learned };
    const partnerCeiling = partner.ceiling ?? this.warm?.partner;
    if (partnerCeiling !== undefined) state.partner = partnerCeiling;
    return state;
  }

  private start(scope: Scope, ceiling: number | undefined): void {
    if (ceiling === undefined || !(ceiling > 0)) return;
    const now = this.clock.now();
    scope.ceiling = ceiling;
    scope.rate = Math.max(this.minRate, ceiling * WARM_SHARE);
    scope.lastIncreaseAt = now;
    scope.firstActivityAt = now - 1_000; // trusted: no slow start in rate
    scope.hinted = true;
  }
}
