// Job file + flags + environment -> one validated RunConfig. Flags override the job file; defaults
// fill the rest. Secrets never come from here: a job file key that looks like one is refused.
//
// Every option of `run` and `plan` is declared once, in RUN_OPTIONS below. From that one entry
// follow: the job file key (its camelCase name) and its check, the flag (kebab-case) with its help
// text and default in `--help` (src/cli.ts builds the yargs options from this table), the check of
// the flag's value, the environment fallback and the default. Job file and flags are checked by
// the same schema, so a value is valid in one exactly when it is valid in the other.
//
// To add an option (one entry here, plus its tests):
//   1. Add an entry to RUN_OPTIONS: `schema` (zod: what a job file or a flag may hold), `flag`
//      (the yargs type: "string", "number" or "boolean"), `describe` (help text, no default in it),
//      `expects` (what a wrong value is told it should be, e.g. "a whole number from 1 to 20"),
//      and, if it has one, `default` (the value when neither job file nor flag sets it) and `env`
//      (the environment variable read before the default). Its RunConfig field follows from it.
//   2. Read it where it is used: `config.myOption` (RunConfig has it, typed from the schema).
//   3. Add its row to the job file table of jobs/README.md, and a test that it changes something.
// Only an option whose value needs more than a schema (like `shard`, or `output` whose default
// depends on `input`) also gets a line in resolveRunConfig.
import { readFile } from "node:fs/promises";
import { z } from "zod";
import type { Shard } from "./model.js";
import { DEFAULT_BASE_URL } from "./partner-center/types.js";
import { checkUsageLocation } from "./input/field-rules.js";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export const LOG_FORMATS = ["json", "pretty"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];
export type RunCommand = "run" | "plan";

const SHARD_PATTERN = /^(\d+)\/(\d+)$/;

/** What can make a finished run exit 3: failed rows, invalid rows, a seat shortfall (plan). */
export const FAIL_ON = ["failed", "invalid", "shortfall"] as const;
export type FailOn = (typeof FAIL_ON)[number];

/** `--fail-on failed,shortfall` (or a job file's list), or `none`. */
export function parseFailOn(spec: string | readonly string[]): { ok: true; value: FailOn[] } | { ok: false } {
  const words = (typeof spec === "string" ? spec.split(",") : [...spec]).map((w) => w.trim().toLowerCase()).filter((w) => w !== "");
  if (words.length === 1 && words[0] === "none") return { ok: true, value: [] };
  if (words.length === 0 || words.some((w) => !(FAIL_ON as readonly string[]).includes(w))) return { ok: false };
  return { ok: true, value: [...new Set(words)] as FailOn[] };
}

const failOnSchema = z.union([z.string(), z.array(z.string())]).transform((spec, ctx) => {
  const parsed = parseFailOn(spec);
  if (parsed.ok) return parsed.value;
  ctx.addIssue({ code: "custom", message: "not a list of failed, invalid, shortfall, or none" });
  return z.NEVER;
});

const usageLocationSchema = z.string().transform((text, ctx) => {
  const checked = checkUsageLocation(text.trim());
  if (checked.ok) return checked.value;
  ctx.addIssue({ code: "custom", message: checked.reason });
  return z.NEVER;
});

export interface OptionSpec {
  schema: z.ZodType;
  flag: "string" | "number" | "boolean";
  describe: string;
  expects: string;
  alias?: string;
  /** The help's word for the value, e.g. FILE. */
  value?: string;
  default?: unknown;
  /** How `--help` states the default when it is not a plain value (per command, or computed). */
  defaultText?: string | ((command: RunCommand) => string);
  env?: string;
  /** A per-incident decision, never a job file key (the job file would repeat it every night). */
  flagOnly?: true;
}

