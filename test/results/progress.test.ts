import { describe, expect, it } from "vitest";
import { createProgress } from "../../dist/results/progress.js";

function fakeClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

function fakeStream() {
  const writes: string[] = [];
  return { writes, stream: { columns: 200, write: (text: string) => void writes.push(text) } };
}

function fakeLogger() {
  const lines: { fields: Record<string, unknown>; message: string }[] = [];
  return { lines, logger: { info: (fields: Record<string, unknown>, message: string) => void lines.push({ fields, message }) } as never };
}

describe("progress", () => {
  it("on a terminal redraws one line in place, at most every 100 ms, and clears it at stop", () => {
    const clock = fakeClock();
    const { writes, stream } = fakeStream();
    const { lines, logger } = fakeLogger();
    const progress = createProgress({ total: 100, stream, isTTY: true, logger, enabled: true, clock, heartbeat: false });
    progress.update({ done: 1, assigned: 1, failed: 0, throttled: 0 });
    clock.advance(50);
    progress.update({ done: 2, assigned: 2, failed: 0, throttled: 0 }); // too soon: not drawn
    clock.advance(950);
    progress.update({ done: 20, assigned: 18, failed: 2, throttled: 3 });
    progress.stop();
    progress.update({ done: 30, assigned: 28, failed: 2, throttled: 3 }); // after stop: nothing
    expect(writes).toHaveLength(3);
    expect(writes[0]).toMatch(/^\r\x1b\[2K1\/100 rows \(1%\) \| 1 assigned \| 0 failed \| 0 throttled \| -- rows\/s \| ETA --$/);
    // 20 rows in the 1 s since start: 20 rows/s, 80 left: 4 s.
    expect(writes[1]).toBe("\r\x1b[2K20/100 rows (20%) | 18 assigned | 2 failed | 3 throttled | 20.0 rows/s | ETA 4s");
    expect(writes[2]).toBe("\r\x1b[2K");
    expect(writes.join("")).not.toContain("\n");
    expect(lines).toHaveLength(0);
  });

  it("off a terminal logs a pino info line every few seconds instead", () => {
    const clock = fakeClock();
    const { writes, stream } = fakeStream();
    const { lines, logger } = fakeLogger();
    const progress = createProgress({ total: 1000, stream, isTTY: false, logger, enabled: true, clock, heartbeat: false });
    progress.update({ done: 10, assigned: 10, failed: 0, throttled: 0 });
    clock.advance(4_999);
    progress.update({ done: 50, assigned: 49, failed: 1, throttled: 0 });
    clock.advance(1);
    progress.update({ done: 100, assigned: 98, failed: 2, throttled: 5 });
    clock.advance(1_000);
    progress.update({ done: 120, assigned: 118, failed: 2, throttled: 5 });
    progress.stop();
    expect(writes).toHaveLength(0);
    expect(lines).toEqual([
      {
        message: "progress",
        fields: { done: 100, total: 1000, assigned: 98, removed: 0, failed: 2, invalid: 0, throttled: 5, rowsPerSecond: 20, etaSeconds: 45 },
      },
    ]);
  });

  it("--no-progress shows nothing either way", () => {
    const clock = fakeClock();
    const { writes, stream } = fakeStream();
    const { lines, logger } = fakeLogger();
    for (const isTTY of [true, false]) {
      const progress = createProgress({ total: 10, stream, isTTY, logger, enabled: false, clock });
      progress.update({ done: 10, assigned: 10, failed: 0, throttled: 0 });
      clock.advance(60_000);
      progress.update({ done: 10, assigned: 10, failed: 0, throttled: 0 });
      progress.stop();
    }
    expect(writes).toHaveLength(0);
    expect(lines).toHaveLength(0);
  });
});
