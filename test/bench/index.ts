// `npm run bench [-- --quick] [-- --only latency,rate1,rate5,raw,plan,plan5,baseline,matrix] [-- --long]`:
// the benchmark (--long adds the 3,000-write cells of the pacing matrix, about 45 minutes more).
// Starts the emulator in this process for each scenario, runs the built CLI as a child
// process (its CPU and peak RSS measured apart from the emulator's), and prints every figure with
// its goal. Not part of `npm test`.
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, arch, tmpdir } from "node:os";
import { join } from "node:path";
import type { BaselineReport } from "./baseline.js";
import { measureFloor, type Floor } from "./floor.js";
import { renderMatrix, runMatrix, SHAPES, type MatrixCell } from "./matrix.js";
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

function parseArgs(argv: readonly string[]): { quick: boolean; long: boolean; only: Set<ScenarioName>; keep: boolean } {
  const quick = argv.includes("--quick");
  const long = argv.includes("--long");
  const keep = argv.includes("--keep");
  const onlyAt = argv.indexOf("--only");
  const listed = onlyAt >= 0 ? (argv[onlyAt + 1] ?? "").split(",").filter(Boolean) : SCENARIOS.filter((name) => name !== "plan5");
  const unknown = listed.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`unknown scenario(s) ${unknown.join(", ")}; known: ${SCENARIOS.join(", ")}`);
  return { quick, long, keep, only: new Set(listed as ScenarioName[]) };
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
      for (const skusPerUser of [2, 1] as const) {
        const shape = skusPerUser === 2 ? "2 SKUs per user" : "1 SKU per user";
        progress(`3. raw overhead: ${sizes.rawRows} rows, ${shape}, zero latency, no limits`);
        const raw = await rawOverhead(sizes, skusPerUser, workdir);
        const label = `3 raw overhead, ${shape}`;
        const requests = raw.counters.requests.byEndpoint.licenseUpdates ?? 0;
        figures.push({ scenario: label, measure: "rows/s, wall, emulator included", value: (raw.rows * 1000) / raw.run.wallMs, format: integer, goal: { op: ">=", target: 2000, text: ">= 2,000/s" }, note: `${integer(raw.rows)} rows, ${integer(requests)} requests in ${(raw.run.wallMs / 1000).toFixed(1)} s` });
        figures.push({ scenario: label, measure: "runner CPU per row", value: (raw.run.cpuMs * 1000) / raw.rows, format: (v) => `${v.toFixed(0)} µs` });
        figures.push({ scenario: label, measure: "runner peak RSS", value: raw.run.peakRssMb, format: (v) => `${v.toFixed(0)} MB` });
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
      const cells = args.long
        ? [1, 10].flatMap((customers) => [60, 300, 3_000].map((writes) => ({ customers, writes })))
        : args.quick
          ? [{ customers: 1, writes: 60 }]
          : [{ customers: 1, writes: 60 }, { customers: 1, writes: 300 }, { customers: 10, writes: 60 }, { customers: 10, writes: 300 }];
      progress(`6. pacing matrix: ${SHAPES.length} limiter shapes x ${cells.map((c) => `${c.customers}x${c.writes / c.customers}`).join(", ")} (customers x writes each), cold and warm start`);
      matrix = await runMatrix({ cells, warm: !process.argv.includes("--cold-only"), shapes: SHAPES, progress }, workdir);
    }
  } finally {
    if (!args.keep) await rm(workdir, { recursive: true, force: true });
  }

  const totalSeconds = (performance.now() - started) / 1000;
  process.stdout.write(`\nlicense-runner benchmark${args.quick ? " (--quick: smaller sizes)" : ""}: node ${process.version}, ${arch()}, ${availableParallelism()} CPUs, ${totalSeconds.toFixed(0)} s\n\n`);
  process.stdout.write(`${renderTable(figures)}\n`);
  if (matrix) process.stdout.write(`\n${renderMatrix(matrix)}\n`);
  const missed = figures.filter((f) => isMet(f) === false);
  process.stdout.write(missed.length === 0 ? "\nevery goal met\n" : `\n${missed.length} goal(s) not met\n`);
  return missed.length === 0 ? 0 : 1;
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