/** The options of `run` and `plan`, by job file key. The one place an option is declared. */
export const RUN_OPTIONS = {
  input: {
    schema: z.string().min(1),
    flag: "string",
    alias: "i",
    value: "FILE",
    describe: "the roster CSV (- for stdin)",
    expects: "a file path, or - for stdin",
  },
  output: {
    schema: z.string().min(1),
    flag: "string",
    alias: "o",
    value: "FILE",
    describe: "the results CSV",
    expects: "a file path",
    defaultText: (command) => (command === "plan" ? "<input>.plan.csv" : "<input>.results.csv; <input>.plan.csv with --dry-run"),
  },
  baseUrl: {
    schema: z.url({ protocol: /^https?$/ }),
    flag: "string",
    value: "URL",
    describe: "Partner Center base URL",
    expects: "an http(s) URL",
    env: "PARTNER_CENTER_BASE_URL",
    default: DEFAULT_BASE_URL,
  },
  emulator: {
    schema: z.boolean(),
    flag: "boolean",
    describe: "run against an in-process emulator seeded from the demo fixtures (no credentials)",
    expects: "true or false",
    default: false,
  },
  concurrency: {
    schema: z.int().min(1).max(256),
    flag: "number",
    value: "N",
    describe: "most requests in flight at once",
    expects: "a whole number from 1 to 256",
    // A ceiling: the executor sizes the requests in flight from the allowance and the latency
    // below it. 32 lets a 20/s allowance through at answer times up to about a second.
    default: 32,
  },
  maxAttempts: {
    schema: z.int().min(1).max(20),
    flag: "number",
    value: "N",
    describe: "attempts per request before it is recorded failed",
    expects: "a whole number from 1 to 20",
    default: 6,
  },
  timeoutMs: {
    schema: z.int().min(1000).max(600_000),
    flag: "number",
    value: "MS",
    describe: "timeout of one attempt, in milliseconds",
    expects: "a whole number of milliseconds from 1000 to 600000",
    default: 60_000,
  },
  maxRate: {
    schema: z.number().positive(),
    flag: "number",
    value: "N",
    describe: "cap on this process's calls per second (a shard's share of the partner's allowance)",
    expects: "a positive number of calls per second",
    defaultText: "none: paced by the API's answers",
  },
  resume: {
    schema: z.boolean(),
    flag: "boolean",
    describe: "keep the rows already done in --output and run the rest",
    expects: "true or false",
    default: false,
  },
  breakLock: {
    schema: z.boolean(),
    flag: "boolean",
    describe: "take over a results lock whose holder cannot be checked (another host's)",
    expects: "true or false",
    default: false,
    flagOnly: true,
  },
  shard: {
    schema: z.string().regex(SHARD_PATTERN),
    flag: "string",
    value: "K/N",
    describe: "run only the customers that hash to shard K of N",
    expects: "K/N with 1 <= K <= N, e.g. 2/4",
    defaultText: "all customers",
  },
  dryRun: {
    schema: z.boolean(),
    flag: "boolean",
    describe: "same as plan: resolve and check seats, send no write",
    expects: "true or false",
    default: false,
  },
  summaryJson: {
    schema: z.string().min(1),
    flag: "string",
    value: "FILE",
    describe: "write the run summary as JSON to this file",
    expects: "a file path",
  },
  logLevel: {
    schema: z.enum(LOG_LEVELS),
    flag: "string",
    value: "LEVEL",
    describe: `log level: ${LOG_LEVELS.join("|")}`,
    expects: `one of ${LOG_LEVELS.join(", ")}`,
    default: "info",
  },
  logFormat: {
    schema: z.enum(LOG_FORMATS),
    flag: "string",
    value: "FORMAT",
    describe: "pino logs on stderr: json|pretty (json: every stderr line is a JSON record)",
    expects: "json or pretty",
    defaultText: "pretty on a terminal, else json",
  },
  progress: {
    schema: z.boolean(),
    flag: "boolean",
    describe: "progress on stderr (--no-progress: none)",
    expects: "true or false",
    default: true,
  },
  diff: {
    schema: z.boolean(),
    flag: "boolean",
    describe: "read the users' current licenses first and send only what changes (rows already in place are unchanged)",
    expects: "true or false",
    default: false,
  },
  usageLocation: {
    schema: usageLocationSchema,
    flag: "string",
    value: "CC",
    describe: "the usage location for rows whose usageLocation cell is empty",
    expects: "an ISO 3166-1 alpha-2 country code (e.g. US, GB, DE)",
    defaultText: "none: a user without one is left as it is",
  },
  failOn: {
    schema: failOnSchema,
    flag: "string",
    value: "LIST",
    describe: "what makes a finished run exit 3: failed, invalid, shortfall (comma-separated), or none",
    expects: "a comma-separated list of failed, invalid, shortfall, or none",
    default: [...FAIL_ON] as FailOn[],
  },
  pacingState: {
    schema: z.string().min(1),
    flag: "string",
    value: "FILE",
    describe: "start pacing from what an earlier run learned in FILE, and save what this one learns there",
    expects: "a file path",
  },
  tokenCache: {
    schema: z.string().min(1),
    flag: "string",
    value: "FILE",
    describe: "the MSAL token cache (mode 0600) that keeps the rotated refresh token between runs",
    expects: "a file path",
    env: "PARTNER_CENTER_TOKEN_CACHE",
  },
} as const satisfies Record<string, OptionSpec>;

