// `npm run bench [-- --quick] [-- --only latency,rate1,rate5,raw,plan,plan5,baseline,matrix] [-- --long]`:
// the benchmark (--long adds the 3,000-write cells of the pacing matrix, about 45 minutes more).
// The matrix: `--matrix-cells 1x60,10x300` and `--matrix-shapes "burst 5,fixed"` run only those
// cells and shapes (a shape ending in "$" matches a name ending so: "burst 1$", not "burst 10");
// `--matrix-parallel N` runs N cells at once (default: the cores, at most 4).
// `--compare-with <dir> [--rounds n]`: the raw scenario also runs the CLI built in another checkout
// (an older commit), turn about with this one, and prints both CPU-per-row figures and their ratio.
// `--cpu-prof <dir>`: this build's raw runs write V8 CPU profiles (.cpuprofile) there.
// `--keep`: the work directory (rosters, results) stays, and the matrix keeps each run's pacing
// state and the emulator's request log in it.
// Starts the emulator in this process for each scenario, runs the built CLI as a child
// process (its CPU and peak RSS measured apart from the emulator's), and prints every figure with
// its goal. Not part of `npm test`.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, arch, tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import type { BaselineReport } from "./baseline.js";
import { measureFloor, type Floor } from "./floor.js";
import { renderMatrix, runMatrix, selectMatrix, type MatrixCell } from "./matrix.js";
import { fixed, integer, isMet, percent, renderTable, type Figure } from "./report.js";
import {
  bigPlan,
  baselineOn,
  CONCURRENCY,
  CUSTOMER_RATE,
  FULL,
  LATENCY_MS,
  latencyBound,
  latencyShape,
  PARTNER_RATE,
  QUICK,
  rateBoundFive,
  rateBoundOne,
  rateShape,
  rawOverhead,
  type RunnerScenario,
} from "./scenarios.js";

// plan5 (5x the plan's rows, after it) is opt-in: `--only plan,plan5`.
const SCENARIOS = ["latency", "rate1", "rate5", "raw", "plan", "plan5", "baseline", "matrix"] as const;
type ScenarioName = (typeof SCENARIOS)[number];

interface OldBuild {
  dir: string;
  cli: string;
  /** How the figures name it: the checkout's commit, or its directory. */
  name: string;
}

interface Args {
  quick: boolean;
  long: boolean;
  only: Set<ScenarioName>;
  keep: boolean;
  /** --compare-with <dir>: the raw scenario also runs that checkout's built CLI, turn about with this one. */
  compareWith?: OldBuild;
  /** --rounds <n>: runs of each build per raw shape in a side-by-side (default 1). */
  rounds: number;
  /** --cpu-prof <dir>: the raw scenario's runs of this build write V8 CPU profiles there. */
  cpuProf?: string;
}

function optionValue(argv: readonly string[], name: string): string | undefined {
  const at = argv.indexOf(name);
  if (at < 0) return undefined;
  const value = argv[at + 1];
  if (value === undefined || value.startsWith("--")) throw new Error(`${name} needs a value`);
  return value;
}

