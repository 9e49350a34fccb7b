#!/usr/bin/env node
// Thin shell: yargs -> config -> pipeline -> exit code. No logic lives here.
import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { fileURLToPath } from "node:url";
import yargs, { type Argv } from "yargs";
import { hideBin } from "yargs/helpers";
import { readJobFile, resolveRunConfig, type RunConfig, type RunOptions } from "./config.js";
import { createLogger } from "./logger.js";
import { credentialsFromEnv, createAccessTokenProvider } from "./partner-center/auth/index.js";
import type { AccessTokenProvider } from "./partner-center/api.js";
import { createPartnerCenterClient } from "./partner-center/client.js";
import { systemClock } from "./execute/clock.js";
import { runLicenseJob } from "./pipeline/run-job.js";
import { publishSummary } from "./pipeline/publish-summary.js";
import { startEmulator, parseRateLimit, parseRetryAfterMode, type EmulatorOptions, type RunningEmulator, type ThrottleBehaviour } from "./emulator/server.js";

const EXIT_USAGE = 2;
const DEMO_STATE = fileURLToPath(new URL("../fixtures/emulator/demo-state.json", import.meta.url));
const EMULATOR_TOKEN = "emulator-app-user-token";
/** After a first signal, requests in flight get this long to finish before the run stops at once. */
const DRAIN_DEADLINE_MS = 30_000;

function runOptions(y: Argv) {
  return y
    .option("job", { type: "string", describe: "read options from a job file (jobs/NAME.json); flags override it" })
    .option("input", { alias: "i", type: "string", describe: "the roster CSV (- for stdin)" })
    .option("output", { alias: "o", type: "string", describe: "the results CSV (default <input>.results.csv)" })
    .option("base-url", { type: "string", describe: "Partner Center base URL (env PARTNER_CENTER_BASE_URL)" })
    .option("emulator", { type: "boolean", describe: "run against an in-process emulator seeded from the fixtures" })
    .option("concurrency", { type: "number", describe: "most requests in flight at once (default 8)" })
    .option("max-attempts", { type: "number", describe: "attempts per request before it is recorded failed (default 6)" })
    .option("timeout-ms", { type: "number", describe: "timeout of one attempt (default 60000)" })
    .option("max-rate", { type: "number", describe: "cap on calls per second for this process (a shard's share of the partner's allowance)" })
    .option("resume", { type: "boolean", describe: "keep the rows already done in --output and run the rest" })
    .option("shard", { type: "string", describe: "run only the customers of shard K of N (K/N)" })
    .option("dry-run", { type: "boolean", describe: "same as plan: no writes" })
    .option("summary-json", { type: "string", describe: "write the run summary as JSON to this file" })
    .option("log-level", { type: "string", describe: "fatal|error|warn|info|debug|trace|silent (default info)" })
    .option("log-format", { choices: ["json", "pretty"] as const, describe: "pino logs on stderr (default: pretty on a terminal)" })
    .option("progress", { type: "boolean", describe: "progress on stderr (--no-progress: none)" })
    .option("pacing-state", { type: "string", describe: "start pacing from what an earlier run learned in FILE, and save what this one learns there" });
}

type RunArgs = Awaited<ReturnType<typeof runOptions>["argv"]>;

