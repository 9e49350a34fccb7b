// Rate limit settings of the emulator and the `--rate-limit` spec that sets them:
// "customer=10,partner=40" or "customer=10:20" (rate:burst, per second); "off" or "none": no limit.

/** A token bucket: `ratePerSecond` refill, `burst` capacity (default max(1, ratePerSecond)). */
export interface RateLimit {
  ratePerSecond: number;
  burst?: number;
}

export interface RateLimits {
  perCustomer?: RateLimit;
  perPartner?: RateLimit;
}

const SCOPES: Record<string, keyof RateLimits> = { customer: "perCustomer", partner: "perPartner" };

export function parseRateLimit(spec: string): RateLimits | { error: string } {
  const trimmed = spec.trim();
  if (/^(off|none)$/i.test(trimmed)) return {};
  if (trimmed === "") return { error: "empty rate limit; expected e.g. customer=10,partner=40" };
  const limits: RateLimits = {};
  for (const part of trimmed.split(",")) {
    const match = /^\s*([a-z]+)\s*=\s*([0-9.]+)\s*(?::\s*([0-9.]+)\s*)?$/i.exec(part);
    const scope = match?.[1] ? SCOPES[match[1].toLowerCase()] : undefined;
    if (!match || !scope) {
      return { error: `bad rate limit "${part.trim()}"; expected customer=RATE[:BURST] or partner=RATE[:BURST]` };
    }
    if (limits[scope]) return { error: `rate limit for ${match[1]} given twice` };
    const rate = Number(match[2]);
    const burst = match[3] === undefined ? undefined : Number(match[3]);
    if (!Number.isFinite(rate) || rate <= 0) return { error: `rate in "${part.trim()}" must be a number above 0` };
    if (burst !== undefined && (!Number.isFinite(burst) || burst < 1)) {
      return { error: `burst in "${part.trim()}" must be a number of at least 1` };
    }
    limits[scope] = burst === undefined ? { ratePerSecond: rate } : { ratePerSecond: rate, burst };
  }
  return limits;
}
