// Rate limit settings of the emulator and the `--rate-limit` spec that sets them. Partner Center
// publishes neither its numbers nor how it counts ("all requests accrue against your usage
// limits"), so the emulator offers the usual limiter shapes, per customer and per partner:
//   customer=10          token bucket, 10 per second, burst 10
//   customer=10:1        token bucket, 10 per second, burst 1
//   customer=fixed:10/1s fixed window: 10 calls per window of 1 s (windows from 1 s to minutes: 1s, 90s, 2m)
//   partner=sliding:600/1m sliding window: at most 600 calls in any 60 s
// joined by commas ("customer=10,partner=40"); "off" or "none": no limit.

/** A token bucket: `ratePerSecond` refill, `burst` capacity (default max(1, ratePerSecond)). */
export interface TokenBucketLimit {
  kind?: "token-bucket";
  ratePerSecond: number;
  burst?: number;
}

/** At most `limit` calls per window: fixed windows start on multiples of the window; a sliding one ends now. */
export interface WindowLimit {
  kind: "fixed-window" | "sliding-window";
  limit: number;
  windowSeconds: number;
}

export type RateLimit = TokenBucketLimit | WindowLimit;

export function isWindowLimit(limit: RateLimit): limit is WindowLimit {
  return limit.kind === "fixed-window" || limit.kind === "sliding-window";
}

export interface RateLimits {
  perCustomer?: RateLimit;
  perPartner?: RateLimit;
}

const SCOPES: Record<string, keyof RateLimits> = { customer: "perCustomer", partner: "perPartner" };

/** "1s", "90s", "2m", "1.5m" or a bare number of seconds. */
export function parseDurationSeconds(text: string): number | undefined {
  const match = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(s|m)?\s*$/i.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]) * (match[2]?.toLowerCase() === "m" ? 60 : 1);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

function parseOne(part: string, body: string): RateLimit | { error: string } {
  const window = /^\s*(fixed|sliding)\s*:\s*([0-9]+)\s*\/\s*(.+)$/i.exec(body);
  if (window) {
    const limit = Number(window[2]);
    const windowSeconds = parseDurationSeconds(window[3]!);
    if (!Number.isInteger(limit) || limit < 1) return { error: `the window's count in "${part}" must be a whole number of at least 1` };
    if (windowSeconds === undefined) return { error: `the window in "${part}" must be a duration such as 1s, 90s or 2m` };
    return { kind: window[1]!.toLowerCase() === "fixed" ? "fixed-window" : "sliding-window", limit, windowSeconds };
  }
  const bucket = /^\s*(?:bucket\s*:\s*)?([0-9.]+)\s*(?::\s*([0-9.]+)\s*)?$/i.exec(body);
  if (!bucket) return { error: `bad rate limit "${part}"; expected customer=RATE[:BURST], customer=fixed:COUNT/WINDOW or customer=sliding:COUNT/WINDOW` };
  const rate = Number(bucket[1]);
  const burst = bucket[2] === undefined ? undefined : Number(bucket[2]);
  if (!Number.isFinite(rate) || rate <= 0) return { error: `rate in "${part}" must be a number above 0` };
  if (burst !== undefined && (!Number.isFinite(burst) || burst < 1)) return { error: `burst in "${part}" must be a number of at least 1` };
  return burst === undefined ? { ratePerSecond: rate } : { ratePerSecond: rate, burst };
}

export function parseRateLimit(spec: string): RateLimits | { error: string } {
  const trimmed = spec.trim();
  if (/^(off|none)$/i.test(trimmed)) return {};
  if (trimmed === "") return { error: "empty rate limit; expected e.g. customer=10,partner=40" };
  const limits: RateLimits = {};
  for (const raw of trimmed.split(",")) {
    const part = raw.trim();
    const match = /^([a-z]+)\s*=(.*)$/i.exec(part);
    const scope = match?.[1] ? SCOPES[match[1].toLowerCase()] : undefined;
    if (!match || !scope) return { error: `bad rate limit "${part}"; expected customer=... or partner=...` };
    if (limits[scope]) return { error: `rate limit for ${match[1]} given twice` };
    const parsed = parseOne(part, match[2]!);
    if ("error" in parsed) return parsed;
    limits[scope] = parsed;
  }
  return limits;
}

/** A problem with a limit given as an object (options, control path, state file), or undefined. */
export function checkRateLimit(limit: RateLimit): string | undefined {
  if (isWindowLimit(limit)) {
    if (!(Number.isInteger(limit.limit) && limit.limit >= 1)) return "limit must be a whole number of at least 1";
    if (!(limit.windowSeconds > 0)) return "windowSeconds must be above 0";
    return undefined;
  }
  if (!(limit.ratePerSecond > 0)) return "ratePerSecond must be above 0";
  if (limit.burst !== undefined && !(limit.burst >= 1)) return "burst must be at least 1";
  return undefined;
}

/**
 * How a refusal answers and counts:
 * - `accrueRefused`: a refused (429) call counts against the limit like an admitted one, as
 *   "all requests accrue against your usage limits" says; a client that keeps knocking stays out.
 * - `retryAfter`: "exact" says the whole seconds (at least 1) until a call would pass;
 *   "pessimistic" says at least `retryAfterSeconds` (more than needed); "optimistic" at most
 *   `retryAfterSeconds` (a retry then may be refused again).
 * - `retryAfterFormat`: "seconds" (as Partner Center answers), "http-date", "missing" (no header),
 *   or "gateway-html": no header and an HTML page for a body, as a gateway in front of the service
 *   answers when it throttles (Azure API Management's default text is the documented 429 body).
 */
export interface ThrottleBehaviour {
  accrueRefused?: boolean;
  retryAfter?: "exact" | "pessimistic" | "optimistic";
  retryAfterSeconds?: number;
  retryAfterFormat?: "seconds" | "http-date" | "missing" | "gateway-html";
}

/** "exact", "pessimistic:5", "optimistic:1" -> the Retry-After settings. */
export function parseRetryAfterMode(spec: string): Pick<ThrottleBehaviour, "retryAfter" | "retryAfterSeconds"> | { error: string } {
  const match = /^\s*(exact|pessimistic|optimistic)\s*(?::\s*([0-9]+)\s*)?$/i.exec(spec);
  if (!match) return { error: `bad Retry-After mode "${spec}"; expected exact, pessimistic:SECONDS or optimistic:SECONDS` };
  const mode = match[1]!.toLowerCase() as "exact" | "pessimistic" | "optimistic";
  if (mode === "exact") return { retryAfter: "exact" };
  const seconds = match[2] === undefined ? undefined : Number(match[2]);
  if (seconds === undefined || seconds < 1) return { error: `Retry-After mode ${mode} needs whole seconds of at least 1, e.g. ${mode}:5` };
  return { retryAfter: mode, retryAfterSeconds: seconds };
}
