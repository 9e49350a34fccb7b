// What the emulator's request log says of retries, asserted (kept apart from emulator.ts, which the
// benchmark imports outside vitest).
import { expect } from "vitest";
import type { LogEntry } from "./emulator.js";

/**
 * Asserts from the emulator's log that the limit was really hit and that every 429 was retried,
 * never before its answer's time plus the Retry-After it said.
 */
export function expectRetriesAfterRetryAfter(log: readonly LogEntry[]): void {
  const throttled = log.filter((e) => e.status === 429);
  expect(throttled.length, "the limit was really hit").toBeGreaterThan(0);
  for (const answer of throttled) {
    const next = log.find((e) => e.requestId === answer.requestId && e.arrivalMs > answer.arrivalMs);
    expect(next, `request ${answer.requestId} retried`).toBeDefined();
    expect(next!.arrivalMs).toBeGreaterThanOrEqual(answer.answerMs + answer.retryAfterSeconds! * 1000);
  }
}
