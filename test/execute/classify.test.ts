import { describe, expect, it } from "vitest";
import { classifyFailure } from "../../dist/execute/classify.js";
import { backoffDelayMs } from "../../dist/execute/backoff.js";
import { throttleWaitMs } from "../../dist/execute/retry-after.js";
import type { ApiResult } from "../../dist/partner-center/api.js";
import { httpFailure } from "../support/execute-fixtures.js";

type Failure = Exclude<ApiResult<unknown>, { ok: true }>;

describe("classifyFailure", () => {
  const table: [string, Failure, ReturnType<typeof classifyFailure>][] = [
    ["429", httpFailure(429) as Failure, { action: "retry", reason: "throttled" }],
    ["408", httpFailure(408) as Failure, { action: "retry", reason: "transient" }],
    ["500", httpFailure(500) as Failure, { action: "retry", reason: "transient" }],
    ["502", httpFailure(502) as Failure, { action: "retry", reason: "transient" }],
    ["503", httpFailure(503) as Failure, { action: "retry", reason: "transient" }],
    ["504", httpFailure(504) as Failure, { action: "retry", reason: "transient" }],
    ["network reset", { ok: false, kind: "network", error: { description: "reset", data: [], cause: "reset" } }, { action: "retry", reason: "network" }],
    ["401 no code", httpFailure(401) as Failure, { action: "renew-token" }],
    ["401 900421", httpFailure(401, "900421") as Failure, { action: "fail", scope: "run" }],
    ["400 900316", httpFailure(400, "900316") as Failure, { action: "fail", scope: "run" }],
    ["403 900309", httpFailure(403, "900309") as Failure, { action: "fail", scope: "run" }],
    ["credentials", { ok: false, kind: "credentials", error: { description: "refused", data: [] } }, { action: "fail", scope: "run" }],
    ["403 900150", httpFailure(403, "900150") as Failure, { action: "fail", scope: "customer" }],
    ["403 20002", httpFailure(403, "20002") as Failure, { action: "fail", scope: "customer" }],
    ["404 60003", httpFailure(404, "60003") as Failure, { action: "fail", scope: "customer" }],
    ["404 60002", httpFailure(404, "60002") as Failure, { action: "fail", scope: "row" }],
    ["400 60012", httpFailure(400, "60012") as Failure, { action: "fail", scope: "row" }],
    ["400 800002", httpFailure(400, "800002") as Failure, { action: "fail", scope: "row" }],
    ["403 no code", httpFailure(403) as Failure, { action: "fail", scope: "row" }],
  ];
  it.each(table)("%s", (_name, failure, expected) => {
    expect(classifyFailure(failure)).toEqual(expected);
  });

  it("a 429 with Retry-After is retried as throttled (the wait is the Retry-After's, not the classification's)", () => {
    expect(classifyFailure(httpFailure(429, undefined, "x", [], { retryAfterSeconds: 3 }) as Failure)).toEqual({ action: "retry", reason: "throttled" });
  });

  it("a 401 after a token renewal is run-fatal", () => {
    expect(classifyFailure(httpFailure(401) as Failure, { tokenRenewed: true })).toEqual({ action: "fail", scope: "run" });
  });
});

describe("backoffDelayMs", () => {
  it("stays within [0, min(cap, base * 2^n)]", () => {
    const options = { baseMs: 100, capMs: 1000 };
    expect(backoffDelayMs(0, () => 0.999999, options)).toBe(99);
    expect(backoffDelayMs(2, () => 0.999999, options)).toBe(399);
    expect(backoffDelayMs(10, () => 0.999999, options)).toBe(999);
    expect(backoffDelayMs(10, () => 0, options)).toBe(0);
    for (let n = 0; n < 20; n++) {
      const d = backoffDelayMs(n, Math.random, options);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(Math.min(1000, 100 * 2 ** n));
    }
  });
});

describe("throttleWaitMs", () => {
  it("is Retry-After in ms, never under 1 s, and the first missing-Retry-After wait when absent", () => {
    expect(throttleWaitMs({ status: 429, retryAfterSeconds: 57 })).toBe(57_000);
    expect(throttleWaitMs({ status: 429, retryAfterSeconds: 0.5 })).toBe(1_000);
    expect(throttleWaitMs({ status: 429 }, 1500)).toBe(5_000);
    expect(throttleWaitMs(undefined)).toBe(5_000);
  });
});
