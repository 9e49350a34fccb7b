// Runs the built CLI (`node dist/cli.js ...`) as a child process, as a user would, and measures it:
// wall time, exit code, and (through resource-reporter.js) its own peak RSS and CPU time.
import { spawn } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { CLI } from "../support/cli.js";


const REPORTER = pathToFileURL(fileURLToPath(new URL("./resource-reporter.js", import.meta.url))).href;
/** Only the end of stderr is kept: enough to explain a failure, bounded however much is logged. */
const STDERR_TAIL = 8_192;

export interface MeasuredRun {
  exitCode: number | null;
  wallMs: number;
  peakRssMb: number;
  cpuMs: number;
  /** Of cpuMs, the time in the kernel (on loopback, a socket write also carries the receiving side's TCP work). */
  systemCpuMs: number;
  stderrTail: string;
}

export interface ChildOptions {
  env: NodeJS.ProcessEnv;
  workdir: string;
  /** The CLI to run; default this checkout's dist/cli.js (another build's, for a side-by-side). */
  cli?: string;
  /** Node options before the CLI (e.g. --cpu-prof, --cpu-prof-dir=...). */
  nodeArgs?: readonly string[];
}

export async function runCliMeasured(args: string[], options: ChildOptions): Promise<MeasuredRun> {
  const usageFile = join(options.workdir, `usage-${process.pid}-${Date.now()}.json`);
  const started = performance.now();
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), "--import", REPORTER, options.cli ?? CLI, ...args], {
    env: { ...options.env, LICENSE_RUNNER_BENCH_USAGE: usageFile },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderrTail = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-STDERR_TAIL);
  });
  const exitCode = await new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const wallMs = performance.now() - started;
  let peakRssMb = Number.NaN;
  let cpuMs = Number.NaN;
  let systemCpuMs = Number.NaN;
  try {
    const usage = JSON.parse(await readFile(usageFile, "utf8")) as { maxRssKb: number; userCpuUs: number; systemCpuUs: number };
    peakRssMb = usage.maxRssKb / 1024;
    cpuMs = (usage.userCpuUs + usage.systemCpuUs) / 1000;
    systemCpuMs = usage.systemCpuUs / 1000;
    await rm(usageFile, { force: true });
  } catch {
    // no usage file: the child died before its exit handler; the figures stay NaN and show as such
  }
  return { exitCode, wallMs, peakRssMb, cpuMs, systemCpuMs, stderrTail };
}
