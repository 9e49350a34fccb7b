// A fake Partner Center for pacing simulations: token buckets per customer (and optionally for the
// partner) on the fake clock, answering 429 + Retry-After when a bucket is empty, with a fixed
// latency. It records when every attempt arrived and what it was told to wait.
import type { ApiResult, PartnerCenterApi } from "../../dist/partner-center/api.js";
import type { LicenseUpdate } from "../../dist/partner-center/types.js";
import type { FakeClock } from "./fake-clock.js";
import { created, throttled } from "./fixtures.js";

class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly ratePerSecond: number,
    private readonly capacity: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.last = now;
  }
  /** Take a token, or say how many seconds until one is there. */
  take(now: number): { ok: true } | { ok: false; retryAfterSeconds: number } {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - this.tokens) / this.ratePerSecond)) };
  }
  peek(now: number): boolean {
    return Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond) >= 1;
  }
}

export interface Arrival {
  at: number;
  customerId: string;
  requestId: string;
  status: number;
  retryAfterSeconds?: number;
}

export interface RateLimitedApiOptions {
  clock: FakeClock;
  customerRatePerSecond: number;
  partnerRatePerSecond?: number;
  latencyMs: number;
}

export function createRateLimitedApi(options: RateLimitedApiOptions): PartnerCenterApi & { arrivals: Arrival[] } {
  const { clock } = options;
  const customers = new Map<string, TokenBucket>();
  const partner = options.partnerRatePerSecond ? new TokenBucket(options.partnerRatePerSecond, options.partnerRatePerSecond, clock.now()) : undefined;
  const arrivals: Arrival[] = [];
  const unused = (): never => {
    throw new Error("not used in the simulation");
  };
  return {
    arrivals,
    getSubscribedSkus: unused,
    getUsersPage: unused,
    async postLicenseUpdate(customerId, _userId, update, ctx): Promise<ApiResult<LicenseUpdate>> {
      await clock.sleep(options.latencyMs / 2);
      const now = clock.now();
      let bucket = customers.get(customerId);
      if (!bucket) customers.set(customerId, (bucket = new TokenBucket(options.customerRatePerSecond, options.customerRatePerSecond, now)));
      // Both scopes must have room; a refusal by either does not spend the other's token.
      let answer: { ok: true } | { ok: false; retryAfterSeconds: number };
      if (partner && !partner.peek(now)) answer = partner.take(now);
      else {
        answer = bucket.take(now);
        if (answer.ok && partner) partner.take(now);
      }
      const arrival: Arrival = { at: now, customerId, requestId: ctx.requestId, status: answer.ok ? 201 : 429 };
      if (!answer.ok) arrival.retryAfterSeconds = answer.retryAfterSeconds;
      arrivals.push(arrival);
      await clock.sleep(options.latencyMs / 2);
      return answer.ok ? created(update) : throttled(answer.retryAfterSeconds);
    },
  };
}
