// When a held access token must be renewed: before it expires, by a margin that suits both
// hour-long tokens (5 minutes) and the seconds-long tokens of tests (a fifth of the lifetime).
// Pure functions over times in milliseconds.

export const MAX_RENEWAL_MARGIN_MS = 5 * 60_000;
export const RENEWAL_MARGIN_FRACTION = 0.2;

export interface HeldAccessToken {
  token: string;
  /** On the provider's clock; a conservative estimate (never later than the real expiry). */
  expiresAtMs: number;
  lifetimeMs: number;
  /** When the renewal that produced it completed, on the provider's clock. */
  obtainedAtMs: number;
}

export function renewalMarginMs(lifetimeMs: number): number {
  return Math.min(MAX_RENEWAL_MARGIN_MS, Math.max(0, lifetimeMs) * RENEWAL_MARGIN_FRACTION);
}

/** Whether the token is still good to hand out at `nowMs`. */
export function isFresh(held: HeldAccessToken | undefined, nowMs: number): held is HeldAccessToken {
  return held !== undefined && nowMs < held.expiresAtMs - renewalMarginMs(held.lifetimeMs);
}

/**
 * A forced renewal (after a 401) right after a renewal completed is served by that renewal: the
 * 401 was for the token it replaced. Spares the token endpoint a burst when many requests that
 * carried the old token come back 401 together. The provider applies it only when that renewal was
 * itself forced: after a first sign-in or a scheduled renewal, a 401 may be for the held token.
 */
export function forcedRenewalAlreadyServed(held: HeldAccessToken | undefined, nowMs: number, coalesceMs: number): boolean {
  return held !== undefined && nowMs < held.expiresAtMs && nowMs - held.obtainedAtMs < coalesceMs;
}
