// The benchmark's scenarios: each starts its own emulator in this process on loopback,
// writes its roster, runs the built CLI as a child process and returns the raw measurements.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { EmulatorOptions } from "../../dist/emulator/server.js";
import { cleanEnv } from "../support/cli.js";
import { startTestEmulator, type RunningEmulator } from "../support/emulator.js";
import { runBaseline, type BaselineReport } from "./baseline.js";
import { runCliMeasured, type ChildOptions, type MeasuredRun } from "./child-run.js";
import { apiWindowOf, readCounters, readRequestLog, type ApiWindow, type EmulatorCounters } from "./emulator-metrics.js";
import { BENCH_TOKEN, benchState, rosterEntries, writeRoster, type RosterShape } from "./fixtures.js";

export interface RunnerScenario {
  name: string;
  rows: number;
  run: MeasuredRun;
  counters: EmulatorCounters;
  /** Only for scenarios small enough for the request log. */
  window?: ApiWindow;
}

interface ScenarioSpec {
  name: string;
  shape: RosterShape;
  /** Users in the emulator's state (writes need them; a plan by user id does not). */
  withUsers: boolean;
  emulator: Omit<EmulatorOptions, "state">;
  command: "run" | "plan";
  /** Undefined: the runner's default. */
  concurrency?: number;
  /** More runner arguments (e.g. --pacing-state). */
  extraArgs?: string[];
  /** Read the request log for a windowed throughput (scenarios under 200,000 calls). */
  window: boolean;
  /** Write the emulator's request log there (JSON, every call: arrival, answer, status, Retry-After). */
  requestLogFile?: string;
}

async function withEmulator<T>(spec: { shape: RosterShape; withUsers: boolean; emulator: Omit<EmulatorOptions, "state"> }, use: (emulator: RunningEmulator) => Promise<T>): Promise<T> {
  const state = benchState(spec.shape.customers, spec.shape.usersPerCustomer, spec.withUsers);
  const emulator = await startTestEmulator({ ...spec.emulator, state });
  try {
    return await use(emulator);
  } finally {
    await emulator.close();
  }
}

/** Which build runs and how: this checkout's by default. `tag` keeps another build's files apart. */
export type ChildChoice = Pick<ChildOptions, "cli" | "nodeArgs"> & { tag?: string };

export async function runRunnerScenario(spec: ScenarioSpec, workdir: string, child: ChildChoice = {}): Promise<RunnerScenario> {
  const files = child.tag ? `${spec.name}-${child.tag}` : spec.name;
  const input = join(workdir, `${files}.csv`);
  const output = join(workdir, `${files}.results.csv`);
  const rows = await writeRoster(input, spec.shape);
  return withEmulator(spec, async (emulator) => {
    const args = [spec.command, "--input", input, "--output", output, "--base-url", emulator.url, "--log-format", "json", "--no-progress"];
    if (spec.concurrency !== undefined) args.push("--concurrency", String(spec.concurrency));
    if (spec.extraArgs) args.push(...spec.extraArgs);
    const run = await runCliMeasured(args, { env: cleanEnv({ PARTNER_CENTER_ACCESS_TOKEN: BENCH_TOKEN }), workdir, cli: child.cli, nodeArgs: child.nodeArgs });
    if (run.exitCode !== 0) throw new Error(`scenario ${spec.name}: the runner exited ${run.exitCode}\n${run.stderrTail}`);
    const counters = await readCounters(emulator);
    const result: RunnerScenario = { name: spec.name, rows, run, counters };
    if (spec.window || spec.requestLogFile) {
      const entries = await readRequestLog(emulator);
      if (spec.window) result.window = apiWindowOf(entries);
      if (spec.requestLogFile) await writeFile(spec.requestLogFile, JSON.stringify(entries));
    }
    return result;
  });
}

export interface Sizes {
  latencyRows: number;
  rateWrites: number;
  rateWritesPerCustomer5: number;
  rawRows: number;
  planUsersPerCustomer: number;
  baselineLatencyRows: number;
  baselineRateRows: number;
  baselineMaxMs: number;
}

export const FULL: Sizes = {
  latencyRows: 2_000,
  rateWrites: 300,
  rateWritesPerCustomer5: 300,
  rawRows: 100_000,
  planUsersPerCustomer: 5_000, // 100 customers x 5,000 users x 2 SKUs = 1,000,000 rows
  baselineLatencyRows: 150,
  baselineRateRows: 100,
  baselineMaxMs: 40_000,
};

