// The benchmark's pacing matrix on the fake clock: every limiter shape of the benchmark, 60 and 300
// writes, 1 and 10 customers, --concurrency 8 (the default before in-flight sizing) and 50 ms calls, each run cold
// and then warm from the state the cold run left. Fast enough to run with the unit tests; it pins
// that no fewer cells meet the goal than when this was written.
import { describe, expect, it } from "vitest";
import { executeRequests } from "../../dist/execute/executor.js";
import { createPacer, type PacingState } from "../../dist/execute/pacer.js";
import type { RowOutcome } from "../../dist/model.js";
import { SHAPES, type LimiterShape } from "../bench/matrix.js";
import { FakeClock } from "../support/fake-clock.js";
import { customerId, request, resetLines, row, silentLogger, SKU_A, userId } from "../support/execute-fixtures.js";
import { createRateLimitedApi } from "../support/rate-limited-api.js";

export async function simulateCell(shape: LimiterShape, customers: number, writes: number, warm?: PacingState, concurrency = 8) {
  resetLines();
  const clock = new FakeClock(Date.parse("2026-01-01T00:00:00.250Z"));
  const api = createRateLimitedApi({ clock, latencyMs: 50, rateLimit: shape.rateLimit, ...(shape.throttling ? { throttling: shape.throttling } : {}) });
  const requests = [];
  const perCustomer = Math.round(writes / customers);
  for (let c = 0; c < customers; c++) for (let u = 0; u < perCustomer; u++) requests.push(request([row(customerId(c), userId(u), SKU_A)]));
  const outcomes: RowOutcome[] = [];
  let seed = 7;
  const random = (): number => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const started = clock.now();
  const pacer = createPacer({ clock, ...(warm ? { warm } : {}) });
  await clock.run(
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
  const ideal = (perCustomer * customers) / shape.idealRate(customers);
  const throttled = api.arrivals.filter((a) => a.status === 429).length;
  return { snapshot: pacer.snapshot!(), ratio: seconds / ideal, seconds, ideal, share: throttled / api.arrivals.length, assigned: outcomes.filter((o) => o.status === "assigned").length, rows: perCustomer * customers };
}

describe("pacing matrix (fake clock)", () => {
  it("from a warm start, meets the goal in at least as many cells as it did when this was written", async () => {
    const lines: string[] = [];
    let met = 0;
    for (const shape of SHAPES)
      for (const customers of [1, 10])
        for (const writes of [60, 300]) {
          const cold = await simulateCell(shape, customers, writes);
          const cell = await simulateCell(shape, customers, writes, cold.snapshot);
          expect(cold.assigned).toBe(cold.rows);
          expect(cell.assigned).toBe(cell.rows);
          if (process.env.PACING_MATRIX_COLD) Object.assign(cell, cold);
          const ok = writes >= 300 ? cell.ratio <= 1.15 && cell.share <= 0.05 : cell.seconds <= 1.3 * cell.ideal + 1 && cell.share <= 0.1;
          if (ok) met++;
          lines.push(`${shape.name.padEnd(50)} ${String(customers).padStart(2)} ${String(writes).padStart(4)}  ${cell.ratio.toFixed(2)}x  ${(cell.share * 100).toFixed(1)}%  ${ok ? "met" : "NOT"}`);
        }
    console.log(lines.join("\n"));
    // From a warm start 24 of these 32 cells meet the goal (from a cold one 18, as many as before
    // this pacer, though not the same cells; PACING_MATRIX_COLD=1 prints those).
    expect(met).toBeGreaterThanOrEqual(process.env.PACING_MATRIX_COLD ? 18 : 24);
  }, 120_000);
});
