// The benchmark's pacing matrix on the fake clock: every limiter shape of the benchmark
// (test/bench/matrix.ts), 60 and 300 writes, 1 and 10 customers, at --concurrency 8 and at the
// default of 32, 50 ms calls, each cell run cold and then warm from the pacing state the cold run
// left. Every cell that meets the goal (<= 1.15x the ideal time and <= 5% throttled from 300
// writes; <= 1.30x + 1 s and <= 10% at 60) must keep meeting it. The cells that do not are listed
// below with what they measured when this was written: each must stay within 10% (+0.05x) of
// its time and 2 points of its throttled share, so a miss documented here still fails when it
// gets worse (and a cell that starts meeting the goal passes; move it out of the list then).
// Then fifty customers on the partner's minute window, where customers' shares of one window
// once passed for windows of their own.
import { describe, expect, it } from "vitest";
import { SHAPES } from "../bench/matrix.js";
import { meetsGoal, simulateCell, type CellResult } from "../support/pacing-cell.js";

const CELLS = [
  { customers: 1, writes: 60 },
  { customers: 1, writes: 300 },
  { customers: 10, writes: 60 },
  { customers: 10, writes: 300 },
] as const;

/** Cells that miss the goal: "concurrency shape customersxwrites start", time over ideal, share throttled. */
const MISSES = new Map<string, readonly [number, number]>(
  (
    [
      ["8 token bucket 10/s, burst 10 1x60 cold", 0.86, 0.114],
      ["8 token bucket 10/s, burst 10 10x300 cold", 0.88, 0.064],
      ["8 token bucket 10/s, burst 5 10x300 cold", 1.29, 0.086],
      ["8 token bucket 10/s, burst 1 1x60 cold", 1.52, 0.046],
      ["8 token bucket 10/s, burst 1 1x300 cold", 1.16, 0.016],
      ["8 token bucket 10/s, burst 1 10x60 cold", 6.29, 0.200],
      ["8 token bucket 10/s, burst 1 10x300 cold", 2.20, 0.059],
      ["8 token bucket 10/s, burst 1 10x300 warm", 1.30, 0.000],
      ["8 fixed window 10 per 1 s 1x60 cold", 1.15, 0.151],
      ["8 fixed window 10 per 1 s 10x300 cold", 1.38, 0.121],
      ["8 Retry-After pessimistic (5 s said, window 1 s) 1x60 cold", 1.79, 0.151],
      ["8 Retry-After pessimistic (5 s said, window 1 s) 1x300 cold", 1.21, 0.038],
      ["8 Retry-After pessimistic (5 s said, window 1 s) 10x300 cold", 2.85, 0.101],
      ["8 Retry-After pessimistic (5 s said, window 1 s) 10x300 warm", 1.80, 0.000],
      ["8 Retry-After optimistic (1 s said, window 3 s) 1x60 cold", 1.13, 0.139],
      ["8 Retry-After optimistic (1 s said, window 3 s) 1x300 cold", 0.97, 0.082],
      ["8 Retry-After optimistic (1 s said, window 3 s) 10x300 cold", 0.97, 0.059],
      ["8 partner bucket 10/s, burst 10, shared 1x60 cold", 0.86, 0.114],
      ["8 partner bucket 10/s, burst 10, shared 10x60 cold", 1.24, 0.355],
      ["8 partner bucket 10/s, burst 10, shared 10x300 cold", 1.21, 0.179],
      ["8 sliding window 200 per 60 s, partner (API Management) 1x300 cold", 1.02, 0.053],
      ["8 sliding window 200 per 60 s, partner (API Management) 10x300 cold", 1.02, 0.111],
      ["32 token bucket 10/s, burst 10 1x60 cold", 0.86, 0.114],
      ["32 token bucket 10/s, burst 10 10x300 cold", 0.90, 0.078],
      ["32 token bucket 10/s, burst 10 10x300 warm", 1.18, 0.000],
      ["32 token bucket 10/s, burst 5 10x60 cold", 1.75, 0.111],
      ["32 token bucket 10/s, burst 5 10x300 cold", 0.99, 0.096],
      ["32 token bucket 10/s, burst 1 1x60 cold", 1.52, 0.046],
      ["32 token bucket 10/s, burst 1 1x300 cold", 1.16, 0.016],
      ["32 token bucket 10/s, burst 1 10x60 cold", 6.29, 0.200],
      ["32 token bucket 10/s, burst 1 10x300 cold", 2.20, 0.059],
      ["32 token bucket 10/s, burst 1 10x300 warm", 1.30, 0.000],
      ["32 fixed window 10 per 1 s 1x60 cold", 1.15, 0.235],
      ["32 fixed window 10 per 1 s 1x300 cold", 1.04, 0.068],
      ["32 fixed window 10 per 1 s 10x300 cold", 1.36, 0.126],
      ["32 fixed window 10 per 1 s 10x300 warm", 1.39, 0.000],
      ["32 sliding window 100 per 10 s, refusals accrue 1x300 cold", 1.04, 0.107],
      ["32 Retry-After pessimistic (5 s said, window 1 s) 1x60 cold", 1.47, 0.225],
      ["32 Retry-After pessimistic (5 s said, window 1 s) 1x300 cold", 1.04, 0.068],
      ["32 Retry-After pessimistic (5 s said, window 1 s) 10x300 cold", 2.24, 0.116],
      ["32 Retry-After pessimistic (5 s said, window 1 s) 10x300 warm", 2.68, 0.030],
      ["32 Retry-After optimistic (1 s said, window 3 s) 1x60 cold", 1.12, 0.139],
      ["32 Retry-After optimistic (1 s said, window 3 s) 1x300 cold", 1.01, 0.074],
      ["32 Retry-After optimistic (1 s said, window 3 s) 10x300 cold", 1.48, 0.123],
      ["32 Retry-After optimistic (1 s said, window 3 s) 10x300 warm", 1.31, 0.080],
      ["32 partner bucket 10/s, burst 10, shared 1x60 cold", 0.86, 0.114],
      ["32 partner bucket 10/s, burst 10, shared 10x60 cold", 1.24, 0.355],
      ["32 partner bucket 10/s, burst 10, shared 10x300 cold", 1.21, 0.179],
      ["32 sliding window 200 per 60 s, partner (API Management) 1x300 cold", 1.02, 0.109],
      ["32 sliding window 200 per 60 s, partner (API Management) 10x300 cold", 1.03, 0.153],
    ] as const
  ).map(([key, ratio, share]) => [key, [ratio, share]] as const),
);