type Options = typeof RUN_OPTIONS;
export type OptionKey = keyof Options;
type OptionValue<K extends OptionKey> = z.infer<Options[K]["schema"]>;
type DefaultedKey = { [K in OptionKey]: Options[K] extends { default: unknown } ? K : never }[OptionKey];

/** The options a job file or a flag may set, before defaults. */
export type RunOptions = { [K in OptionKey]?: OptionValue<K> };

/** One run's settings: every option (those with a default always set), the shard parsed, the output decided. */
export type RunConfig = { [K in DefaultedKey]: OptionValue<K> } & { [K in Exclude<OptionKey, DefaultedKey | "shard">]?: OptionValue<K> } & {
  input: string; // a path, or "-" for stdin
  output: string;
  logFormat: LogFormat;
  shard?: Shard;
};

export const OPTION_KEYS = Object.keys(RUN_OPTIONS) as OptionKey[];

/** The flag of a job file key: maxAttempts -> --max-attempts. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

type JobFileKey = { [K in OptionKey]: Options[K] extends { flagOnly: true } ? never : K }[OptionKey];
const JOB_FILE_KEYS = OPTION_KEYS.filter((key): key is JobFileKey => !("flagOnly" in RUN_OPTIONS[key]));

/** The job file format (jobs/*.json): every option optional, unknown keys refused. */
export const jobFileSchema = z.strictObject({
  $schema: z.string().optional(),
  description: z.string().optional(),
  ...(Object.fromEntries(JOB_FILE_KEYS.map((key) => [key, RUN_OPTIONS[key].schema.optional()])) as { [K in JobFileKey]: z.ZodOptional<Options[K]["schema"]> }),
});

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
    // A declared option (say a token cache's path) is not a secret, whatever its name.
    const secretKeys = Object.keys(parsed).filter((key) => SECRET_KEY.test(key) && !(key in RUN_OPTIONS));
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
    if (issue?.code === "unrecognized_keys") {
      return { ok: false, error: `job file ${path}: unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(", ")}` };
    }
    const key = issue?.path[0];
    const expects = typeof key === "string" && key in RUN_OPTIONS ? `expected ${RUN_OPTIONS[key as OptionKey].expects}` : issue?.message;
    return { ok: false, error: `job file ${path}: ${issue?.path.length ? `key "${issue.path.join(".")}"` : "top level"}: ${expects}` };
  }
  return { ok: true, value: result.data };
}

