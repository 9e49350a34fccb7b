// Throttling: one token bucket for the partner and one per customer (partner-center-api.md §7).
// A request passes only if both buckets hold a token; a refused request takes none, and its
// Retry-After is the whole seconds (at least 1) until both would hold one.
import type { RateLimit, RateLimits } from "./rate-limit.js";

class TokenBucket {
  private tokens: number;
  private updatedAt: number;
  private readonly burst: number;

  constructor(
    private readonly rate: number,
    burst: number | undefined,
    now: number,
  ) {
    this.burst = burst ?? Math.max(1, rate);
    this.tokens = this.burst;
    this.updatedAt = now;
  }

  /** Milliseconds until one token is there (0: now). */
  waitMs(now: number): number {
    if (now > this.updatedAt) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.rate);
      this.updatedAt = now;
    }
    return this.tokens >= 1 ? 0 : ((1 - this.tokens) / this.rate) * 1000;
  }

  take(): void {
    this.tokens -= 1;
  }
}

export type ThrottleVerdict = { admitted: true } | { admitted: false; retryAfterSeconds: number; scope: "partner" | "customer" };

export class Throttle {
  private readonly partner?: TokenBucket;
  private readonly customers = new Map<string, TokenBucket>();

  constructor(
    private readonly limits: RateLimits,
    private readonly now: () => number,
  ) {
    if (limits.perPartner) this.partner = bucket(limits.perPartner, now());
  }

  get settings(): RateLimits {
    return this.limits;
  }

  /** `customerKey` undefined: a call not aimed at one customer (only the partner bucket applies). */
  admit(customerKey: string | undefined): ThrottleVerdict {
    const now = this.now();
    const partnerWait = this.partner ? this.partner.waitMs(now) : 0;
    let customer: TokenBucket | undefined;
    if (this.limits.perCustomer && customerKey !== undefined) {
      customer = this.customers.get(customerKey);
      if (!customer) {
        customer = bucket(this.limits.perCustomer, now);
        this.customers.set(customerKey, customer);
      }
    }
    const customerWait = customer ? customer.waitMs(now) : 0;
    if (partnerWait > 0 || customerWait > 0) {
      const wait = Math.max(partnerWait, customerWait);
      return {
        admitted: false,
        retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)),
        scope: partnerWait >= customerWait ? "partner" : "customer",
      };
    }
    this.partner?.take();
    customer?.take();
    return { admitted: true };
  }
}

function bucket(limit: RateLimit, now: number): TokenBucket {
  return new TokenBucket(limit.ratePerSecond, limit.burst, now);
}