function oldBuild(dir: string): OldBuild {
  const root = resolve(dir);
  const cli = join(root, "dist", "cli.js");
  if (!existsSync(cli)) throw new Error(`--compare-with ${dir}: no ${cli} (run npm ci && npm run build there)`);
  let name = basename(root);
  try {
    name = execFileSync("git", ["-C", root, "rev-parse", "--short", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() || name;
  } catch {
    // not a git checkout: its directory names it
  }
  return { dir: root, cli, name };
}

function parseArgs(argv: readonly string[]): Args {
  const quick = argv.includes("--quick");
  const long = argv.includes("--long");
  const keep = argv.includes("--keep");
  const onlyAt = argv.indexOf("--only");
  const listed = onlyAt >= 0 ? (argv[onlyAt + 1] ?? "").split(",").filter(Boolean) : SCENARIOS.filter((name) => name !== "plan5");
  const unknown = listed.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`unknown scenario(s) ${unknown.join(", ")}; known: ${SCENARIOS.join(", ")}`);
  const compareWith = optionValue(argv, "--compare-with");
  const cpuProf = optionValue(argv, "--cpu-prof");
  const rounds = Number(optionValue(argv, "--rounds") ?? 1);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error("--rounds needs a whole number of at least 1");
  return {
    quick,
    long,
    keep,
    only: new Set(listed as ScenarioName[]),
    rounds,
    ...(compareWith !== undefined ? { compareWith: oldBuild(compareWith) } : {}),
    ...(cpuProf !== undefined ? { cpuProf: resolve(cpuProf) } : {}),
  };
}

function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const sizes = args.quick ? QUICK : FULL;
  const workdir = await mkdtemp(join(tmpdir(), "license-runner-bench-"));
  const figures: Figure[] = [];
  const started = performance.now();
  let latency: RunnerScenario | undefined;
  let rate1: RunnerScenario | undefined;
  let matrix: MatrixCell[] | undefined;
  let matrixSeconds = 0;
  try {
    if (args.only.has("latency") || args.only.has("baseline")) {
      progress(`1. latency-bound: ${sizes.latencyRows} rows, ${LATENCY_MS} ms per call, concurrency ${CONCURRENCY}`);
      latency = await latencyBound(sizes, workdir);
      const w = latency.window!;
      const ideal = CONCURRENCY / (LATENCY_MS / 1000);
      const throughput = (w.writesSucceeded * 1000) / w.writeWindowMs;
      figures.push({ scenario: "1 latency-bound", measure: `writes/s over ideal ${ideal}/s`, value: throughput / ideal, format: fixed(3), goal: { op: ">=", target: 0.9, text: ">= 0.90" }, note: `${throughput.toFixed(0)}/s` });
      figures.push({ scenario: "1 latency-bound", measure: "whole run, wall (incl. start-up)", value: latency.run.wallMs / 1000, format: (v) => `${v.toFixed(2)} s` });
    }
    if (args.only.has("rate1") || args.only.has("baseline")) {
      progress(`2a. rate-bound: ${sizes.rateWrites} writes, one customer limited to ${CUSTOMER_RATE}/s`);
      rate1 = await rateBoundOne(sizes, workdir);
      const w = rate1.window!;
      const idealSeconds = sizes.rateWrites / CUSTOMER_RATE;
      figures.push({ scenario: "2a rate-bound, 1 customer", measure: "calls throttled / all calls", value: w.throttled / w.calls, format: percent(1), goal: { op: "<=", target: 0.05, text: "<= 5%" }, note: `${w.throttled} of ${w.calls}` });
      figures.push({ scenario: "2a rate-bound, 1 customer", measure: `time / ${idealSeconds} s`, value: w.apiWindowMs / 1000 / idealSeconds, format: fixed(3), goal: { op: "<=", target: 1.15, text: "<= 1.15" }, note: `${(w.apiWindowMs / 1000).toFixed(1)} s` });
    }
    if (args.only.has("rate5")) {
      progress(`2b. rate-bound: 5 customers x ${sizes.rateWritesPerCustomer5} writes, ${CUSTOMER_RATE}/s each, partner ${PARTNER_RATE}/s`);
      const rate5 = await rateBoundFive(sizes, workdir);
      const w = rate5.window!;
      const throughput = (w.writesSucceeded * 1000) / w.writeWindowMs;
      figures.push({ scenario: "2b rate-bound, 5 customers", measure: `writes/s over partner limit ${PARTNER_RATE}/s`, value: throughput / PARTNER_RATE, format: fixed(3), goal: { op: ">=", target: 0.85, text: ">= 0.85" }, note: `${throughput.toFixed(1)}/s` });
      figures.push({ scenario: "2b rate-bound, 5 customers", measure: "calls throttled / all calls", value: w.throttled / w.calls, format: percent(1), note: `${w.throttled} of ${w.calls}` });
    }
    if (args.only.has("raw")) {
      const profile = args.cpuProf ? { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${args.cpuProf}`] } : {};
      for (const skusPerUser of [2, 1] as const) {
        const shape = skusPerUser === 2 ? "2 SKUs per user" : "1 SKU per user";
        const label = `3 raw overhead, ${shape}`;
        if (!args.compareWith) {
          progress(`3. raw overhead: ${sizes.rawRows} rows, ${shape}, zero latency, no limits`);
          figures.push(...rawFigures(label, await rawOverhead(sizes, skusPerUser, workdir, profile)));
          continue;
        }
        // Side by side: the same roster and emulator settings (a fresh emulator each run), the two
        // builds taking turns (the order alternating every round), so load on the machine falls on both.
        const old = args.compareWith;
        const ours: RunnerScenario[] = [];
        const theirs: RunnerScenario[] = [];
        for (let round = 0; round < args.rounds; round++) {
          const order = round % 2 === 0 ? (["this", "old"] as const) : (["old", "this"] as const);
          for (const build of order) {
            progress(`3. raw overhead: ${sizes.rawRows} rows, ${shape}, round ${round + 1} of ${args.rounds}, ${build === "this" ? "this build" : `the build in ${old.dir} (${old.name})`}`);
            if (build === "this") ours.push(await rawOverhead(sizes, skusPerUser, workdir, { ...profile, tag: "this" }));
            else theirs.push(await rawOverhead(sizes, skusPerUser, workdir, { cli: old.cli, tag: "old" }));
          }
        }
        figures.push(...rawFigures(label, ...ours));
        const oursPerRow = cpuPerRowUs(ours);
        const theirsPerRow = cpuPerRowUs(theirs);
        const spread = (runs: RunnerScenario[]): string => runs.map((r) => `${((r.run.cpuMs * 1000) / r.rows).toFixed(0)}`).join(", ");
        figures.push({ scenario: label, measure: `runner CPU per row, ${old.name} (same run)`, value: theirsPerRow, format: (v) => `${v.toFixed(0)} µs`, note: `rounds: ${spread(theirs)} µs; this build: ${spread(ours)} µs` });
        figures.push({ scenario: label, measure: `runner CPU per row over ${old.name}'s`, value: oursPerRow / theirsPerRow, format: fixed(2), goal: { op: "<=", target: 0.5, text: "<= 0.50" } });
        figures.push({ scenario: label, measure: `rows/s, wall, ${old.name} (same run)`, value: (rows(theirs) * 1000) / sum(theirs, (r) => r.run.wallMs), format: integer });
      }
    }
    if (args.only.has("plan")) {
      const rows = 100 * sizes.planUsersPerCustomer * 2;
      progress(`4. plan: ${rows} rows (100 customers, ${100 * sizes.planUsersPerCustomer} users, two SKUs each)`);
      const plan = await bigPlan(sizes, workdir, sizes.planUsersPerCustomer);
      figures.push(...planFigures(plan, await planFloor(plan, workdir), args.quick ? { rssMb: 300 } : { seconds: 6, rssMb: 300 }));
      if (args.only.has("plan5")) {
        const users5 = sizes.planUsersPerCustomer * 5;
        progress(`4b. plan: ${100 * users5 * 2} rows (100 customers, ${100 * users5} users, two SKUs each)`);
        const plan5 = await bigPlan(sizes, workdir, users5);
        figures.push(...planFigures(plan5, await planFloor(plan5, workdir), { rssMb: 512 }));
        figures.push({ scenario: `4b plan, ${integer(plan5.rows)} rows`, measure: `wall over the ${integer(plan.rows)}-row plan's`, value: plan5.run.wallMs / plan.run.wallMs, format: (v) => `${v.toFixed(2)}x`, goal: { op: "<=", target: 5.5, text: "<= 5.5x" } });
      }
    }
    if (args.only.has("baseline") && latency && rate1) {
      progress(`5. baseline loop on (1): first ${sizes.baselineLatencyRows} rows`);
      const onLatency = await baselineOn(latencyShape(sizes), { latencyMs: LATENCY_MS }, sizes.baselineLatencyRows, sizes.baselineMaxMs);
      figures.push(...speedUp("5 baseline vs (1)", onLatency, latency.rows, latency.run.wallMs));
      progress(`5. baseline loop on (2a): first ${sizes.baselineRateRows} rows or ${sizes.baselineMaxMs / 1000} s`);
      const onRate = await baselineOn(rateShape(sizes), { latencyMs: LATENCY_MS, rateLimit: { perCustomer: { ratePerSecond: CUSTOMER_RATE } } }, sizes.baselineRateRows, sizes.baselineMaxMs);
      figures.push(...speedUp("5 baseline vs (2a)", onRate, rate1.rows, rate1.run.wallMs));
    }
    if (args.only.has("matrix")) {
      // 3,000 writes for one customer take 300 s a cell: opt-in (--long). The default cells take
      // about 15 minutes (300 writes for one customer are 30 s a run, the minute window 60 s).
      const defaults = args.long
        ? [1, 10].flatMap((customers) => [60, 300, 3_000].map((writes) => ({ customers, writes })))
        : args.quick
          ? [{ customers: 1, writes: 60 }]
          : [{ customers: 1, writes: 60 }, { customers: 1, writes: 300 }, { customers: 10, writes: 60 }, { customers: 10, writes: 300 }];
      const { cells, shapes } = selectMatrix(defaults, optionValue(process.argv, "--matrix-cells"), optionValue(process.argv, "--matrix-shapes"));
      // Cells at once: they wait at their limits, not on the CPU (default: the cores, at most 4).
      const parallel = Number(optionValue(process.argv, "--matrix-parallel") ?? Math.min(4, availableParallelism()));
      if (!Number.isInteger(parallel) || parallel < 1) throw new Error("--matrix-parallel needs a whole number of at least 1");
      progress(`6. pacing matrix: ${shapes.length} limiter shapes x ${cells.map((c) => `${c.customers}x${c.writes / c.customers}`).join(", ")} (customers x writes each), cold and warm start, ${parallel} cell(s) at once`);
      const matrixStarted = performance.now();
      matrix = await runMatrix({ cells, warm: !process.argv.includes("--cold-only"), shapes, parallel, keepRuns: args.keep, progress }, workdir);
      matrixSeconds = (performance.now() - matrixStarted) / 1000;
    }
  } finally {
    if (args.keep) progress(`kept: ${workdir}`);
    else await rm(workdir, { recursive: true, force: true });
  }

  const totalSeconds = (performance.now() - started) / 1000;
  process.stdout.write(`\nlicense-runner benchmark${args.quick ? " (--quick: smaller sizes)" : ""}: node ${process.version}, ${arch()}, ${availableParallelism()} CPUs, ${totalSeconds.toFixed(0)} s\n\n`);
  process.stdout.write(`${renderTable(figures)}\n`);
  if (matrix) process.stdout.write(`\n${renderMatrix(matrix)}\nThe matrix took ${matrixSeconds.toFixed(0)} s.\n`);
  const missed = figures.filter((f) => isMet(f) === false);
  process.stdout.write(missed.length === 0 ? "\nevery goal met\n" : `\n${missed.length} goal(s) not met\n`);
  return missed.length === 0 ? 0 : 1;
}

