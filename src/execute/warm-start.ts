// Starting from what an earlier run learned (`--pacing-state`): each scope it knows starts paced
// just under the allowance estimated there, as if throttled there, and holds that pace for
// `WARM_HOLD_MS` before probing past it (a hint, never a ceiling: a short job then sends no 429
// at all, a long one still finds a higher allowance). Customers it does not know start from the
// median of those it does (the partner-wide estimate). At the end, what this run measured
// replaces it, scope by scope; an estimate still in slow start (not measured) is not saved.
import type { Clock } from "./clock.js";
import { HOLD_SHARE } from "./pace-control.js";
import type { Scope } from "./pace-scope.js";

/** What a run learned, to start the next one from (`--pacing-state`): the rate each scope was last throttled at. */
export interface PacingState {
  version: 1;
  savedAt: string;
  partner?: number;
  customers: Record<string, number>;
}

/** A warm start holds its pace this long before probing past the hint. */
const WARM_HOLD_MS = 8_000;

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
    for (const [id, scope] of customers) if (measured(scope)) learned[id] = scope.ceiling;
    for (const [id, ceiling] of Object.entries(this.warm?.customers ?? {})) learned[id] ??= ceiling;
    const state: PacingState = { version: 1, savedAt: new Date(this.clock.now()).toISOString(), customers: learned };
    const partnerCeiling = measured(partner) ? partner.ceiling : this.warm?.partner;
    if (partnerCeiling !== undefined) state.partner = partnerCeiling;
    return state;
  }

  private start(scope: Scope, ceiling: number | undefined): void {
    if (ceiling === undefined || !(ceiling > 0)) return;
    scope.ceiling = ceiling;
    scope.rate = Math.max(this.minRate, ceiling * HOLD_SHARE);
    scope.phase = "hold";
    scope.holdMs = WARM_HOLD_MS;
    scope.lastIncreaseAt = this.clock.now();
  }
}

/** The scope's estimate was measured in this run or kept from the earlier one (not a slow start's guess). */
function measured(scope: Scope): scope is Scope & { ceiling: number } {
  return scope.ceiling !== undefined && scope.phase === "hold";
}
