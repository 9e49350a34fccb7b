// The emulator settings that can change while it runs (POST /_emulator/config): latency, BOM,
// page size, rate limits (a new Throttle with full buckets) and faults (new dice from the seed).
import { z } from "zod";
import { checkFaults, FaultDice, type EmulatorFaults } from "./faults.js";
import { checkRateLimit, parseRateLimit, type RateLimits, type ThrottleBehaviour } from "./rate-limit.js";
import { Throttle } from "./throttle.js";

export const DEFAULT_MAX_PAGE_SIZE = 100;

/**
 * How a users page says where the next one is: "links-next" (links.next, its headers carrying
 * MS-ContinuationToken) or "continuation-token" (the .NET SDK's SeekBasedResourceCollection: a
 * top-level continuationToken to send back with seekOperation=Next, and no next link).
 */
export type UsersPaging = "links-next" | "continuation-token";

export interface RuntimeSettings {
  latencyMs: number;
  bom: boolean;
  maxPageSize: number;
  rateLimit: RateLimits;
  throttling?: ThrottleBehaviour;
  faults: EmulatorFaults;
  seed?: number;
  /** Answer gzip-compressed bodies to requests whose Accept-Encoding allows gzip. */
  gzip?: boolean;
  usersPaging?: UsersPaging;
}

export const rateLimitSchema = z.union([
  z.object({ kind: z.literal("token-bucket").optional(), ratePerSecond: z.number().positive(), burst: z.number().min(1).optional() }),
  z.object({ kind: z.enum(["fixed-window", "sliding-window"]), limit: z.number().int().min(1), windowSeconds: z.number().positive() }),
]);
export const throttlingSchema = z.strictObject({
  accrueRefused: z.boolean().optional(),
  retryAfter: z.enum(["exact", "pessimistic", "optimistic"]).optional(),
  retryAfterSeconds: z.number().int().min(1).optional(),
  retryAfterFormat: z.enum(["seconds", "http-date", "missing", "gateway-html"]).optional(),
});
const faultsSchema = z.object({
  errorRate: z.number().optional(),
  resetRate: z.number().optional(),
  dropAfterCommitRate: z.number().optional(),
  slowRate: z.number().optional(),
  slowMs: z.number().optional(),
});

/** The body of POST /_emulator/config: every key optional; null clears rateLimit/faults. */
export const configPatchSchema = z.strictObject({
  latencyMs: z.number().nonnegative().optional(),
  bom: z.boolean().optional(),
  maxPageSize: z.number().int().positive().optional(),
  gzip: z.boolean().optional(),
  usersPaging: z.enum(["links-next", "continuation-token"]).optional(),
  rateLimit: z
    .union([z.string(), z.strictObject({ perCustomer: rateLimitSchema.optional(), perPartner: rateLimitSchema.optional() })])
    .nullable()
    .optional(),
  throttling: throttlingSchema.nullable().optional(),
  faults: faultsSchema.nullable().optional(),
  seed: z.number().int().optional(),
});
export type ConfigPatch = z.infer<typeof configPatchSchema>;

export class EmulatorRuntime {
  latencyMs: number;
  bom: boolean;
  maxPageSize: number;
  gzip: boolean;
  usersPaging: UsersPaging;
  throttle: Throttle;
  dice: FaultDice;
  private seed: number | undefined;

  constructor(
    settings: RuntimeSettings,
    private readonly now: () => number,
  ) {
    this.latencyMs = settings.latencyMs;
    this.bom = settings.bom;
    this.maxPageSize = settings.maxPageSize;
    this.gzip = settings.gzip ?? false;
    this.usersPaging = settings.usersPaging ?? "links-next";
    this.seed = settings.seed;
    this.throttle = new Throttle(settings.rateLimit, now, settings.throttling);
    this.dice = new FaultDice(settings.faults, settings.seed);
  }

  /** Apply a validated patch; returns an error message and changes nothing when it is refused. */
  configure(patch: ConfigPatch): string | undefined {
    let rateLimit: RateLimits | undefined;
    if (patch.rateLimit !== undefined) {
      if (patch.rateLimit === null) rateLimit = {};
      else if (typeof patch.rateLimit === "string") {
        const parsed = parseRateLimit(patch.rateLimit);
        if ("error" in parsed) return parsed.error;
        rateLimit = parsed;
      } else rateLimit = patch.rateLimit;
      for (const limit of Object.values(rateLimit)) {
        const problem = limit ? checkRateLimit(limit) : undefined;
        if (problem) return `rateLimit: ${problem}`;
      }
    }
    const throttling = patch.throttling === null ? {} : patch.throttling;
    const faults = patch.faults === null ? {} : patch.faults;
    if (faults) {
      const problem = checkFaults(faults);
      if (problem) return problem;
    }
    if (patch.latencyMs !== undefined) this.latencyMs = patch.latencyMs;
    if (patch.bom !== undefined) this.bom = patch.bom;
    if (patch.maxPageSize !== undefined) this.maxPageSize = patch.maxPageSize;
    if (patch.gzip !== undefined) this.gzip = patch.gzip;
    if (patch.usersPaging !== undefined) this.usersPaging = patch.usersPaging;
    if (patch.seed !== undefined) this.seed = patch.seed;
    if (rateLimit || throttling) this.throttle = new Throttle(rateLimit ?? this.throttle.settings, this.now, throttling ?? this.throttle.behaviourSettings);
    if (faults || patch.seed !== undefined) this.dice = new FaultDice(faults ?? this.dice.faults, this.seed);
    return undefined;
  }

  /** Back to full buckets and the dice's first roll (emulator reset). */
  restart(): void {
    this.throttle = new Throttle(this.throttle.settings, this.now, this.throttle.behaviourSettings);
    this.dice.restart();
  }

  describe(): RuntimeSettings {
    const settings: RuntimeSettings = {
      latencyMs: this.latencyMs,
      bom: this.bom,
      maxPageSize: this.maxPageSize,
      gzip: this.gzip,
      usersPaging: this.usersPaging,
      rateLimit: this.throttle.settings,
      faults: this.dice.faults,
    };
    if (Object.keys(this.throttle.behaviourSettings).length > 0) settings.throttling = this.throttle.behaviourSettings;
    if (this.seed !== undefined) settings.seed = this.seed;
    return settings;
  }
}
