// One cell of the pacing matrix on the fake clock: a job of `writes` license writes spread over
// `customers` customers, run through the executor and the pacer against the emulator's own
// limiters (50 ms a call), from a cold start or from an earlier run's pacing state.
import { executeRequests } from "../../dist/execute/executor.js";
import { createPacer, type PacingState } from "../../dist/execute/pacer.js";
import type { RowOutcome } from "../../dist/model.js";
import type { LimiterShape } from "../bench/matrix.js";
import { FakeClock } from "./fake-clock.js";
import { customerId, request, resetLines, row, silentLogger, SKU_A, userId } from "./execute-fixtures.js";
import { createRateLimitedApi, type Arrival } from "./rate-limited-api.js";

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

export async function simulateCell(shape: LimiterShape, customers: number, writes: number, warm?: PacingState, concurrency = 32): Promise<CellResult> {
  resetLines();
  const clock = new FakeClock(Date.parse("2026-01-01T00:00:00.250Z"));
  const api = createRateLimitedApi({ clock, latencyMs: 50, rateLimit: shape.rateLimit, ...(shape.throttling ? { throttling: shape.throttling } : {}) });
  const requests = [];
  const perCustomer = Math.round(writes / customers);
  for (let c = 0; c < customers; c++) for (let u = 0; u < perCustomer; u++) requests.push(request([row(customerId(c), userId(u), SKU_A)]));
  const outcomes: RowOutcome[] = [];
  let seed = 7;
  const random = (): number => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const started = clock.now();
  const pacer = createPacer({ clock, ...(warm ? { warm } : {}) });
  const report = await clock.run(
    executeRequests(requests, {
      api,
      retry: { pacer, clock, random, maxAttempts: 10, correlationId: "corr", tokens: { getToken: async () => "t" } },
      concurrency,
      stop: new AbortController().signal,
      onOutcome: (o) => outcomes.push(o),
      logger: silentLogger,
      clock,
    }),
  );
  const seconds = (clock.now() - started) / 1000;
  const idealSeconds = shape.idealSeconds(customers, perCustomer * customers);
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
