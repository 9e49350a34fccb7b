// The text of `--help` that is not an option's own line: examples per command, the environment
// variables, the exit codes, and the "did you mean" suggestion for a mistyped flag or command.
// Pure strings and functions, so the help reads in one place and a test can check it.

/** The variables the CLI reads. A new variable is one line here (and its row in the README). */
export const ENVIRONMENT_HELP: ReadonlyArray<readonly [string, string]> = [
  ["PARTNER_CENTER_ACCESS_TOKEN", "a bearer token minted elsewhere (a CI step); used as-is"],
  ["PARTNER_CENTER_TENANT_ID", "App+User sign-in (secure application model): the partner tenant,"],
  ["PARTNER_CENTER_CLIENT_ID", "  the app's client id,"],
  ["PARTNER_CENTER_CLIENT_SECRET", "  its secret,"],
  ["PARTNER_CENTER_REFRESH_TOKEN", "  and the refresh token of the consent"],
  ["PARTNER_CENTER_AUTHORITY", "the identity authority (default https://login.microsoftonline.com)"],
  ["PARTNER_CENTER_BASE_URL", "as --base-url (default https://api.partnercenter.microsoft.com)"],
];

export const EXIT_CODES_HELP: ReadonlyArray<readonly [string, string]> = [
  ["0", "every row assigned, removed, skipped, unchanged or planned"],
  ["2", "bad usage, configuration or roster; nothing was sent"],
  ["3", "the run finished; at least one row is failed or invalid"],
  ["4", "the run stopped early on a run-fatal error; unsent rows are aborted"],
  ["130", "interrupted; --resume continues"],
  ["70", "an internal error; --resume continues"],
];

function table(title: string, rows: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...rows.map(([name]) => name.length));
  return [`${title}:`, ...rows.map(([name, text]) => `  ${name.padEnd(width)}  ${text}`)].join("\n");
}

/** What follows the options of `run` and `plan`: credentials never come from flags. */
export function runEpilog(): string {
  return [
    table("Environment (credentials come only from here, never from flags or job files)", ENVIRONMENT_HELP),
    table("Exit codes", EXIT_CODES_HELP),
  ].join("\n\n");
}

export const TOP_EXAMPLES: ReadonlyArray<readonly [string, string]> = [
  ["$0 demo", "try it: the demo roster against the embedded emulator, no credentials"],
  ["$0 plan --input roster.csv", "check a roster and the seats; sends no write"],
  ["$0 run --input roster.csv", "assign and remove; results in roster.csv.results.csv"],
  ["$0 <command> --help", "a command's options, examples and defaults"],
];

export const RUN_EXAMPLES: ReadonlyArray<readonly [string, string]> = [
  ["$0 run --input roster.csv", "assign and remove; results in roster.csv.results.csv"],
  ["$0 run --job jobs/nightly-onboarding.json --resume", "a job file's options; keep the rows already done"],
  ["$0 run --input roster.csv --shard 2/4 --max-rate 25", "one shard of four, at a quarter of the allowance"],
  ["$0 run --emulator --input roster.csv", "against the embedded emulator (no credentials)"],
];

export const PLAN_EXAMPLES: ReadonlyArray<readonly [string, string]> = [
  ["$0 plan --input roster.csv", "resolve and check seats; the plan in roster.csv.plan.csv"],
  ["$0 plan --job jobs/nightly-onboarding.json --emulator", "check a job file against the emulator"],
];

export const DEMO_EXAMPLES: ReadonlyArray<readonly [string, string]> = [
  ["$0 demo", "the demo roster against the embedded emulator; demo.results.csv here"],
];

export const EMULATE_EXAMPLES: ReadonlyArray<readonly [string, string]> = [
  ["$0 emulate --port 4010", "the demo state on http://127.0.0.1:4010"],
  ['$0 emulate --rate-limit "customer=10,partner=40" --fault-rate 0.05', "throttled and flaky, to rehearse"],
];

/** Edit distance, for suggesting the name a typo meant. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The known name closest to `given`, when it is close enough to be a typo of it. */
export function closestName(given: string, known: readonly string[]): string | undefined {
  let best: { name: string; score: number } | undefined;
  for (const name of known) {
    const score = distance(given.toLowerCase(), name.toLowerCase());
    if (!best || score < best.score) best = { name, score };
  }
  return best && best.score <= Math.max(1, Math.floor(given.length / 3)) ? best.name : undefined;
}

/**
 * yargs' strict mode says "Unknown argument: concurency" (or "Unknown arguments: a, b"); add what
 * each one probably meant. Flags are suggested as flags, a first word as a command.
 */
export function withSuggestions(message: string, knownFlags: readonly string[], knownCommands: readonly string[]): string {
  const match = /^Unknown arguments?: (.+)$/.exec(message);
  if (!match) return message;
  const hints = match[1]!.split(", ").flatMap((unknown) => {
    const flag = closestName(unknown, knownFlags);
    if (flag) return [`--${unknown}: did you mean --${flag}?`];
    const command = closestName(unknown, knownCommands);
    return command ? [`${unknown}: did you mean ${command}?`] : [];
  });
  return [message, ...hints].join("\n");
}