export const QUICK: Sizes = {
  latencyRows: 500,
  rateWrites: 100,
  rateWritesPerCustomer5: 60,
  rawRows: 10_000,
  planUsersPerCustomer: 500,
  baselineLatencyRows: 40,
  baselineRateRows: 20,
  baselineMaxMs: 15_000,
};

export const LATENCY_MS = 50;
export const CONCURRENCY = 16;
export const CUSTOMER_RATE = 10;
export const PARTNER_RATE = 40;

/** 1. Latency-bound: every call 50 ms, no limits, concurrency 16; customers of 100 users, one SKU each. */
export function latencyShape(sizes: Sizes): RosterShape {
  return { customers: Math.max(1, Math.round(sizes.latencyRows / 100)), usersPerCustomer: 100, skusPerUser: 1 };
}
export function latencyBound(sizes: Sizes, workdir: string): Promise<RunnerScenario> {
  return runRunnerScenario({ name: "latency-bound", shape: latencyShape(sizes), withUsers: true, emulator: { latencyMs: LATENCY_MS }, command: "run", concurrency: CONCURRENCY, window: true }, workdir);
}

/** 2a. Rate-bound, one customer limited to 10/s (50 ms calls, concurrency 16). */
export function rateShape(sizes: Sizes): RosterShape {
  return { customers: 1, usersPerCustomer: sizes.rateWrites, skusPerUser: 1 };
}
export function rateBoundOne(sizes: Sizes, workdir: string): Promise<RunnerScenario> {
  return runRunnerScenario(
    {
      name: "rate-bound-1",
      shape: rateShape(sizes),
      withUsers: true,
      emulator: { latencyMs: LATENCY_MS, rateLimit: { perCustomer: { ratePerSecond: CUSTOMER_RATE } } },
      command: "run",
      concurrency: CONCURRENCY,
      window: true,
    },
    workdir,
  );
}

/** 2b. Five customers each limited to 10/s under a partner limit of 40/s. */
export function rateBoundFive(sizes: Sizes, workdir: string): Promise<RunnerScenario> {
  return runRunnerScenario(
    {
      name: "rate-bound-5",
      shape: { customers: 5, usersPerCustomer: sizes.rateWritesPerCustomer5, skusPerUser: 1 },
      withUsers: true,
      emulator: { latencyMs: LATENCY_MS, rateLimit: { perCustomer: { ratePerSecond: CUSTOMER_RATE }, perPartner: { ratePerSecond: PARTNER_RATE } } },
      command: "run",
      concurrency: CONCURRENCY,
      window: true,
    },
    workdir,
  );
}

/**
 * 3. Raw overhead: zero latency, no limits, 100 customers. Two SKUs per user is the roster
 * shape (one request carries a user's two rows); one SKU per user is the worst case (a request per row).
 */
export function rawOverhead(sizes: Sizes, skusPerUser: 1 | 2, workdir: string, child: ChildChoice = {}): Promise<RunnerScenario> {
  const customers = 100;
  return runRunnerScenario(
    {
      name: `raw-overhead-${skusPerUser}`,
      shape: { customers, usersPerCustomer: Math.round(sizes.rawRows / customers / skusPerUser), skusPerUser },
      withUsers: true,
      emulator: {},
      command: "run",
      concurrency: CONCURRENCY,
      window: false,
    },
    workdir,
    child,
  );
}

/** 4. The big plan: 100 customers, users by id, two SKUs each; the emulator holds no users. */
export function bigPlan(sizes: Sizes, workdir: string, usersPerCustomer = sizes.planUsersPerCustomer): Promise<RunnerScenario> {
  return runRunnerScenario(
    { name: `plan-${usersPerCustomer}`, shape: { customers: 100, usersPerCustomer, skusPerUser: 2 }, withUsers: false, emulator: {}, command: "plan", concurrency: CONCURRENCY, window: false },
    workdir,
  );
}

/** 5. The baseline loop on the emulator of (1) or (2a), on a prefix of the same roster. */
export function baselineOn(shape: RosterShape, emulatorOptions: Omit<EmulatorOptions, "state">, maxRows: number, maxMs: number): Promise<BaselineReport> {
  return withEmulator({ shape, withUsers: true, emulator: emulatorOptions }, (emulator) =>
    runBaseline({ baseUrl: emulator.url, token: BENCH_TOKEN, rows: rosterEntries(shape), maxRows, maxMs }),
  );
}
