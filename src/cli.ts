#!/usr/bin/env node
// Thin shell: yargs -> config -> pipeline -> exit code. No logic lives here.
import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import yargs, { type Argv } from "yargs";
import { hideBin } from "yargs/helpers";
import { flagName, OPTION_KEYS, readJobFile, resolveRunConfig, RUN_OPTIONS, type LogFormat, type OptionKey, type OptionSpec, type RunCommand, type RunConfig } from "./config.js";
import { TOP_EXAMPLES, DEMO_EXAMPLES, EMULATE_EXAMPLES, PLAN_EXAMPLES, RUN_EXAMPLES, runEpilog, withSuggestions } from "./cli-help.js";
import { createLogger, writeErrorLine } from "./logger.js";
import type { MsalNetworkClient, SignInReport } from "./partner-center/auth/index.js";
import { prepareRunSignIn } from "./partner-center/auth/run-sign-in.js";
import { loginCommand, loginOptions } from "./commands/login.js";
import { createMsalNetworkClient } from "./partner-center/msal-network-client.js";
import type { AccessTokenProvider } from "./partner-center/api.js";
import { createPartnerCenterClient } from "./partner-center/client.js";
import { describeProxyEnvironment } from "./partner-center/http-stack.js";
import { systemClock } from "./execute/clock.js";
import { runLicenseJob } from "./pipeline/run-job.js";
import { publishSummary } from "./pipeline/publish-summary.js";
import { startEmulator, parseRateLimit, parseRetryAfterMode, type EmulatorOptions, type RunningEmulator, type ThrottleBehaviour } from "./emulator/server.js";
import { undoCommand } from "./commands/undo.js";

const EXIT_USAGE = 2;
const EXIT_RUN_FATAL = 4;
const EXIT_INTERNAL = 70;
/** Set once --log-level is known: debug and trace show an internal error's stack. */
let showStacks = false;
const DEMO_STATE = fileURLToPath(new URL("../fixtures/emulator/demo-state.json", import.meta.url));
const DEMO_ROSTER = fileURLToPath(new URL("../fixtures/demo/roster.csv", import.meta.url));
/** What `demo` lets a user change; the roster and the emulator are fixed. */
const DEMO_OPTION_KEYS: readonly OptionKey[] = ["output", "summaryJson", "concurrency", "logLevel", "logFormat", "progress"];
const EMULATE_NUMBER_OPTIONS: Record<string, string> = {
  port: "port to listen on (default 4010; 0: any free port)",
  "latency-ms": "added latency of every answer",
  "fault-rate": "fraction of calls answered 500/503",
  "reset-rate": "fraction of calls whose connection is reset",
  "drop-after-commit-rate": "fraction of writes applied, then their connection dropped",
  "slow-rate": "fraction of answers delayed by --slow-ms",
  "slow-ms": "delay of a slow answer",
  seed: "seed for the fault dice",
  "max-page-size": "most users per page of the users list (default 100)",
  "refresh-token-max-uses": "identity: a refresh token expires (AADSTS700082) after N redemptions",
  "refresh-token-expiry-after-use": "identity: a refresh token expires N seconds after its first redemption",
};
const EMULATOR_TOKEN = "emulator-app-user-token";
/** After a first signal, requests in flight get this long to finish before the run stops at once. */
const DRAIN_DEADLINE_MS = 30_000;
/** The network client every MSAL application of the CLI uses (run and login); undefined: MSAL's own. */
const MSAL_NETWORK_CLIENT: MsalNetworkClient = createMsalNetworkClient();

