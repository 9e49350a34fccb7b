// One cell of the pacing matrix on the fake clock: a job of `writes` license writes spread over
// `customers` customers, run through the executor and the pacer against the emulator's own
// limiters (50 ms a call), from a cold start or from an earlier run's pacing state.
import { callWithRetry } from "../../dist/execute/call-with-retry.js";
import { executeRequests } from "../../dist/execute/executor.js";
import { createPacer, type PacingState } from "../../dist/execute/pacer.js";
import type { RowOutcome } from "../../dist/model.js";
import type { LimiterShape } from "../bench/matrix.js";
import { FakeClock } from "./fake-clock.js";
import { customerId, request, resetLines, row, silentLogger, SKU_A, userId } from "./execute-fixtures.js";
import { createRateLimitedApi, LOOKUPS_PER_CUSTOMER, plannedAfterLookups, type Arrival } from "./rate-limited-api.js";

export interface CellResult {
  /** What the run learned, for a warm start. */
  snapshot: PacingState;
  seconds: number;
  idealSeconds: number;
  /** Time over the ideal time at the limit. */
  ratio: number;
  /** Calls throttled over all calls. */
  share: number;
  throttled: number;
  calls: number;
  assigned: number;
  rows: number;
  arrivals: Arrival[];
  /** Most write attempts on the wire at once. */
  mostInFlight: number;
}

/** The matrix's goals: <= 1.15x and <= 5% throttled from 300 writes; <= 1.30x + 1 s and <= 10% below. */
export function meetsGoal(cell: Pick<CellResult, "seconds" | "idealSeconds" | "share">, writes: number): boolean {
  if (writes >= 300) return cell.seconds <= 1.15 * cell.idealSeconds && cell.share <= 0.05;
  return cell.seconds <= 1.3 * cell.idealSeconds + 1 && cell.share <= 0.1;
}

/**
 * The cell at each start phase of the shape (a fixed window's estimate depends on where in its
 * window a run starts, and a real run starts anywhere), reported at its worst: the phase farthest
 * from the goal.
 */
export async function simulateCell(shape: LimiterShape, customers: number, writes: number, warm?: PacingState, concurrency = 32): Promise<CellResult> {
  let worst: CellResult | undefined;
  for (const phaseMs of shape.startPhasesMs ?? [250]) {
    const cell = await simulateAt(phaseMs, shape, customers, writes, warm, concurrency);
    if (!worst || overGoal(cell, writes) > overGoal(worst, writes)) worst = cell;
  }
  return worst!;
}

/** How far past the goal a cell is (above 1: missed), by its worse measure. */
const overGoal = (cell: CellResult, writes: number): number =>
  writes >= 300 ? Math.max(cell.ratio / 1.15, cell.share / 0.05) : Math.max(cell.seconds / (1.3 * cell.idealSeconds + 1), cell.share / 0.1);

async function simulateAt(phaseMs: number, shape: LimiterShape, customers: number, writes: number, warm: PacingState | undefined, concurrency: number): Promise<CellResult> {
  resetLines();
  const clock = new FakeClock(Date.parse("2026-01-01T00:00:00.000Z") + phaseMs);
  const api = createRateLimitedApi({ clock, latencyMs: 50, rateLimit: shape.rateLimit, ...(shape.throttling ? { throttling: shape.throttling } : {}) });
  const perCustomer = Math.round(writes / customers);
  const ids = Array.from({ length: customers }, (_, c) => customerId(c));
  const requestsOf = (id: string) => Array.from({ length: perCustomer }, (_, u) => request([row(id, userId(u), SKU_A)]));
  const outcomes: RowOutcome[] = [];
  let seed = 7;
  const random = (): number => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const started = clock.now();
  const pacer = createPacer({ clock, ...(warm ? { warm } : {}) });
  const retry = { pacer, clock, random, maxAttempts: 10, correlationId: "corr", tokens: { getToken: async () => "t" } };
  // Each customer's writes after its lookups, as a run's plan stage hands them over.
  const requests = plannedAfterLookups(ids, requestsOf, (id) => callWithRetry(id, (ctx) => api.lookup(id, ctx), retry));
  const report = await clock.run(
    executeRequests(requests, {
      api,
      retry,
      concurrency,
      stop: new AbortController().signal,
      onOutcome: (o) => outcomes.push(o),
      logger: silentLogger,
      clock,
    }),
  );
  const seconds = (clock.now() - started) / 1000;
  const idealSeconds = shape.idealSeconds(customers, (perCustomer + LOOKUPS_PER_CUSTOMER) * customers);
  const throttled = api.arrivals.filter((a) => a.status === 429).length;
  return {
    snapshot: pacer.snapshot!(),
    seconds,
    idealSeconds,
    ratio: seconds / idealSeconds,
    share: throttled / api.arrivals.length,
    throttled,
    calls: api.arrivals.length,
    assigned: outcomes.filter((o) => o.status === "assigned").length,
    rows: perCustomer * customers,
    arrivals: api.arrivals,
    mostInFlight: report.pacing.mostInFlight,
  };
}
