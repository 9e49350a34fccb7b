// The pacing matrix: limiter shapes x job sizes x 1 or 10 customers, each run from a cold start
// and (when the runner keeps a pacing state) again from the state the cold run left. Every cell
// is the API phase's time over the ideal time at the limit, and the share of calls throttled,
// against the goals: <= 1.15x and <= 5% from 300 writes up; <= 1.30x + 1 s and <= 10% at 60.
import { join } from "node:path";
import type { RateLimits, ThrottleBehaviour } from "../../dist/emulator/server.js";
import { LATENCY_MS, runRunnerScenario } from "./scenarios.js";

export interface LimiterShape {
  name: string;
  rateLimit: RateLimits;
  throttling?: ThrottleBehaviour;
  /** The least time the job's writes take at the limit, for `customers` customers. */
  idealSeconds(customers: number, writes: number): number;
  /** Only the cells where the limit binds (a long window's allowance may cover a small job whole). */
  binds?(customers: number, writes: number): boolean;
}

const PER_CUSTOMER = 10;
/** At a steady rate of 10 calls/s per customer (the long-run rate of every shape below but the long window). */
const perCustomer = (customers: number, writes: number): number => writes / (PER_CUSTOMER * customers);
/** The long window: at most this many calls of the partner in any minute. */
const MINUTE_WINDOW = { limit: 200, windowSeconds: 60 };

export const SHAPES: LimiterShape[] = [
  { name: "token bucket 10/s, burst 10", rateLimit: { perCustomer: { ratePerSecond: 10 } }, idealSeconds: perCustomer },
  { name: "token bucket 10/s, burst 5", rateLimit: { perCustomer: { ratePerSecond: 10, burst: 5 } }, idealSeconds: perCustomer },
  { name: "token bucket 10/s, burst 1", rateLimit: { perCustomer: { ratePerSecond: 10, burst: 1 } }, idealSeconds: perCustomer },
  { name: "fixed window 10 per 1 s", rateLimit: { perCustomer: { kind: "fixed-window", limit: 10, windowSeconds: 1 } }, idealSeconds: perCustomer },
  {
    name: "sliding window 100 per 10 s, refusals accrue",
    rateLimit: { perCustomer: { kind: "sliding-window", limit: 100, windowSeconds: 10 } },
    throttling: { accrueRefused: true },
    idealSeconds: perCustomer,
  },
  {
    name: "Retry-After pessimistic (5 s said, window 1 s)",
    rateLimit: { perCustomer: { kind: "fixed-window", limit: 10, windowSeconds: 1 } },
    throttling: { retryAfter: "pessimistic", retryAfterSeconds: 5 },
    idealSeconds: perCustomer,
  },
  {
    name: "Retry-After optimistic (1 s said, window 3 s)",
    rateLimit: { perCustomer: { kind: "fixed-window", limit: 30, windowSeconds: 3 } },
    throttling: { retryAfter: "optimistic", retryAfterSeconds: 1 },
    idealSeconds: perCustomer,
  },
  { name: "partner bucket 10/s, burst 10, shared", rateLimit: { perPartner: { ratePerSecond: 10 } }, idealSeconds: (_customers, writes) => writes / PER_CUSTOMER },
  {
    // Azure API Management's rate-limit policy (its default 429 text is the documented body): a
    // sliding window of a minute, Retry-After the seconds until the oldest call leaves it (tens of
    // seconds). 200 calls a minute for the partner: the first 200 writes pass at once, the rest
    // wait for the window to move, so a job of N writes takes at least floor((N - 1) / 200)
    // minutes. It binds from 300 writes; 60 writes pass whole within the window and are not run.
    name: "sliding window 200 per 60 s, partner (API Management)",
    rateLimit: { perPartner: { kind: "sliding-window", ...MINUTE_WINDOW } },
    idealSeconds: (_customers, writes) => Math.floor((writes - 1) / MINUTE_WINDOW.limit) * MINUTE_WINDOW.windowSeconds,
    binds: (_customers, writes) => writes > MINUTE_WINDOW.limit,
  },
];

export interface MatrixCell {
  shape: string;
  customers: number;
  writes: number;
  start: "cold" | "warm";
  idealSeconds: number;
  seconds: number;
  throttled: number;
  calls: number;
}

export function cellMeetsGoal(cell: MatrixCell): boolean {
  const share = cell.throttled / Math.max(1, cell.calls);
  if (cell.writes >= 300) return cell.seconds <= 1.15 * cell.idealSeconds && share <= 0.05;
  return cell.seconds <= 1.3 * cell.idealSeconds + 1 && share <= 0.1;
}

export interface MatrixOptions {
  /** The (customers, writes) cells, run for every shape. */
  cells: readonly { customers: number; writes: number }[];
  /** Also run each cell from the pacing state its cold run left. */
  warm: boolean;
  shapes: readonly LimiterShape[];
  progress(message: string): void;
}

export async function runMatrix(options: MatrixOptions, workdir: string): Promise<MatrixCell[]> {
  const cells: MatrixCell[] = [];
  let n = 0;
  for (const shape of options.shapes) {
    for (const { customers, writes } of options.cells) {
      if (shape.binds && !shape.binds(customers, writes)) continue;
      {
        const starts: ("cold" | "warm")[] = options.warm ? ["cold", "warm"] : ["cold"];
        const statePath = join(workdir, `pacing-${n++}.json`);
        for (const start of starts) {
          options.progress(`matrix: ${shape.name}, ${customers} customer(s), ${writes} writes, ${start}`);
          const run = await runRunnerScenario(
            {
              name: `matrix-${n}-${start}`,
              shape: { customers, usersPerCustomer: Math.round(writes / customers), skusPerUser: 1 },
              withUsers: true,
              emulator: { latencyMs: LATENCY_MS, rateLimit: shape.rateLimit, ...(shape.throttling ? { throttling: shape.throttling } : {}) },
              command: "run",
              window: true,
              ...(options.warm ? { extraArgs: ["--pacing-state", statePath] } : {}),
            },
            workdir,
          );
          const w = run.window!;
          cells.push({ shape: shape.name, customers, writes, start, idealSeconds: shape.idealSeconds(customers, writes), seconds: w.apiWindowMs / 1000, throttled: w.throttled, calls: w.calls });
        }
      }
    }
  }
  return cells;
}

export function renderMatrix(cells: readonly MatrixCell[]): string {
  const lines = ["| limiter (50 ms calls, default concurrency) | customers | writes | start | time / ideal | throttled | goal met |", "|---|---:|---:|---|---:|---:|---|"];
  for (const cell of cells) {
    const ratio = cell.seconds / cell.idealSeconds;
    const share = cell.throttled / Math.max(1, cell.calls);
    lines.push(
      `| ${cell.shape} | ${cell.customers} | ${cell.writes.toLocaleString("en-US")} | ${cell.start} | ${ratio.toFixed(2)}x (${cell.seconds.toFixed(1)} s / ${cell.idealSeconds.toFixed(1)} s) | ${(share * 100).toFixed(1)}% (${cell.throttled} of ${cell.calls}) | ${cellMeetsGoal(cell) ? "met" : "NOT met"} |`,
    );
  }
  const met = cells.filter(cellMeetsGoal).length;
  lines.push("", `${met} of ${cells.length} cells meet the goal (<= 1.15x and <= 5% throttled from 300 writes; <= 1.30x + 1 s and <= 10% at 60).`);
  return lines.join("\n");
}
