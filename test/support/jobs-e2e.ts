// Helpers of the jobs end-to-end tests: temp work folders, job files, runs of the built
// CLI against an emulator, runs under a pseudo-terminal, and reading the emulator's request log.
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CLI, REPO, cleanEnv, readResults, runCli, type CliRun, type ResultRow } from "./cli.js";
import { control, type RunningEmulator } from "./emulator.js";
import { TOKEN } from "./state-builder.js";
import { tempDir } from "./temp-dir.js";

export async function workdir(): Promise<string> {
  return tempDir("lr-jobs-e2e-");
}

/** Writes a job file (JSON) into dir and returns its path. */
export async function writeJob(dir: string, name: string, job: Record<string, unknown>): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${JSON.stringify(job, null, 2)}\n`);
  return path;
}

export interface CliAgainst {
  run: CliRun;
  results: ResultRow[];
  dir: string;
  input: string;
  output: string;
}

/**
 * `license-runner <command>` on a roster written into a fresh folder, against the emulator, with an
 * App+User token in the environment and JSON logs. Extra args come last, so they override.
 */
export async function cliAgainst(
  em: RunningEmulator,
  rosterCsv: string,
  options: { command?: "run" | "plan"; args?: string[]; env?: Record<string, string>; dir?: string; output?: string } = {},
): Promise<CliAgainst> {
  const dir = options.dir ?? (await workdir());
  const input = join(dir, "roster.csv");
  const output = options.output ?? join(dir, "results.csv");
  await writeFile(input, rosterCsv);
  const run = await runCli(
    [
      options.command ?? "run",
      "--input",
      input,
      "--output",
      output,
      "--base-url",
      em.url,
      // JSON logs unless the test asks for another format (an option is given once).
      ...(options.args?.includes("--log-format") ? [] : ["--log-format", "json"]),
      ...(options.args ?? []),
    ],
    { env: cleanEnv({ PARTNER_CENTER_ACCESS_TOKEN: TOKEN, ...options.env }) },
  );
  const results = await readResults(output).catch(() => [] as ResultRow[]);
  return { run, results, dir, input, output };
}

/** The results keyed by roster line. */
export function byLine(results: readonly ResultRow[]): Map<number, ResultRow> {
  return new Map(results.map((r) => [Number(r.line), r]));
}

/** What a row came to, without the run-specific cells (request ids, times). */
export function essence(row: ResultRow): string {
  return [row.line, row.customerId, row.userId, row.sku, row.skuId, row.licenseGroup, row.action, row.status, row.httpStatus, row.errorCode].join("|");
}

export { requestLog, type LogEntry } from "./emulator.js";
import type { LogEntry } from "./emulator.js";

/** The most requests of one endpoint that were in flight at the same moment, from the emulator's timestamps. */
export function mostInFlight(entries: readonly LogEntry[], endpoint: string): number {
  const events: [number, number][] = [];
  for (const e of entries.filter((x) => x.endpoint === endpoint)) {
    events.push([e.arrivalMs, 1], [e.answerMs, -1]);
  }
  // An answer and an arrival at the same instant do not overlap: answers first.
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, delta] of events) {
    now += delta;
    most = Math.max(most, now);
  }
  return most;
}

function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs the built CLI with a pseudo-terminal as its stdin/stdout/stderr (util-linux `script`), so
 * process.stderr.isTTY is true. Everything the CLI wrote to the terminal comes back in `output`
 * (stdout and stderr are the one terminal), control characters included.
 */
export function runCliUnderPty(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const command = [process.execPath, CLI, ...args].map(shellQuote).join(" ");
  return new Promise((resolve, reject) => {
    // A wide terminal, so the progress line is not cut to 80 columns.
    const child = spawn("script", ["-qec", `stty cols 250 2>/dev/null; exec ${command}`, "/dev/null"], {
      cwd: REPO,
      env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

export { cleanEnv, readResults, REPO as REPO_ROOT, runCli, TOKEN, type CliRun, type ResultRow };
