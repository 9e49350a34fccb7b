// Exponential backoff with full jitter (AWS architecture blog): the wait before retry n is uniform
// in [0, min(cap, base * 2^n)], so many clients failing together do not retry together.

export interface BackoffOptions {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 30_000 };

/** Wait before the retry that follows failure number `failureIndex` (0 for the first failure). */
export function backoffDelayMs(failureIndex: number, random: () => number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.max(0, failureIndex));
  return Math.floor(random() * ceiling);
}
