// The wait a 429 imposes, at the edges: what the service said (0, negative, a past date, garbage,
// huge) and what it did not say (no Retry-After), parsed from the header as the client reads it.
import { describe, expect, it } from "vitest";
import { MISSING_RETRY_AFTER_MAX_MS, RETRY_AFTER_CAP_MS, RETRY_AFTER_FLOOR_MS, throttleWait } from "../../dist/execute/retry-after.js";
import { readResponseMeta } from "../../dist/partner-center/response-meta.js";

const NOW = Date.parse("2026-12-01T12:00:00Z");
const metaOf = (retryAfter: string | null) => readResponseMeta({ status: 429, headers: { get: (name) => (name.toLowerCase() === "retry-after" ? retryAfter : null) } }, NOW);

describe("throttleWait", () => {
  it.each([
    ["0", RETRY_AFTER_FLOOR_MS],
    ["-5", RETRY_AFTER_FLOOR_MS],
    ["0.2", RETRY_AFTER_FLOOR_MS],
    [new Date(NOW - 3_600_000).toUTCString(), RETRY_AFTER_FLOOR_MS],
    ["soon", RETRY_AFTER_FLOOR_MS],
    ["", RETRY_AFTER_FLOOR_MS],
    ["57", 57_000],
    [new Date(NOW + 30_000).toUTCString(), 30_000],
  ])("Retry-After %j waits %d ms", (header, expected) => {
    const wait = throttleWait(metaOf(header));
    expect(wait).toEqual({ waitMs: expected, beyondCap: false, told: true });
  });

  it.each(["86400", "99999999999", "9".repeat(400), new Date(NOW + 7 * 86_400_000).toUTCString()])("Retry-After %j is beyond the cap: no timer that long, the customer is throttled for now", (header) => {
    const wait = throttleWait(metaOf(header));
    expect(wait.beyondCap).toBe(true);
    expect(wait.waitMs).toBe(RETRY_AFTER_CAP_MS);
    expect(wait.waitMs).toBeLessThan(2 ** 31 - 1);
  });

  it("without Retry-After backs off toward tens of seconds while 429 repeats", () => {
    const waits = [0, 1, 2, 3, 4, 5].map((repeated) => throttleWait(metaOf(null), repeated).waitMs);
    expect(waits).toEqual([5_000, 10_000, 20_000, 40_000, MISSING_RETRY_AFTER_MAX_MS, MISSING_RETRY_AFTER_MAX_MS]);
    // Six attempts span minutes, not the 13 s of a 1 s floor with short backoff.
    expect(waits.slice(0, 5).reduce((a, b) => a + b, 0)).toBeGreaterThan(120_000);
  });

  it("a floor asked for above 1 s is kept; one below it is not", () => {
    expect(throttleWait(metaOf("0"), 0, 2_500).waitMs).toBe(2_500);
    expect(throttleWait(metaOf("0"), 0, 10).waitMs).toBe(RETRY_AFTER_FLOOR_MS);
  });
});
