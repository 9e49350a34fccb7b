// The wait a 429 imposes: the service's Retry-After, never less; a floor when it sent none (the
// guidance is "never retry at once").
import type { ResponseMeta } from "../partner-center/api.js";

export const DEFAULT_RETRY_AFTER_FLOOR_MS = 1_000;

export function throttleWaitMs(meta: ResponseMeta | undefined, floorMs: number = DEFAULT_RETRY_AFTER_FLOOR_MS): number {
  const seconds = meta?.retryAfterSeconds;
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return floorMs;
  return Math.ceil(seconds * 1000);
}
