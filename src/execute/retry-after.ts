// The wait a 429 imposes ("Partner Center API throttling guidance": wait Retry-After, then back off
// exponentially while 429 repeats; never retry at once, because refused calls accrue too).
//
// - Retry-After present: never less than RETRY_AFTER_FLOOR_MS, whatever it says (0, a negative
//   number, a date in the past and an unreadable value all mean "soon", never "at once").
// - Retry-After above RETRY_AFTER_CAP_MS: no timer is set for it (Node's timers overflow past
//   2^31-1 ms and then fire at once, over and over); the customer is throttled for now, and the
//   call ends with the 429 instead of waiting.
// - No Retry-After (an HTML gateway page): the waits start at MISSING_RETRY_AFTER_FIRST_MS and
//   double while 429 repeats, up to MISSING_RETRY_AFTER_MAX_MS: the documented example waits 57 s.
import type { ResponseMeta } from "../partner-center/api.js";

export const RETRY_AFTER_FLOOR_MS = 1_000;
/** The longest Retry-After the runner waits for: five minutes. */
export const RETRY_AFTER_CAP_MS = 5 * 60_000;
export const MISSING_RETRY_AFTER_FIRST_MS = 5_000;
export const MISSING_RETRY_AFTER_MAX_MS = 60_000;

/** @deprecated name kept for callers: the floor of every throttle wait. */
export const DEFAULT_RETRY_AFTER_FLOOR_MS = RETRY_AFTER_FLOOR_MS;

export interface ThrottleWait {
  /** What to wait before the next attempt; at most RETRY_AFTER_CAP_MS. */
  waitMs: number;
  /** The service asked for longer than the cap: do not wait, the customer is throttled for now. */
  beyondCap: boolean;
  /** Whether the 429 carried a Retry-After. */
  told: boolean;
}

/** The wait after a 429; `repeated` is how many 429s in a row came before this one for the call. */
export function throttleWait(meta: ResponseMeta | undefined, repeated = 0, floorMs: number = RETRY_AFTER_FLOOR_MS): ThrottleWait {
  const seconds = meta?.retryAfterSeconds;
  const floor = Math.max(RETRY_AFTER_FLOOR_MS, floorMs);
  if (seconds === undefined) {
    const waitMs = Math.min(MISSING_RETRY_AFTER_MAX_MS, Math.max(floor, MISSING_RETRY_AFTER_FIRST_MS * 2 ** Math.max(0, repeated)));
    return { waitMs, beyondCap: false, told: false };
  }
  if (!Number.isFinite(seconds)) return { waitMs: seconds > 0 ? RETRY_AFTER_CAP_MS : floor, beyondCap: seconds > 0, told: true };
  const asked = Math.ceil(seconds * 1000);
  if (asked > RETRY_AFTER_CAP_MS) return { waitMs: RETRY_AFTER_CAP_MS, beyondCap: true, told: true };
  return { waitMs: Math.max(floor, asked), beyondCap: false, told: true };
}

/** The wait after a 429, as one number (floor and cap applied). */
export function throttleWaitMs(meta: ResponseMeta | undefined, floorMs: number = RETRY_AFTER_FLOOR_MS): number {
  return throttleWait(meta, 0, floorMs).waitMs;
}