async function runCommand(command: "run" | "plan", args: RunArgs): Promise<number> {
  const fail = (message: string): number => {
    process.stderr.write(`license-runner: ${message}\n`);
    return EXIT_USAGE;
  };
  const job = args.job ? await readJobFile(args.job) : undefined;
  if (job && !job.ok) return fail(job.error);
  const flags: RunOptions = {
    input: args.input,
    output: args.output,
    baseUrl: args.baseUrl,
    emulator: args.emulator,
    concurrency: args.concurrency,
    maxAttempts: args.maxAttempts,
    timeoutMs: args.timeoutMs,
    maxRate: args.maxRate,
    resume: args.resume,
    shard: args.shard,
    dryRun: args.dryRun,
    summaryJson: args.summaryJson,
    logLevel: args.logLevel as RunOptions["logLevel"],
    logFormat: args.logFormat,
    progress: args.progress,
    pacingState: args.pacingState,
  };
  const resolved = resolveRunConfig({ command, job: job?.value, flags, env: process.env, stderrIsTTY: Boolean(process.stderr.isTTY) });
  if (!resolved.ok) return fail(resolved.error);
  const config = resolved.value;
  const logger = createLogger(config.logLevel, config.logFormat, { progressLine: config.progress });

  let emulator: RunningEmulator | undefined;
  let tokens: AccessTokenProvider;
  let baseUrl = config.baseUrl;
  if (config.emulator) {
    emulator = await startEmulator({ state: DEMO_STATE });
    baseUrl = emulator.url;
    tokens = { getToken: async () => EMULATOR_TOKEN };
    logger.info({ baseUrl }, "embedded emulator started");
  } else {
    const credentials = credentialsFromEnv(process.env);
    if (!credentials.ok) return fail(credentials.error);
    if (!credentials.credentials) {
      return fail(
        "no credentials: set PARTNER_CENTER_ACCESS_TOKEN, or PARTNER_CENTER_TENANT_ID, PARTNER_CENTER_CLIENT_ID, " +
          "PARTNER_CENTER_CLIENT_SECRET and PARTNER_CENTER_REFRESH_TOKEN; or add --emulator to try the tool against the embedded emulator",
      );
    }
    tokens = createAccessTokenProvider(credentials.credentials, { logger });
  }

  const stop = new AbortController();
  setMaxListeners(0, stop.signal); // every waiting request listens to it
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stop.signal.aborted) process.exit(130); // a second signal stops at once; the journal is already on disk
    logger.warn({ signal, drainDeadlineMs: DRAIN_DEADLINE_MS }, "stopping: draining requests in flight; signal again to stop at once");
    stop.abort();
    setTimeout(() => process.exit(130), DRAIN_DEADLINE_MS).unref();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  try {
    const api = createPartnerCenterClient({ baseUrl, tokens, timeoutMs: config.timeoutMs });
    const result = await runLicenseJob({
      config: { ...config, baseUrl } satisfies RunConfig,
      api,
      tokens,
      logger,
      stop: stop.signal,
      clock: systemClock,
      correlationId: randomUUID(),
      stdin: process.stdin,
      stderr: process.stderr,
    });
    if (result.error) return fail(result.error);
    await publishSummary(result, config, process.env, process.stderr);
    return result.exitCode;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await emulator?.close();
  }
}

async function emulateCommand(args: Record<string, unknown>): Promise<number> {
  const rateLimit = typeof args.rateLimit === "string" ? parseRateLimit(args.rateLimit) : undefined;
  if (rateLimit && "error" in rateLimit) {
    process.stderr.write(`license-runner: --rate-limit: ${rateLimit.error}\n`);
    return EXIT_USAGE;
  }
  const retryAfter = typeof args.retryAfter === "string" ? parseRetryAfterMode(args.retryAfter) : {};
  if ("error" in retryAfter) {
    process.stderr.write(`license-runner: --retry-after: ${retryAfter.error}\n`);
    return EXIT_USAGE;
  }
  const throttling: ThrottleBehaviour = { ...retryAfter };
  if (args.accrueRefused === true) throttling.accrueRefused = true;
  if (typeof args.retryAfterFormat === "string") throttling.retryAfterFormat = args.retryAfterFormat as NonNullable<ThrottleBehaviour["retryAfterFormat"]>;
  const options: EmulatorOptions = {
    state: (args.state as string | undefined) ?? DEMO_STATE,
    port: args.port as number,
    host: args.host as string,
    latencyMs: args.latencyMs as number | undefined,
    rateLimit,
    throttling,
    faults: {
      errorRate: args.faultRate as number | undefined,
      resetRate: args.resetRate as number | undefined,
      dropAfterCommitRate: args.dropAfterCommitRate as number | undefined,
      slowRate: args.slowRate as number | undefined,
      slowMs: args.slowMs as number | undefined,
    },
    seed: args.seed as number | undefined,
    bom: args.bom as boolean | undefined,
    maxPageSize: args.maxPageSize as number | undefined,
    identity: args.identity as boolean | undefined,
  };
  const emulator = await startEmulator(options);
  process.stdout.write(`Partner Center emulator listening on ${emulator.url}\n`);
  if (emulator.identity) {
    process.stdout.write(`identity endpoint: ${emulator.identity.authority} (trust it with NODE_EXTRA_CA_CERTS=${emulator.identity.caCertPath})\n`);
  }
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  await emulator.close();
  return 0;
}

