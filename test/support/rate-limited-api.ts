// A fake Partner Center for pacing simulations: the emulator's own limiters (any shape, per
// customer and per partner) on the fake clock, answering 429 + Retry-After as the emulator would,
// with a fixed latency. It records when every attempt arrived and what it was told to wait.
import { Throttle } from "../../dist/emulator/throttle.js";
import type { RateLimits, ThrottleBehaviour } from "../../dist/emulator/rate-limit.js";
import type { ApiResult, PartnerCenterApi } from "../../dist/partner-center/api.js";
import type { LicenseUpdate } from "../../dist/partner-center/types.js";
import type { FakeClock } from "./fake-clock.js";
import { created, throttled } from "./execute-fixtures.js";

export interface Arrival {
  at: number;
  customerId: string;
  requestId: string;
  status: number;
  retryAfterSeconds?: number;
}

export interface RateLimitedApiOptions {
  clock: FakeClock;
  /** Token bucket per customer, burst = rate (when `rateLimit` is not given). */
  customerRatePerSecond?: number;
  partnerRatePerSecond?: number;
  rateLimit?: RateLimits;
  throttling?: ThrottleBehaviour;
  latencyMs: number;
}

export function createRateLimitedApi(options: RateLimitedApiOptions): PartnerCenterApi & { arrivals: Arrival[] } {
  const { clock } = options;
  const limits: RateLimits = options.rateLimit ?? {
    ...(options.customerRatePerSecond ? { perCustomer: { ratePerSecond: options.customerRatePerSecond } } : {}),
    ...(options.partnerRatePerSecond ? { perPartner: { ratePerSecond: options.partnerRatePerSecond } } : {}),
  };
  const throttle = new Throttle(limits, () => clock.now(), options.throttling ?? {});
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
      const verdict = throttle.admit(customerId);
      const arrival: Arrival = { at: clock.now(), customerId, requestId: ctx.requestId, status: verdict.admitted ? 201 : 429 };
      if (!verdict.admitted) arrival.retryAfterSeconds = verdict.retryAfterSeconds;
      arrivals.push(arrival);
      await clock.sleep(options.latencyMs / 2);
      return verdict.admitted ? created(update) : throttled(verdict.retryAfterSeconds);
    },
  };
}
