// Runs the built CLI as a user would: a child process of `node dist/cli.js`, with its own env.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { readFile } from "node:fs/promises";
import { parse } from "csv-parse/sync";
import { renderConsoleSummary, renderSeatCheckTable } from "../../dist/results/renderer.js";
import { renderSignInLines, type SignInReport } from "../../dist/partner-center/auth/sign-in-report.js";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));
export const CLI = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));

/** The environment a run gets: the machine's, minus any Partner Center variables, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith("PARTNER_CENTER_") && key !== "GITHUB_STEP_SUMMARY") env[key] = value;
  }
  return { ...env, ...extra };
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function startCli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; stdin?: string } = {}): { child: ChildProcess; done: Promise<CliRun> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd ?? REPO, env: options.env ?? cleanEnv(), stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  if (options.stdin !== undefined) child.stdin!.end(options.stdin);
  else child.stdin!.end();
  const done = new Promise<CliRun>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; stdin?: string } = {}): Promise<CliRun> {
  return startCli(args, options).done;
}

export type ResultRow = Record<string, string>;

/** The results CSV as records keyed by column name. */
export async function readResults(path: string): Promise<ResultRow[]> {
  const text = await readFile(path, "utf8");
  return parse(text, { columns: true, bom: true, skip_empty_lines: true }) as ResultRow[];
}

/**
 * stderr as a person reads it in pretty mode, from a JSON-mode run (where every stderr line is a
 * JSON record): the run summary record becomes the console summary text, an error that ended the
 * run (a record with `exitCode`) its "license-runner: ..." line; other lines stay as they are.
 */
export function readableStderr(stderr: string): string {
  return stderr
    .split("\n")
    .map((line) => {
      if (!line.startsWith("{")) return line;
      let record: { msg?: string; exitCode?: number; summary?: unknown; resultsPath?: string; summaryJsonPath?: string };
      try {
        record = JSON.parse(line);
      } catch {
        return line;
      }
      if (record.msg === "run summary" && record.summary) {
        const summary = record.summary as Parameters<typeof renderConsoleSummary>[0] & { signIn?: SignInReport };
        // Pretty mode shows the seat check table before the summary for a plan, or when seats run short.
        const seats = summary.mode === "plan" || summary.shortfall > 0 ? renderSeatCheckTable(summary.seatCheck) : "";
        const text = seats + renderConsoleSummary(summary, { resultsPath: record.resultsPath, summaryJsonPath: record.summaryJsonPath });
        return `${text}${summary.signIn ? renderSignInLines(summary.signIn) : ""}`.replace(/\n$/, "");
      }
      if (typeof record.exitCode === "number" && record.msg !== undefined) return `license-runner: ${record.msg}`;
      return line;
    })
    .join("\n");
}
