// Partner or customer, by evidence, not timing alone: a customer refused while its pace is under
// the rate it was last throttled at was not probing its own limit, and one that carries under half
// of the partner's traffic is likely sharing a limit; two such customers within `windowMs` are the
// partner's limit. Customers starting together, each meeting its own limit in slow start, are no
// such evidence.
import { effectiveRate, type Scope } from "./pace-scope.js";
import type { RateEstimator } from "./rate-estimator.js";

export class PartnerAttribution {
  /** Recent 429s that point at the partner: customer and time. */
  private readonly recent: { customerId: string; at: number }[] = [];

  constructor(
    private readonly windowMs: number,
    private readonly estimator: RateEstimator,
  ) {}

  /** Whether this 429 of a customer was not its own limit's doing (read before its pace is lowered). */
  pointsAtPartner(customer: Scope, partner: Scope, now: number): boolean {
    const pace = effectiveRate(customer);
    const underOwnCeiling = customer.ceiling !== undefined && pace !== undefined && pace < customer.ceiling && !customer.untrusted;
    return underOwnCeiling || this.estimator.achievedRate(customer, now) < 0.5 * this.estimator.achievedRate(partner, now);
  }

  /** Notes such a 429; true when it makes two distinct customers within the window: the partner's limit. */
  isPartnerLimit(customerId: string, now: number): boolean {
    this.recent.push({ customerId, at: now });
    while (this.recent.length > 0 && this.recent[0]!.at < now - this.windowMs) this.recent.shift();
    return new Set(this.recent.map((t) => t.customerId)).size >= 2;
  }
}