/** The options of `run`/`plan`, derived from the one option table of config.ts. */
function runOptions(command: RunCommand, examples: ReadonlyArray<readonly [string, string]>, keys: readonly OptionKey[] = OPTION_KEYS) {
  return (y: Argv) => {
    let options = keys === OPTION_KEYS ? y.option("job", { type: "string", describe: "read options from a job file (jobs/NAME.json); flags override it" }) : y;
    for (const key of keys) {
      const spec: OptionSpec = RUN_OPTIONS[key];
      const shown = typeof spec.defaultText === "function" ? spec.defaultText(command) : (spec.defaultText ?? (spec.default !== undefined ? String(spec.default) : undefined));
      const env = spec.env ? `; env ${spec.env}` : "";
      const describe = `${spec.value ? `${spec.value}: ` : ""}${spec.describe}${shown !== undefined || env ? ` (default ${shown ?? "none"}${env})` : ""}`;
      // A number flag gets no yargs type: yargs would turn "abc" into NaN before the schema could name it.
      const type = spec.flag === "number" ? undefined : spec.flag;
      options = options.option(flagName(key).slice(2), { type, alias: spec.alias, describe, requiresArg: spec.flag !== "boolean" });
    }
    return options.example(examples.map(([example, text]) => [example, text] as [string, string])).epilog(runEpilog());
  };
}

type RunArgs = Record<string, unknown> & { job?: string };

async function runCommand(command: RunCommand, args: RunArgs): Promise<number> {
  let logFormat: LogFormat | undefined = args.logFormat === "json" ? "json" : undefined;
  const fail = (message: string): number => {
    writeErrorLine(logFormat, message);
    return EXIT_USAGE;
  };
  const repeated = Object.entries(args).find(([key, value]) => Array.isArray(value) && key !== "_" && !key.includes("-"));
  if (repeated) return fail(`--${repeated[0].replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is given more than once (${(repeated[1] as unknown[]).join(", ")}): give it once`);
  const job = args.job ? await readJobFile(args.job) : undefined;
  if (job && !job.ok) return fail(job.error);
  logFormat ??= job?.value.logFormat;
  const flags = Object.fromEntries(OPTION_KEYS.map((key) => [key, args[key]]));
  const resolved = resolveRunConfig({ command, job: job?.value, flags, env: process.env, stderrIsTTY: Boolean(process.stderr.isTTY) });
  if (!resolved.ok) return fail(resolved.error);
  const config = resolved.value;
  logFormat = config.logFormat;
  showStacks = config.logLevel === "debug" || config.logLevel === "trace";
  const logger = createLogger(config.logLevel, config.logFormat, { progressLine: config.progress });

  let emulator: RunningEmulator | undefined;
  let tokens: AccessTokenProvider;
  let signInReport: () => SignInReport | undefined = () => undefined;
  let baseUrl = config.baseUrl;
  if (config.emulator) {
    emulator = await startEmulator({ state: DEMO_STATE });
    baseUrl = emulator.url;
    tokens = { getToken: async () => EMULATOR_TOKEN };
    logger.info({ baseUrl }, "embedded emulator started");
  } else {
    const signIn = await prepareRunSignIn({ env: process.env, tokenCache: config.tokenCache, logger, networkClient: MSAL_NETWORK_CLIENT, apiBaseUrl: config.baseUrl });
    if (!signIn.ok) return fail(signIn.error);
    tokens = signIn.tokens;
    signInReport = () => signIn.tokens.signInReport();
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
  process.on("SIGHUP", onSignal); // a closed terminal or SSH session drains like SIGTERM

  try {
    const proxies = describeProxyEnvironment();
    if (Object.keys(proxies).length > 0) logger.info(proxies, "calls go through the proxy the environment names");
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
    const unpublished = await publishSummary(result, config, process.env, process.stderr, logger, signInReport());
    if (unpublished) {
      writeErrorLine(logFormat, unpublished);
      return result.exitCode === 130 ? 130 : EXIT_RUN_FATAL;
    }
    return result.exitCode;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.off("SIGHUP", onSignal);
    await emulator?.close();
  }
}

async function emulateCommand(args: Record<string, unknown>): Promise<number> {
  for (const name of Object.keys(EMULATE_NUMBER_OPTIONS)) {
    const value = args[name];
    if (value !== undefined && (typeof value !== "number" || !Number.isFinite(value) || value < 0)) {
      process.stderr.write(`license-runner: --${name} ${String(value)}: expected a number of 0 or more\n`);
      return EXIT_USAGE;
    }
  }
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
    port: (args.port as number | undefined) ?? 4010,
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
    gzip: args.gzip as boolean | undefined,
    usersPaging: args.usersPaging as "links-next" | "continuation-token" | undefined,
    identity: args.identity as boolean | undefined,
    refreshTokenUse: {
      maxUses: args.refreshTokenMaxUses as number | undefined,
      expirySecondsAfterUse: args.refreshTokenExpiryAfterUse as number | undefined,
    },
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

/** An exception nothing else caught is a bug: one line (the stack with --log-level debug), exit 70. */
function internalError(error: unknown): never {
  const detail = showStacks && error instanceof Error && error.stack ? error.stack : error instanceof Error ? error.message : String(error);
  try {
    process.stderr.write(`license-runner: internal error (a bug): ${showStacks ? detail : detail.split("\n")[0]}; the results journal is kept, run again with --resume to continue\n`);
  } catch {
    // stderr is gone: the exit code still tells
  }
  process.exit(EXIT_INTERNAL);
}

/** A reader that went away (a closed pipe) ends our output quietly, never the run. */
function quietOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") internalError(error);
  });
}

