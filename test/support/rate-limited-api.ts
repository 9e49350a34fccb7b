// A fake Partner Center for pacing simulations: the emulator's own limiters (any shape, per
// customer and per partner) on the fake clock, answering 429 + Retry-After as the emulator would,
// with a fixed latency. It records when every attempt arrived and what it was told to wait.
// As a run does, each customer's requests come after its lookups (`plannedAfterLookups`): its
// subscribed SKUs and its company name, read a few customers ahead, which count against the same
// limits as the writes (all requests accrue against the usage limits) and reach the pacer too.
import { Throttle } from "../../dist/emulator/throttle.js";
import type { RateLimits, ThrottleBehaviour } from "../../dist/emulator/rate-limit.js";
import type { LicenseUpdateRequest } from "../../dist/model.js";
import type { ApiResult, CallContext, PartnerCenterApi } from "../../dist/partner-center/api.js";
import type { LicenseUpdate } from "../../dist/partner-center/types.js";
import type { FakeClock } from "./fake-clock.js";
import { created, throttled } from "./execute-fixtures.js";

export interface Arrival {
  at: number;
  /** A license update, or one of the plan's lookups (SKUs, company name). */
  endpoint: "licenseUpdates" | "lookup";
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

export interface RateLimitedApi extends PartnerCenterApi {
  arrivals: Arrival[];
  /** One lookup of a customer (GET of its subscribed SKUs or of the customer), limited as a write is. */
  lookup(customerId: string, ctx: CallContext): Promise<ApiResult<unknown>>;
}

export function createRateLimitedApi(options: RateLimitedApiOptions): RateLimitedApi {
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
  /** Half the latency there, the limiters' verdict on arrival, half back. */
  const answer = async <T>(endpoint: Arrival["endpoint"], customerId: string, ctx: CallContext, ok: () => ApiResult<T>): Promise<ApiResult<T>> => {
    await clock.sleep(options.latencyMs / 2);
    const verdict = throttle.admit(customerId);
    const arrival: Arrival = { at: clock.now(), endpoint, customerId, requestId: ctx.requestId, status: verdict.admitted ? (endpoint === "lookup" ? 200 : 201) : 429 };
    if (!verdict.admitted) arrival.retryAfterSeconds = verdict.retryAfterSeconds;
    arrivals.push(arrival);
    await clock.sleep(options.latencyMs / 2);
    return verdict.admitted ? ok() : throttled(verdict.retryAfterSeconds);
  };
  return {
    arrivals,
    getSubscribedSkus: unused,
    getUsersPage: unused,
    postLicenseUpdate: (customerId, _userId, update, ctx) => answer("licenseUpdates", customerId, ctx, () => created(update)),
    lookup: (customerId, ctx) => answer("lookup", customerId, ctx, () => ({ ok: true, body: {}, meta: { status: 200 } })),
  };
}

/** The lookups a run makes for each customer before its writes: its subscribed SKUs and its company name, side by side. */
export const LOOKUPS_PER_CUSTOMER = 2;
/** Customers looked up ahead of the one being planned, as the plan stage does. */
const LOOKAHEAD = 4;

/**
 * The requests of `customers` in order, each customer's after its lookups (`lookup`, a logical call
 * with its retries), the next customers' lookups started a few ahead: the order and timing in
 * which a run's plan stage hands requests to the executor.
 */
export async function* plannedAfterLookups(
  customers: readonly string[],
  requestsOf: (customerId: string) => readonly LicenseUpdateRequest[],
  lookup: (customerId: string) => Promise<unknown>,
): AsyncGenerator<LicenseUpdateRequest> {
  const looked = new Map<string, Promise<unknown>>();
  const lookUp = (customerId: string): Promise<unknown> => {
    let done = looked.get(customerId);
    if (!done) looked.set(customerId, (done = Promise.all(Array.from({ length: LOOKUPS_PER_CUSTOMER }, () => lookup(customerId)))));
    return done;
  };
  for (let index = 0; index < customers.length; index++) {
    for (const ahead of customers.slice(index + 1, index + 1 + LOOKAHEAD)) void lookUp(ahead);
    await lookUp(customers[index]!);
    yield* requestsOf(customers[index]!);
  }
}
