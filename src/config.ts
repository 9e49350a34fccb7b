// Job file + flags + environment -> one validated RunConfig. Flags override the job file; defaults
// fill the rest. Secrets never come from here: a job file key that looks like one is refused.
import { readFile } from "node:fs/promises";
import { z } from "zod";
import type { Shard } from "./model.js";
import { DEFAULT_BASE_URL } from "./partner-center/types.js";

export type LogFormat = "json" | "pretty";
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";


export interface RunConfig {
  dryRun: boolean;
  input: string; // a path, or "-" for stdin
  output: string;
  baseUrl: string;
  emulator: boolean;
  concurrency: number;
  maxAttempts: number;
  timeoutMs: number;
  /** Partner-wide cap on calls per second for this process (a shard's share of the partner's allowance). */
  maxRate?: number;
  resume: boolean;
  shard?: Shard;
  summaryJson?: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
  progress: boolean;
  /** What pacing learned, read at the start and written at the end (`--pacing-state`). */
  pacingState?: string;
}

/** The options a job file or a flag may set, before defaults. */
export type RunOptions = Partial<Omit<RunConfig, "shard">> & { shard?: string };

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
const SHARD_PATTERN = /^(\d+)\/(\d+)$/;

/** The job file format (jobs/*.json): every key optional, unknown keys refused. */
export const jobFileSchema = z
  .object({
    $schema: z.string().optional(),
    description: z.string().optional(),
    dryRun: z.boolean().optional(),
    input: z.string().min(1).optional(),
    output: z.string().min(1).optional(),
    baseUrl: z.url({ protocol: /^https?$/ }).optional(),
    emulator: z.boolean().optional(),
    concurrency: z.int().min(1).max(256).optional(),
    maxAttempts: z.int().min(1).max(20).optional(),
    timeoutMs: z.int().min(1000).max(600_000).optional(),
    maxRate: z.number().positive().optional(),
    resume: z.boolean().optional(),
    shard: z.string().regex(SHARD_PATTERN, "expected K/N, e.g. 2/4").optional(),
    summaryJson: z.string().min(1).optional(),
    logLevel: z.enum(LOG_LEVELS).optional(),
    logFormat: z.enum(["json", "pretty"]).optional(),
    progress: z.boolean().optional(),
    pacingState: z.string().min(1).optional(),
  })
  .strict();

export type JobFile = z.infer<typeof jobFileSchema>;

/** A key whose name says it holds a credential. Job files live in repositories; secrets must not. */
const SECRET_KEY = /secret|token|password|passwd|credential|apikey|api[-_]?key|private[-_]?key|client[-_]?id|tenant[-_]?id/i;

export type ConfigResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** Read and validate a job file. Errors name the file and the key. */
export async function readJobFile(path: string): Promise<ConfigResult<JobFile>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    return { ok: false, error: `cannot read job file ${path}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (error) {
    return { ok: false, error: `job file ${path} is not valid JSON: ${(error as Error).message}` };
  }
  return validateJobFile(parsed, path);
}

export function validateJobFile(parsed: unknown, path: string): ConfigResult<JobFile> {
  if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
    const secretKeys = Object.keys(parsed).filter((key) => SECRET_KEY.test(key));
    if (secretKeys.length > 0) {
      return {
        ok: false,
        error:
          `job file ${path} holds a secret-looking key (${secretKeys.join(", ")}): job files never hold credentials; ` +
          `set PARTNER_CENTER_ACCESS_TOKEN or the PARTNER_CENTER_* variables in the environment instead`,
      };
    }
  }
  const result = jobFileSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.length ? `key "${issue.path.join(".")}"` : "top level";
    const what = issue?.code === "unrecognized_keys" ? `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(", ")}` : issue?.message;
    return { ok: false, error: `job file ${path}: ${issue?.code === "unrecognized_keys" ? what : `${where}: ${what}`}` };
  }
  return { ok: true, value: result.data };
}

export function parseShard(spec: string): ConfigResult<Shard> {
  const match = SHARD_PATTERN.exec(spec.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index < 1 || index > count) {
    return { ok: false, error: `--shard ${spec}: expected K/N with 1 <= K <= N, e.g. 2/4` };
  }
  return { ok: true, value: { index, count } };
}

export interface ConfigSources {
  command: "run" | "plan";
  job?: JobFile;
  flags: RunOptions;
  env: NodeJS.ProcessEnv;
  stderrIsTTY: boolean;
}

/** Merge job file, flags and environment into a RunConfig; flags win over the job file. */
export function resolveRunConfig(sources: ConfigSources): ConfigResult<RunConfig> {
  const { job = {}, flags, env } = sources;
  const pick = <K extends keyof RunOptions>(key: K): RunOptions[K] => (flags[key] !== undefined ? flags[key] : (job as RunOptions)[key]);

  const input = pick("input");
  if (!input) return { ok: false, error: "no roster given: pass --input FILE (or - for stdin), or set input in the job file" };

  let shard: Shard | undefined;
  const shardSpec = pick("shard");
  if (shardSpec !== undefined) {
    const parsed = parseShard(shardSpec);
    if (!parsed.ok) return parsed;
    shard = parsed.value;
  }

  const dryRun = sources.command === "plan" || (pick("dryRun") ?? false);
  // A plan gets its own file by default, so checking seats never replaces a run's results.
  const output = pick("output") ?? (input === "-" ? undefined : `${input}.${dryRun ? "plan" : "results"}.csv`);
  if (!output) return { ok: false, error: "--output is required when the roster comes from stdin" };
  if (output === input) return { ok: false, error: `--output ${output} is the roster itself` };

  const resume = pick("resume") ?? false;
  if (resume && input === "-") return { ok: false, error: "--resume needs the roster as a file (its fingerprint is checked), not stdin" };

  const concurrency = pick("concurrency") ?? 8;
  const maxAttempts = pick("maxAttempts") ?? 6;
  const timeoutMs = pick("timeoutMs") ?? 60_000;
  for (const [name, value, min, max] of [
    ["--concurrency", concurrency, 1, 256],
    ["--max-attempts", maxAttempts, 1, 20],
    ["--timeout-ms", timeoutMs, 1000, 600_000],
  ] as const) {
    if (!Number.isInteger(value) || value < min || value > max) {
      return { ok: false, error: `${name} ${value}: expected a whole number from ${min} to ${max}` };
    }
  }
  const maxRate = pick("maxRate");
  if (maxRate !== undefined && !(maxRate > 0)) return { ok: false, error: `--max-rate ${maxRate}: expected a positive number of calls per second` };

  const baseUrl = pick("baseUrl") ?? env.PARTNER_CENTER_BASE_URL ?? DEFAULT_BASE_URL;
  if (!/^https?:\/\/[^/?#]+/i.test(baseUrl)) return { ok: false, error: `--base-url ${baseUrl}: expected an http(s) URL` };

  const logLevel = pick("logLevel") ?? "info";
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) return { ok: false, error: `--log-level ${logLevel}: expected one of ${LOG_LEVELS.join(", ")}` };

  return {
    ok: true,
    value: {
      dryRun,
      input,
      output,
      baseUrl: baseUrl.replace(/\/+$/, ""),
      emulator: pick("emulator") ?? false,
      concurrency,
      maxAttempts,
      timeoutMs,
      maxRate,
      resume,
      shard,
      summaryJson: pick("summaryJson"),
      logLevel,
      logFormat: pick("logFormat") ?? (sources.stderrIsTTY ? "pretty" : "json"),
      progress: pick("progress") ?? true,
      pacingState: pick("pacingState"),
    },
  };
}