const sum = (runs: readonly RunnerScenario[], of: (run: RunnerScenario) => number): number => runs.reduce((total, run) => total + of(run), 0);
const rows = (runs: readonly RunnerScenario[]): number => sum(runs, (run) => run.rows);
/** CPU over rows of all the runs together, in µs. */
const cpuPerRowUs = (runs: readonly RunnerScenario[]): number => (sum(runs, (run) => run.run.cpuMs) * 1000) / rows(runs);

/** Scenario 3's figures over one or more runs of the same build and shape. */
function rawFigures(label: string, ...runs: RunnerScenario[]): Figure[] {
  const wallMs = sum(runs, (run) => run.run.wallMs);
  const requests = sum(runs, (run) => run.counters.requests.byEndpoint.licenseUpdates ?? 0);
  const each = runs.length > 1 ? `, ${runs.length} runs` : "";
  return [
    { scenario: label, measure: "rows/s, wall, emulator included", value: (rows(runs) * 1000) / wallMs, format: integer, goal: { op: ">=", target: 2000, text: ">= 2,000/s" }, note: `${integer(rows(runs) / runs.length)} rows, ${integer(requests / runs.length)} requests in ${(wallMs / runs.length / 1000).toFixed(1)} s${each}` },
    { scenario: label, measure: "runner CPU per row", value: cpuPerRowUs(runs), format: (v) => `${v.toFixed(0)} µs`, note: `${((sum(runs, (run) => run.run.systemCpuMs) * 1000) / rows(runs)).toFixed(0)} µs of it in the kernel` },
    { scenario: label, measure: "runner peak RSS", value: Math.max(...runs.map((run) => run.run.peakRssMb)), format: (v) => `${v.toFixed(0)} MB` },
  ];
}

