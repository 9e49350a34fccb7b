// `license-runner emulate`: the local Partner Center on loopback, its flags and their checks.
import { fileURLToPath } from "node:url";
import type { Argv } from "yargs";
import { EMULATE_EXAMPLES } from "../cli-help.js";
import { parseRateLimit, parseRetryAfterMode, startEmulator, type EmulatorOptions, type ThrottleBehaviour } from "../emulator/server.js";

const EXIT_USAGE = 2;
const DEMO_STATE = fileURLToPath(new URL("../../fixtures/emulator/demo-state.json", import.meta.url));

export const EMULATE_NUMBER_OPTIONS: Record<string, string> = {
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

/** Every flag of `emulate`, for "did you mean". */
export const EMULATE_FLAGS = ["host", "state", "rate-limit", "bom", "identity", "gzip", "users-paging", "accrue-refused", "retry-after", "retry-after-format", ...Object.keys(EMULATE_NUMBER_OPTIONS)];

export function emulateOptions(y: Argv) {
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
}

export async function emulateCommand(args: Record<string, unknown>): Promise<number> {
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