/** The version of this package, read beside the module (not from the working directory or a host project). */
function ownVersion(): string {
  try {
    const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: unknown };
    return typeof manifest.version === "string" ? manifest.version : "unknown";
  } catch {
    return "unknown";
  }
}

const COMMANDS = ["run", "plan", "undo", "login", "demo", "emulate"] as const;
const EMULATE_FLAGS = ["host", "state", "rate-limit", "bom", "identity", "gzip", "users-paging", "accrue-refused", "retry-after", "retry-after-format"];
/** Flags of the commands that are not run/plan, for "did you mean". */
const OTHER_COMMAND_FLAGS = ["results", "assume-new", "print-refresh-token", "port", "timeout", "browser"];

async function main(): Promise<void> {
  let exitCode = 0;
  quietOnClosedPipe(process.stdout);
  quietOnClosedPipe(process.stderr);
  process.on("uncaughtException", (error: NodeJS.ErrnoException) => (error.code === "EPIPE" ? undefined : internalError(error)));
  process.on("unhandledRejection", internalError);
  const parser = yargs(stdinAsValue(hideBin(process.argv)));
  await parser
    .scriptName("license-runner")
    .usage("$0 <command> [options]\n\nAssign and remove Microsoft 365 licenses through Partner Center from a CSV roster.")
    .command("run", "assign and remove licenses, write the results CSV", runOptions("run", RUN_EXAMPLES), async (args) => {
      exitCode = await runCommand("run", args);
    })
    .command("plan", "read, validate, resolve, group and check seats: no writes", runOptions("plan", PLAN_EXAMPLES), async (args) => {
      exitCode = await runCommand("plan", args);
    })
    .command("login", "sign in once (the consent, with MFA) and keep the refresh token in the token cache", loginOptions, async (args) => {
      exitCode = await loginCommand(args, { networkClient: MSAL_NETWORK_CLIENT });
    })
    .command(
      "demo",
      "run the demo roster against the embedded emulator, writing demo.results.csv and demo.summary.json here",
      runOptions("run", DEMO_EXAMPLES, DEMO_OPTION_KEYS),
      async (args) => {
        exitCode = await runCommand("run", { ...args, input: DEMO_ROSTER, emulator: true, output: args.output ?? "demo.results.csv", summaryJson: args.summaryJson ?? "demo.summary.json" });
      },
    )
    .command(
      "undo",
      "write a roster that reverses what a run changed, from its results file",
      (y) =>
        y
          .option("results", { type: "string", demandOption: true, describe: "the results CSV of the run to undo" })
          .option("output", { alias: "o", type: "string", describe: "the undo roster (default <results>.undo.csv)" })
          .option("assume-new", { type: "boolean", default: false, describe: "for a run without --diff: take every change as new (nothing was held before)" }),
      async (args) => {
        const report = await undoCommand({ results: args.results, output: args.output, assumeNew: args.assumeNew });
        for (const warning of report.warnings) process.stderr.write(`license-runner: warning: ${warning}\n`);
        process.stderr.write(report.exitCode === 0 ? `${report.message}\n` : `license-runner: ${report.message}\n`);
        exitCode = report.exitCode;
      },
    )
    .command(
      "emulate",
      "serve a local Partner Center on loopback",
      (y) => {
        let options = y
          .option("host", { type: "string", default: "127.0.0.1", describe: "address to listen on (keep it on loopback)" })
          .option("state", { type: "string", describe: "state file (default: the demo fixtures)" })
          .option("rate-limit", { type: "string", describe: 'per customer/partner: token bucket "customer=10:5" (rate:burst), "customer=fixed:10/1s" or "partner=sliding:600/1m" windows' })
          .option("accrue-refused", { type: "boolean", describe: "a refused (429) call counts against the limit too" })
          .option("retry-after", { type: "string", describe: "what a 429's Retry-After says: exact, pessimistic:SECONDS (at least), optimistic:SECONDS (at most)" })
          .option("retry-after-format", { type: "string", choices: ["seconds", "http-date", "missing", "gateway-html"], describe: "Retry-After as seconds, an HTTP-date, no header, or no header and a gateway's HTML page" })
          .option("bom", { type: "boolean", describe: "a UTF-8 byte-order mark before every JSON body" })
          .option("gzip", { type: "boolean", describe: "gzip-compressed answers to requests that accept gzip" })
          .option("users-paging", { choices: ["links-next", "continuation-token"], describe: "how a users page points to the next (default links-next)" })
          .option("identity", { type: "boolean", describe: "also serve the HTTPS identity endpoint (consent and tokens)" });
        // No yargs type on numbers: yargs would turn "abc" into NaN before emulateCommand could name it.
        for (const [name, describe] of Object.entries(EMULATE_NUMBER_OPTIONS)) options = options.option(name, { describe, requiresArg: true });
        return options.example(EMULATE_EXAMPLES.map(([example, text]) => [example, text] as [string, string]));
      },
      async (args) => {
        exitCode = await emulateCommand(args as unknown as Record<string, unknown>);
      },
    )
    .example(TOP_EXAMPLES.map(([example, text]) => [example, text] as [string, string]))
    .epilog(runEpilog())
    .demandCommand(1, `name a command: ${COMMANDS.join(", ")}`)
    .recommendCommands()
    .strict()
    .fail((message, error) => {
      if (error) throw error;
      const knownFlags = ["job", "help", "version", ...OPTION_KEYS.map((key) => flagName(key).slice(2)), ...EMULATE_FLAGS, ...OTHER_COMMAND_FLAGS, ...Object.keys(EMULATE_NUMBER_OPTIONS)];
      const args = hideBin(process.argv);
      const jsonLogs = args.some((arg, index) => arg === "--log-format=json" || (arg === "--log-format" && args[index + 1] === "json"));
      writeErrorLine(jsonLogs ? "json" : undefined, `${withSuggestions(message, knownFlags, COMMANDS)}${jsonLogs ? "" : "\nRun license-runner --help for usage."}`);
      process.exit(EXIT_USAGE);
    })
    .version(ownVersion())
    .alias("version", "V")
    .help()
    .alias("help", "h")
    .wrap(Math.min(110, parser.terminalWidth()))
    .parseAsync()
    .catch(internalError);
  process.exit(exitCode); // keep-alive sockets must not hold a finished run open
}

await main();
