// Throttling: one limiter for the partner and one per customer, each of the shapes rate-limit.ts
// describes (token bucket, fixed window, sliding window). A request passes only if both admit it.
// A refused request takes nothing, unless refused calls accrue ("all requests accrue against your
// usage limits": then it counts like an admitted one). Its Retry-After is the whole seconds
// (at least 1) until both would admit a call, or, in the pessimistic and optimistic modes, a
// figure that is wrong the way real services are wrong.
import { throttled, type ApiAnswer } from "./errors.js";
import { isWindowLimit, type RateLimit, type RateLimits, type ThrottleBehaviour } from "./rate-limit.js";

/** What a gateway in front of the service answers when it throttles: a page, no Retry-After. */
const GATEWAY_PAGE = "<!DOCTYPE html>\n<html><head><title>429 Too Many Requests</title></head><body><h1>Too Many Requests</h1><p>The service is busy. Please try again later.</p></body></html>\n";

interface Limiter {
  /** Milliseconds until one call is admitted (0: now). */
  waitMs(now: number): number;
  /** Count one call (admitted, or refused when refusals accrue). */
  count(now: number): void;
}

class TokenBucket implements Limiter {
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

  waitMs(now: number): number {
    if (now > this.updatedAt) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.rate);
      this.updatedAt = now;
    }
    return this.tokens >= 1 ? 0 : ((1 - this.tokens) / this.rate) * 1000;
  }

  count(now: number): void {
    this.waitMs(now);
    // Below zero only when refusals accrue: the debt is paid back before the next call passes.
    this.tokens -= 1;
  }
}

/** Windows aligned on multiples of their length since the epoch (as a per-minute counter is). */
class FixedWindow implements Limiter {
  private windowStart = -Infinity;
  private calls = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  private roll(now: number): void {
    const start = Math.floor(now / this.windowMs) * this.windowMs;
    if (start !== this.windowStart) {
      this.windowStart = start;
      this.calls = 0;
    }
  }

  waitMs(now: number): number {
    this.roll(now);
    return this.calls < this.limit ? 0 : this.windowStart + this.windowMs - now;
  }

  count(now: number): void {
    this.roll(now);
    this.calls++;
  }
}

/** At most `limit` calls in any window ending now: a log of the calls' times, oldest first. */
class SlidingWindow implements Limiter {
  private readonly times: number[] = [];
  private head = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  private prune(now: number): void {
    while (this.head < this.times.length && this.times[this.head]! <= now - this.windowMs) this.head++;
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times.splice(0, this.head);
      this.head = 0;
    }
  }

  waitMs(now: number): number {
    this.prune(now);
    const inWindow = this.times.length - this.head;
    if (inWindow < this.limit) return 0;
    // The call that must leave the window before one more fits.
    return this.times[this.head + inWindow - this.limit]! + this.windowMs - now;
  }

  count(now: number): void {
    this.prune(now);
    this.times.push(now);
  }
}

function limiter(limit: RateLimit, now: number): Limiter {
  if (isWindowLimit(limit)) return limit.kind === "fixed-window" ? new FixedWindow(limit.limit, limit.windowSeconds * 1000) : new SlidingWindow(limit.limit, limit.windowSeconds * 1000);
  return new TokenBucket(limit.ratePerSecond, limit.burst, now);
}

export type ThrottleVerdict =
  | { admitted: true }
  | {
      admitted: false;
      /** What the answer says (the Retry-After header and the body's text). */
      retryAfterSeconds: number;
      /** The truth: milliseconds until a call would be admitted. */
      trueWaitMs: number;
      scope: "partner" | "customer";
    };

export class Throttle {
  private readonly partner?: Limiter;
  private readonly customers = new Map<string, Limiter>();

  constructor(
    private readonly limits: RateLimits,
    private readonly now: () => number,
    private readonly behaviour: ThrottleBehaviour = {},
  ) {
    if (limits.perPartner) this.partner = limiter(limits.perPartner, now());
  }

  get settings(): RateLimits {
    return this.limits;
  }

  get behaviourSettings(): ThrottleBehaviour {
    return this.behaviour;
  }

  /** `customerKey` undefined: a call not aimed at one customer (only the partner limit applies). */
  admit(customerKey: string | undefined): ThrottleVerdict {
    const now = this.now();
    const partnerWait = this.partner ? this.partner.waitMs(now) : 0;
    let customer: Limiter | undefined;
    if (this.limits.perCustomer && customerKey !== undefined) {
      customer = this.customers.get(customerKey);
      if (!customer) {
        customer = limiter(this.limits.perCustomer, now);
        this.customers.set(customerKey, customer);
      }
    }
    const customerWait = customer ? customer.waitMs(now) : 0;
    if (partnerWait > 0 || customerWait > 0) {
      if (this.behaviour.accrueRefused) {
        this.partner?.count(now);
        customer?.count(now);
      }
      const wait = Math.max(partnerWait, customerWait);
      return { admitted: false, retryAfterSeconds: this.said(wait), trueWaitMs: wait, scope: partnerWait >= customerWait ? "partner" : "customer" };
    }
    this.partner?.count(now);
    customer?.count(now);
    return { admitted: true };
  }

  /** The 429 answer of a refusal: the documented JSON body, or a gateway's HTML page ("gateway-html"). */
  refusal(seconds: number): ApiAnswer {
    if (this.behaviour.retryAfterFormat === "gateway-html") return { status: 429, body: GATEWAY_PAGE, errorCode: null, headers: {}, contentType: "text/html; charset=utf-8" };
    return throttled(seconds, this.retryAfterHeaders(seconds));
  }

  /** The Retry-After header of a refusal, in the configured format (none when "missing" or "gateway-html"). */
  retryAfterHeaders(seconds: number): Record<string, string> {
    const format = this.behaviour.retryAfterFormat ?? "seconds";
    if (format === "missing" || format === "gateway-html") return {};
    if (format === "http-date") return { "Retry-After": new Date(Math.ceil(this.now() / 1000) * 1000 + seconds * 1000).toUTCString() };
    return { "Retry-After": String(seconds) };
  }

  private said(trueWaitMs: number): number {
    const exact = Math.max(1, Math.ceil(trueWaitMs / 1000));
    const given = this.behaviour.retryAfterSeconds;
    if (this.behaviour.retryAfter === "pessimistic" && given !== undefined) return Math.max(exact, given);
    if (this.behaviour.retryAfter === "optimistic" && given !== undefined) return Math.min(exact, given);
    return exact;
  }
}