/** `--input -` means stdin; yargs would take a lone "-" for a positional argument. */
function stdinAsValue(argv: string[]): string[] {
  return argv.flatMap((arg, index) => (arg === "-" && /^(--input|-i)$/.test(argv[index - 1] ?? "") ? [] : arg === "--input" || arg === "-i" ? (argv[index + 1] === "-" ? [`${arg}=-`] : [arg]) : [arg]));
}

async function main(): Promise<void> {
  let exitCode = 0;
  await yargs(stdinAsValue(hideBin(process.argv)))
    .scriptName("license-runner")
    .usage("$0 <command> [options]")
    .command("run", "assign and remove licenses, write the results CSV", runOptions, async (args) => {
      exitCode = await runCommand("run", args);
    })
    .command("plan", "read, validate, resolve, group and check seats: no writes", runOptions, async (args) => {
      exitCode = await runCommand("plan", args);
    })
    .command(
      "emulate",
      "serve a local Partner Center on loopback",
      (y) =>
        y
          .option("port", { type: "number", default: 4010 })
          .option("host", { type: "string", default: "127.0.0.1" })
          .option("state", { type: "string", describe: "state file (default: the demo fixtures)" })
          .option("latency-ms", { type: "number" })
          .option("rate-limit", { type: "string", describe: 'per customer/partner: token bucket "customer=10:5" (rate:burst), "customer=fixed:10/1s" or "partner=sliding:600/1m" windows' })
          .option("accrue-refused", { type: "boolean", describe: "a refused (429) call counts against the limit too" })
          .option("retry-after", { type: "string", describe: "what a 429's Retry-After says: exact, pessimistic:SECONDS (at least), optimistic:SECONDS (at most)" })
          .option("retry-after-format", { type: "string", choices: ["seconds", "http-date", "missing"], describe: "Retry-After as seconds, an HTTP-date, or no header" })
          .option("fault-rate", { type: "number", describe: "fraction of calls answered 500/503" })
          .option("reset-rate", { type: "number", describe: "fraction of calls whose connection is reset" })
          .option("drop-after-commit-rate", { type: "number", describe: "fraction of writes applied, then their connection dropped" })
          .option("slow-rate", { type: "number", describe: "fraction of answers delayed by --slow-ms" })
          .option("slow-ms", { type: "number" })
          .option("seed", { type: "number", describe: "seed for the fault dice" })
          .option("bom", { type: "boolean", describe: "a UTF-8 byte-order mark before every JSON body" })
          .option("max-page-size", { type: "number", describe: "most users per page of the users list (default 100)" })
          .option("identity", { type: "boolean", describe: "also serve the HTTPS identity (token) endpoint" }),
      async (args) => {
        exitCode = await emulateCommand(args as unknown as Record<string, unknown>);
      },
    )
    .demandCommand(1, "name a command: run, plan or emulate")
    .strict()
    .fail((message, error) => {
      if (error) throw error;
      process.stderr.write(`license-runner: ${message}\nRun license-runner --help for usage.\n`);
      process.exit(EXIT_USAGE);
    })
    .help()
    .parseAsync();
  process.exit(exitCode); // keep-alive sockets must not hold a finished run open
}

await main();