/** No retry of a request was sent before the Retry-After its 429 said. */
function retriesHonourRetryAfter(cell: CellResult): boolean {
  const last = new Map<string, { at: number; retryAfterSeconds?: number }>();
  for (const arrival of cell.arrivals) {
    const previous = last.get(arrival.requestId);
    if (previous && arrival.at - previous.at < (previous.retryAfterSeconds ?? 0) * 1000) return false;
    last.set(arrival.requestId, arrival);
  }
  return true;
}

for (const concurrency of [8, 32]) {
  describe(`pacing matrix at --concurrency ${concurrency} (fake clock)`, () => {
    for (const shape of SHAPES) {
      it(shape.name, async () => {
        const lines: string[] = [];
        for (const { customers, writes } of CELLS) {
          if (shape.binds && !shape.binds(customers, writes)) continue;
          const cold = await simulateCell(shape, customers, writes, undefined, concurrency);
          const warm = await simulateCell(shape, customers, writes, cold.snapshot, concurrency);
          for (const [start, cell] of [["cold", cold], ["warm", warm]] as const) {
            const key = `${concurrency} ${shape.name} ${customers}x${writes} ${start}`;
            const met = meetsGoal(cell, writes);
            const measured = `${cell.ratio.toFixed(2)}x, ${(cell.share * 100).toFixed(1)}% throttled`;
            lines.push(`${key}: ${measured}, ${met ? "met" : "NOT met"}`);
            expect(cell.assigned, key).toBe(cell.rows);
            expect(retriesHonourRetryAfter(cell), key).toBe(true);
            const miss = MISSES.get(key);
            if (!miss) {
              expect(met, `${key} meets the goal (${measured})`).toBe(true);
              continue;
            }
            expect(cell.ratio, `${key}: time over ideal no worse than when listed`).toBeLessThanOrEqual(miss[0] * 1.1 + 0.05);
            expect(cell.share, `${key}: throttled share no worse than when listed`).toBeLessThanOrEqual(miss[1] + 0.02);
          }
        }
        console.log(lines.join("\n"));
      });
    }
  });
}

describe("many customers on the partner's minute window (fake clock)", () => {
  it("fifty customers x 20 writes, cold: the window each customer learns from the lockout is the partner's, not its share of it", async () => {
    const shape = SHAPES.find((s) => s.name.includes("API Management"))!;
    const cell = await simulateCell(shape, 50, 1_000, undefined, 32);
    expect(cell.assigned).toBe(cell.rows);
    expect(retriesHonourRetryAfter(cell)).toBe(true);
    // Each kept what it had of the 200 calls when the window filled (one or two for some): the run
    // took 8.06x, those customers sending a call a window once the others were done.
    expect(cell.ratio).toBeLessThanOrEqual(1.1);
    // The lockout refuses what is in flight when the window fills, and each customer's probes after it.
    expect(cell.share).toBeLessThanOrEqual(0.12);
    expect(cell.snapshot.windows?.partner).toMatchObject({ limit: 200 });
    expect(cell.snapshot.windows?.customers).toBeUndefined();
  });
});
