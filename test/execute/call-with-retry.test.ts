import { describe, expect, it } from "vitest";
import { callWithRetry, type RetryDeps } from "../../dist/execute/call-with-retry.js";
import { createPacer } from "../../dist/execute/pacer.js";
import type { ApiResult, CallContext } from "../../dist/partner-center/api.js";
import { FakeClock } from "../support/fake-clock.js";
import { httpFailure, throttled } from "../support/execute-fixtures.js";

const CUSTOMER = "customer-a";
const ok: ApiResult<string> = { ok: true, body: "done", meta: { status: 201 } };

function setup(maxAttempts = 5) {
  const clock = new FakeClock();
  const tokenCalls: ({ forceRefresh?: boolean } | undefined)[] = [];
  const deps: RetryDeps = {
    pacer: createPacer({ clock }),
    clock,
    random: () => 0.5,
    maxAttempts,
    correlationId: "corr-1",
    tokens: {
      getToken: async (options) => {
        tokenCalls.push(options);
        return "token";
      },
    },
  };
  return { clock, deps, tokenCalls };
}

/** An attempt function answering from a script, recording each context and time. */
function scripted(answers: ApiResult<string>[], clock: FakeClock) {
  const calls: { ctx: CallContext; at: number }[] = [];
  const attempt = async (ctx: CallContext): Promise<ApiResult<string>> => {
    calls.push({ ctx, at: clock.now() });
    return answers[Math.min(calls.length - 1, answers.length - 1)]!;
  };
  return { attempt, calls };
}