/** The plan's roster and results file, read + split + written by the floor right after the plan. */
function planFloor(plan: RunnerScenario, workdir: string): Promise<Floor> {
  return measureFloor(join(workdir, `${plan.name}.csv`), join(workdir, `${plan.name}.results.csv`), join(workdir, "floor.scratch"));
}

function planFigures(plan: RunnerScenario, floor: Floor, goals: { seconds?: number; rssMb: number }): Figure[] {
  const label = `4${plan.rows > 1_000_000 ? "b" : ""} plan, ${integer(plan.rows)} rows`;
  const seconds = plan.run.wallMs / 1000;
  return [
    { scenario: label, measure: "seconds, wall", value: seconds, format: (v) => `${v.toFixed(1)} s`, ...(goals.seconds !== undefined ? { goal: { op: "<=" as const, target: goals.seconds, text: `<= ${goals.seconds} s` } } : {}) },
    { scenario: label, measure: "floor: read + split the roster, write as many bytes (same run)", value: floor.ms / 1000, format: (v) => `${v.toFixed(2)} s`, note: `${integer(floor.lines)} lines read, ${integer(floor.writtenBytes / 1e6)} MB written` },
    { scenario: label, measure: "wall over the floor", value: plan.run.wallMs / floor.ms, format: (v) => `${v.toFixed(1)}x`, goal: { op: "<=", target: 4, text: "<= 4x" } },
    { scenario: label, measure: "runner peak RSS", value: plan.run.peakRssMb, format: (v) => `${v.toFixed(0)} MB`, goal: { op: "<=", target: goals.rssMb, text: `<= ${goals.rssMb} MB` } },
    { scenario: label, measure: "runner CPU per row", value: (plan.run.cpuMs * 1000) / plan.rows, format: (v) => `${v.toFixed(1)} µs` },
  ];
}

/** The baseline measured on a prefix, extrapolated to the scenario's rows, against the runner's whole run. */
function speedUp(scenario: string, baseline: BaselineReport, rows: number, runnerWallMs: number): Figure[] {
  const perRowMs = baseline.elapsedMs / Math.max(1, baseline.rowsDone);
  const extrapolatedMs = perRowMs * rows;
  return [
    {
      scenario,
      measure: `baseline rows/s (${baseline.rowsDone} rows measured, ${baseline.throttled} of ${baseline.calls} calls throttled)`,
      value: (baseline.rowsDone * 1000) / baseline.elapsedMs,
      format: fixed(2),
      ...(baseline.rowsFailed > 0 ? { note: `${baseline.rowsFailed} failed` } : {}),
    },
    { scenario, measure: `baseline time for ${rows} rows, extrapolated`, value: extrapolatedMs / 1000, format: (v) => `${v.toFixed(0)} s` },
    { scenario, measure: "speed-up of the runner (its wall time incl. start-up)", value: extrapolatedMs / runnerWallMs, format: (v) => `${v.toFixed(1)}x` },
  ];
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
