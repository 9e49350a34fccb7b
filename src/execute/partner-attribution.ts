// Partner or customer, by evidence, not timing alone: a customer refused while it was admitted at
// well under the rate its own limit has already been measured to admit (over at least a second,
// after its first 429) was not refused by its own limit; two such customers within `windowMs` are
// the partner's limit. Customers starting together, each meeting its own limit in slow start, are
// no such evidence: none of them has a measured rate yet.
import type { Scope } from "./pace-scope.js";
import type { RateEstimator } from "./rate-estimator.js";

/** Admitted at under this share of its measured rate: not its own limit. */
const WELL_UNDER = 0.6;

export class PartnerAttribution {
  /** Recent 429s that point at the partner: customer and time. */
  private readonly recent: { customerId: string; at: number }[] = [];

  constructor(
    private readonly windowMs: number,
    private readonly estimator: RateEstimator,
  ) {}

  /** Whether this 429 of a customer was not its own limit's doing (read before its pace is lowered). */
  pointsAtPartner(customer: Scope, partner: Scope, now: number): boolean {
    const measured = this.estimator.measure(customer, now);
    // In slow start a customer meets its own limit: no evidence of the partner's.
    if (!measured.trusted || customer.phase !== "hold") return false;
    if (customer.provenRate !== undefined && measured.rate < WELL_UNDER * customer.provenRate) return true;
    // A customer that carries under half of the partner's traffic is likely sharing its limit.
    return measured.rate < 0.5 * this.estimator.achievedRate(partner, now);
  }

  /** What the customer's own limit was measured to admit: the most any trusted measurement saw. */
  noteProven(customer: Scope, now: number): void {
    const measured = this.estimator.measure(customer, now);
    if (measured.trusted && customer.episodeStartedAt > -Infinity) customer.provenRate = Math.max(customer.provenRate ?? 0, measured.rate);
  }

  /**
   * The partner's limit was met: the partner's traffic then, where measured over a second and
   * more, is what that limit admitted. A limit lowered later (refusals while fewer customers
   * sent) is no measurement of more than it admitted here (warm-start.ts).
   */
  notePartnerMet(partner: Scope, now: number): void {
    const traffic = this.estimator.measure(partner, now);
    if (traffic.trusted) partner.provenRate = Math.max(partner.provenRate ?? 0, traffic.rate);
  }

  /** Notes such a 429; true when it makes two distinct customers within the window: the partner's limit. */
  isPartnerLimit(customerId: string, now: number): boolean {
    this.recent.push({ customerId, at: now });
    while (this.recent.length > 0 && this.recent[0]!.at < now - this.windowMs) this.recent.shift();
    return this.recentCustomers().size >= 2;
  }

  /** The customers whose 429s pointed at the partner within the window. */
  recentCustomers(): Set<string> {
    return new Set(this.recent.map((t) => t.customerId));
  }
}