describe("callWithRetry", () => {
  it("reuses one MS-RequestId for every retry and a new one for the next call", async () => {
    const { clock, deps } = setup();
    const first = scripted([httpFailure(503), { ok: false, kind: "network", error: { description: "reset", data: [], cause: "reset" } }, ok], clock);
    const outcome = await clock.run(callWithRetry(CUSTOMER, first.attempt, deps));
    expect(outcome.result.ok).toBe(true);
    expect(outcome.attempts).toBe(3);
    expect(new Set(first.calls.map((c) => c.ctx.requestId)).size).toBe(1);
    expect(first.calls[0]!.ctx.requestId).toBe(outcome.requestId);
    expect(first.calls[0]!.ctx.correlationId).toBe("corr-1");
    const second = scripted([ok], clock);
    const next = await clock.run(callWithRetry(CUSTOMER, second.attempt, deps));
    expect(next.requestId).not.toBe(outcome.requestId);
  });

  it("gives up after maxAttempts and returns the last failure", async () => {
    const { clock, deps } = setup(4);
    const { attempt, calls } = scripted([httpFailure(500), httpFailure(502), httpFailure(503), httpFailure(504), ok], clock);
    const outcome = await clock.run(callWithRetry(CUSTOMER, attempt, deps));
    expect(calls).toHaveLength(4);
    expect(outcome.attempts).toBe(4);
    expect(outcome.result.ok).toBe(false);
    if (!outcome.result.ok && outcome.result.kind === "http") expect(outcome.result.meta.status).toBe(504);
  });

  it("backs off with jitter between transient failures", async () => {
    const { clock, deps } = setup();
    deps.backoff = { baseMs: 1000, capMs: 60_000 };
    const { attempt, calls } = scripted([httpFailure(503), httpFailure(503), ok], clock);
    await clock.run(callWithRetry(CUSTOMER, attempt, deps));
    // random() = 0.5: half of 1000, then half of 2000.
    expect(calls[1]!.at - calls[0]!.at).toBe(500);
    expect(calls[2]!.at - calls[1]!.at).toBe(1000);
  });

  it("never retries a 429 before Retry-After, and backs off further while 429 repeats", async () => {
    const { clock, deps } = setup(6);
    const thrown: number[] = [];
    deps.onThrottled = () => thrown.push(clock.now());
    const { attempt, calls } = scripted([throttled(7), throttled(2), throttled(2), ok], clock);
    const outcome = await clock.run(callWithRetry(CUSTOMER, attempt, deps));
    expect(outcome.result.ok).toBe(true);
    expect(outcome.throttled).toBe(3);
    expect(thrown).toHaveLength(3);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(7_000);
    expect(calls[2]!.at - calls[1]!.at).toBeGreaterThan(2_000); // 2 s + backoff
    expect(calls[3]!.at - calls[2]!.at).toBeGreaterThan(2_000);
  });

  it("waits a floor after a 429 without Retry-After", async () => {
    const { clock, deps } = setup();
    deps.retryAfterFloorMs = 1_500;
    const { attempt, calls } = scripted([throttled(), ok], clock);
    await clock.run(callWithRetry(CUSTOMER, attempt, deps));
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(1_500);
  });

  it("renews the token once on a 401 without a code, then retries", async () => {
    const { clock, deps, tokenCalls } = setup();
    const { attempt, calls } = scripted([httpFailure(401), ok], clock);
    const outcome = await clock.run(callWithRetry(CUSTOMER, attempt, deps));
    expect(outcome.result.ok).toBe(true);
    expect(calls).toHaveLength(2);
    expect(tokenCalls).toEqual([{ forceRefresh: true }]);
    expect(outcome.tokenRenewed).toBe(true);
  });

  it("a second 401 is final", async () => {
    const { clock, deps, tokenCalls } = setup();
    const { attempt, calls } = scripted([httpFailure(401), httpFailure(401), ok], clock);
    const outcome = await clock.run(callWithRetry(CUSTOMER, attempt, deps));
    expect(calls).toHaveLength(2);
    expect(tokenCalls).toHaveLength(1);
    expect(outcome.result.ok).toBe(false);
    expect(outcome.tokenRenewed).toBe(true);
  });

  it("a refused renewal comes back as a credentials failure", async () => {
    const { clock, deps } = setup();
    deps.tokens = {
      getToken: async () => {
        throw Object.assign(new Error("the refresh token was refused"), { reason: "invalid_grant" });
      },
    };
    const { attempt } = scripted([httpFailure(401)], clock);
    const outcome = await clock.run(callWithRetry(CUSTOMER, attempt, deps));
    expect(outcome.result).toMatchObject({ ok: false, kind: "credentials", error: { code: "invalid_grant", description: "the refresh token was refused" } });
  });

  it("does not retry a business failure", async () => {
    const { clock, deps } = setup();
    const { attempt, calls } = scripted([httpFailure(400, "60012"), ok], clock);
    const outcome = await clock.run(callWithRetry(CUSTOMER, attempt, deps));
    expect(calls).toHaveLength(1);
    expect(outcome.result.ok).toBe(false);
  });

  it("stops waiting when the signal aborts and returns the last answer", async () => {
    const { clock, deps } = setup();
    const stop = new AbortController();
    deps.signal = stop.signal;
    const { attempt, calls } = scripted([throttled(60), ok], clock);
    const running = callWithRetry(CUSTOMER, attempt, deps);
    await clock.advance(5_000);
    stop.abort();
    const outcome = await clock.run(running);
    expect(calls).toHaveLength(1);
    expect(outcome.interrupted).toBe(true);
    expect(outcome.result.ok).toBe(false);
    expect(clock.now()).toBeLessThan(1_700_000_000_000 + 60_000);
  });

  it("checks Retry-After again after waiting: a timer that fires early does not send the retry early", async () => {
    const fake = new FakeClock();
    // Timers may fire a little early; this one always does, by 50 ms.
    const early = { now: () => fake.now(), sleep: (ms: number, signal?: AbortSignal) => fake.sleep(ms > 50 ? ms - 50 : ms, signal) };
    // A pacer that never holds a request back, so only the call's own Retry-After check stands.
    const openPacer = { delayMs: () => 0, acquire: async () => {}, onThrottled: () => {}, onSuccess: () => {}, state: () => ({ pausedUntil: 0 }) };
    const { deps } = setup();
    const { attempt, calls } = scripted([throttled(2), ok], fake);
    const outcome = await fake.run(callWithRetry(CUSTOMER, attempt, { ...deps, clock: early, pacer: openPacer }));
    expect(outcome.result.ok).toBe(true);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(2_000);
  });

  it("takes a slot only to send: the wait for Retry-After and for the customer's pause past it holds none", async () => {
    const { clock, deps } = setup();
    // The pacer holds the customer 20 s after the 429, though the Retry-After says 2 s.
    let pausedUntil = 0;
    const delayMs = (): number => Math.max(0, pausedUntil - clock.now());
    const pacer: RetryDeps["pacer"] = {
      delayMs,
      acquire: async (_customer, signal) => {
        while (delayMs() > 0 && !signal?.aborted) await clock.sleep(delayMs(), signal);
      },
      onThrottled: () => (pausedUntil = clock.now() + 20_000),
      onSuccess: () => {},
      state: () => ({ pausedUntil }),
    };
    const held: number[] = [];
    const slot = async <R>(run: () => Promise<R>): Promise<R> => {
      const from = clock.now();
      try {
        return await run();
      } finally {
        held.push(clock.now() - from);
      }
    };
    let requeued = 0;
    const calls: { ctx: CallContext; at: number }[] = [];
    const attempt = async (ctx: CallContext): Promise<ApiResult<string>> => {
      calls.push({ ctx, at: clock.now() });
      await clock.sleep(50);
      return calls.length === 1 ? throttled(2) : ok;
    };
    const outcome = await clock.run(callWithRetry(CUSTOMER, attempt, { ...deps, pacer, slot, onRequeue: () => requeued++ }));
    expect(outcome.result.ok).toBe(true);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.ctx.requestId).toBe(calls[0]!.ctx.requestId);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(20_000);
    // Each slot was held for its attempt's 50 ms only.
    expect(held).toEqual([50, 50]);
    expect(requeued).toBe(2); // before the first attempt, and once the Retry-After was over
  });
});