/** Check the flags' values with the same schemas as the job file; the error names the flag and the value given. */
export function validateFlags(flags: Record<string, unknown>): ConfigResult<RunOptions> {
  const value: Record<string, unknown> = {};
  for (const key of OPTION_KEYS) {
    const given = flags[key];
    if (given === undefined) continue;
    const parsed = RUN_OPTIONS[key].schema.safeParse(given);
    if (!parsed.success) return { ok: false, error: `${flagName(key)} ${String(given)}: expected ${RUN_OPTIONS[key].expects}` };
    value[key] = parsed.data;
  }
  return { ok: true, value: value as RunOptions };
}

export function parseShard(spec: string): ConfigResult<Shard> {
  const match = SHARD_PATTERN.exec(spec.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index < 1 || index > count) {
    return { ok: false, error: `--shard ${spec}: expected ${RUN_OPTIONS.shard.expects}` };
  }
  return { ok: true, value: { index, count } };
}

/** `--fail-on failed,invalid,shortfall` (or `none`); a job file may give a list. Default: all. */
export interface ConfigSources {
  command: RunCommand;
  job?: JobFile;
  /** Flag values as parsed from the command line, by job file key; checked here. */
  flags: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  stderrIsTTY: boolean;
}

/** Merge job file, flags and environment into a RunConfig; flags win over the job file. */
export function resolveRunConfig(sources: ConfigSources): ConfigResult<RunConfig> {
  const { job = {}, env } = sources;
  const checkedFlags = validateFlags(sources.flags);
  if (!checkedFlags.ok) return checkedFlags;
  const flags = checkedFlags.value;
  const pick = <K extends OptionKey>(key: K): RunOptions[K] => (flags[key] !== undefined ? flags[key] : (job as RunOptions)[key]);

  // Flag, then job file, then the option's environment variable, then its default.
  const options: Record<string, unknown> = {};
  for (const key of OPTION_KEYS) {
    const spec: OptionSpec = RUN_OPTIONS[key];
    let value: unknown = pick(key);
    // An empty variable counts as unset, as shells and CI systems leave them.
    const fromEnvText = spec.env ? env[spec.env]?.trim() || undefined : undefined;
    if (value === undefined && fromEnvText !== undefined) {
      const fromEnv = spec.schema.safeParse(fromEnvText);
      if (!fromEnv.success) return { ok: false, error: `${spec.env}=${fromEnvText}: expected ${spec.expects}` };
      value = fromEnv.data;
    }
    const chosen = value ?? spec.default;
    if (chosen !== undefined) options[key] = chosen;
  }
  const merged = options as Omit<RunConfig, "shard" | "input" | "output" | "logFormat"> & { shard?: string };

  const input = pick("input");
  if (!input) return { ok: false, error: "no roster given: pass --input FILE (or - for stdin), or set input in the job file (to try the tool with no roster: license-runner demo)" };

  let shard: Shard | undefined;
  const shardSpec = pick("shard");
  if (shardSpec !== undefined) {
    const parsed = parseShard(shardSpec);
    if (!parsed.ok) return parsed;
    shard = parsed.value;
  }

  const dryRun = sources.command === "plan" || merged.dryRun;
  // A plan gets its own file by default, so checking seats never replaces a run's results.
  const output = pick("output") ?? (input === "-" ? undefined : `${input}.${dryRun ? "plan" : "results"}.csv`);
  if (!output) return { ok: false, error: "--output is required when the roster comes from stdin" };
  if (output === input) return { ok: false, error: `--output ${output} is the roster itself` };

  if (merged.resume && input === "-") return { ok: false, error: "--resume needs the roster as a file (its fingerprint is checked), not stdin" };


  return {
    ok: true,
    value: {
      ...merged,
      dryRun,
      input,
      output,
      shard,
      baseUrl: merged.baseUrl.replace(/\/+$/, ""),
      logFormat: pick("logFormat") ?? (sources.stderrIsTTY ? "pretty" : "json"),
    },
  };
}

