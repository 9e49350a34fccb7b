// What the customers' estimates say taken together, for a warm start: the partner-wide figure (their
// median), which estimates are taken for its limit, and whether their own limits account for a
// partner limit measured beside them.

/**
 * A partner limit no more than this short of the sum of the customers' own estimates is accounted
 * for by them. Over real sockets, ten customers each meeting a 10/s limit of their own (a burst of
 * 1) were taken for a partner limit, their traffic measured at 62 to 78/s where it was met, beside
 * estimates summing to 74/s (CUBIC's 0.7 of the paces refused, under what they were admitted at).
 * Ten sharing a partner's 10/s leave estimates that sum to about four times the limit measured
 * (13.5/s on the fake clock: bursts, and shares measured while the others waited).
 */
const OWN_LIMITS_ACCOUNT = 1.25;

/**
 * The customers' own estimates account for the partner's limit measured: their sum (a customer this
 * run measured nothing of counted at the median) comes to no more than `OWN_LIMITS_ACCOUNT` times it:
 * customers meeting their own limits at the same moment look like a partner limit.
 */
export function ownLimitsAccountFor(partnerRate: number, customers: number, estimates: readonly number[]): boolean {
  const middle = median(estimates);
  if (middle === undefined) return false;
  const sum = estimates.reduce((total, rate) => total + rate, 0) + middle * (customers - estimates.length);
  return sum <= OWN_LIMITS_ACCOUNT * partnerRate;
}

/** A customer's estimate this close to the partner-wide median (as a share of it) is taken for the same limit. */
const SAME_LIMIT_BAND = 0.2;

/** An estimate close enough to the partner-wide median to be taken for the same limit. */
export function sameLimit(rate: number | undefined, partnerWide: number | undefined): boolean {
  return rate !== undefined && partnerWide !== undefined && Math.abs(rate - partnerWide) <= SAME_LIMIT_BAND * partnerWide;
}

/** The middle of the rates (the upper of the two middle ones), undefined for none. */
export function median(rates: readonly number[]): number | undefined {
  const sorted = [...rates].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
