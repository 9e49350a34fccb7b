import { describe, expect, it } from "vitest";
import { executeRequests, type ExecuteDeps } from "../../dist/execute/executor.js";
import { createPacer, type Pacer } from "../../dist/execute/pacer.js";
import type { ApiResult, CallContext, PartnerCenterApi } from "../../dist/partner-center/api.js";
import type { LicenseUpdate } from "../../dist/partner-center/types.js";
import type { LicenseUpdateRequest, RowOutcome } from "../../dist/model.js";
import { FakeClock } from "../support/fake-clock.js";
import { created, customerId, httpFailure, outOfSeats, request, resetLines, row, silentLogger, SKU_A, SKU_B, SKU_C, throttled, userId } from "../support/execute-fixtures.js";

interface Call {
  customerId: string;
  userId: string;
  update: LicenseUpdate;
  ctx: CallContext;
  at: number;
}

type Answer = (call: Call, index: number) => ApiResult<LicenseUpdate> | Promise<ApiResult<LicenseUpdate>>;

function fakeApi(clock: FakeClock, answer: Answer, latencyMs = 10): PartnerCenterApi & { calls: Call[] } {
  const calls: Call[] = [];
  const unused = (): never => {
    throw new Error("not used");
  };
  return {
    calls,
    getSubscribedSkus: unused,
    getUsersPage: unused,
    async postLicenseUpdate(customer, user, update, ctx) {
      const call = { customerId: customer, userId: user, update, ctx, at: clock.now() };
      const index = calls.push(call) - 1;
      await clock.sleep(latencyMs);
      return answer(call, index);
    },
  };
}

function deps(clock: FakeClock, api: PartnerCenterApi, outcomes: RowOutcome[], extra: Partial<ExecuteDeps> = {}): ExecuteDeps {
  return {
    api,
    retry: { pacer: createPacer({ clock }), clock, random: () => 0.5, maxAttempts: 4, correlationId: "corr", tokens: { getToken: async () => "t" } },
    concurrency: 1,
    stop: new AbortController().signal,
    onOutcome: (o) => outcomes.push(o),
    logger: silentLogger,
    clock,
    ...extra,
  };
}

function expectOneOutcomePerRow(requests: LicenseUpdateRequest[], outcomes: RowOutcome[]): Map<number, RowOutcome> {
  const lines = requests.flatMap((r) => r.rows.map((x) => x.line)).sort((a, b) => a - b);
  expect(outcomes.map((o) => o.line).sort((a, b) => a - b)).toEqual(lines);
  return new Map(outcomes.map((o) => [o.line, o]));
}

const assignedSkus = (call: Call): string[] => (call.update.licensesToAssign ?? []).map((l) => l.skuId);

describe("executeRequests", () => {
  it("records assigned and removed rows with the request's ids, status and warnings", async () => {
    resetLines();
    const clock = new FakeClock();
    const warning = { code: "DependsOn", message: "plan needs another", servicePlans: ["x"] };
    const api = fakeApi(clock, (call) => {
      const answer = created(call.update, { requestId: call.ctx.requestId, correlationId: "corr", cv: "cv.1" });
      if (answer.ok) answer.body.licenseWarnings = [warning];
      return answer;
    });
    const c = customerId(1);
    const requests = [request([row(c, userId(1), SKU_A), row(c, userId(1), SKU_B, "remove")])];
    const outcomes: RowOutcome[] = [];
    const report = await clock.run(executeRequests(requests, deps(clock, api, outcomes)));
    const byLine = expectOneOutcomePerRow(requests, outcomes);
    expect(byLine.get(2)).toMatchObject({ status: "assigned", httpStatus: 201, attempts: 1, requestId: api.calls[0]!.ctx.requestId, correlationId: "corr", msCv: "cv.1", licenseWarnings: [warning] });
    expect(byLine.get(3)).toMatchObject({ status: "removed", httpStatus: 201 });
    expect(new Date(byLine.get(2)!.finishedAt).toISOString()).toBe(byLine.get(2)!.finishedAt);
    expect(report).toMatchObject({ requestsSent: 1, throttled: 0 });
  });

  it("a 60012 costs only the SKU it names; the rest is resent with a new request id; later rows of that SKU fail without a call", async () => {
    resetLines();
    const clock = new FakeClock();
    const c = customerId(1);
    const api = fakeApi(clock, (call) => (assignedSkus(call).includes(SKU_B) ? outOfSeats(c, SKU_B) : created(call.update)));
    const first = request([row(c, userId(1), SKU_A), row(c, userId(1), SKU_B), row(c, userId(1), SKU_C, "remove")]); // lines 2-4
    const second = request([row(c, userId(2), SKU_B), row(c, userId(2), SKU_A)]); // lines 5-6
    const third = request([row(c, userId(3), SKU_B, "remove")]); // line 7
    const requests = [first, second, third];
    const outcomes: RowOutcome[] = [];
    await clock.run(executeRequests(requests, deps(clock, api, outcomes)));
    const byLine = expectOneOutcomePerRow(requests, outcomes);

    expect(api.calls).toHaveLength(4); // first, first without B, second without B, third
    expect(assignedSkus(api.calls[1]!)).toEqual([SKU_A]);
    expect(api.calls[1]!.update.licensesToRemove).toEqual([SKU_C]);
    expect(api.calls[1]!.ctx.requestId).not.toBe(api.calls[0]!.ctx.requestId);

    expect(byLine.get(3)).toMatchObject({ status: "failed", httpStatus: 400, errorCode: "60012", requestId: api.calls[0]!.ctx.requestId });
    expect(byLine.get(3)!.errorMessage).toContain("run out of licenses");
    expect(byLine.get(3)!.errorMessage).toContain(SKU_B);
    expect(byLine.get(2)).toMatchObject({ status: "assigned", requestId: api.calls[1]!.ctx.requestId });
    expect(byLine.get(4)).toMatchObject({ status: "removed" });

    expect(byLine.get(5)).toMatchObject({ status: "failed", errorCode: "60012", attempts: 0 });
    expect(byLine.get(5)!.httpStatus).toBeUndefined();
    expect(byLine.get(5)!.errorMessage).toMatch(/not sent.*line 3/);
    expect(byLine.get(6)).toMatchObject({ status: "assigned" });
    expect(assignedSkus(api.calls[2]!)).toEqual([SKU_A]);
    expect(byLine.get(7)).toMatchObject({ status: "removed" }); // removals still go
  });

  it("splits a multi-SKU request per SKU when the 60012 names none of its SKUs", async () => {
    resetLines();
    const clock = new FakeClock();
    const c = customerId(1);
    const api = fakeApi(clock, (call) => {
      const skus = assignedSkus(call);
      if (skus.length > 1 || skus.includes(SKU_B)) return httpFailure(400, "60012", "out of licenses");
      return created(call.update);
    });
    const requests = [request([row(c, userId(1), SKU_A), row(c, userId(1), SKU_B)])];
    const outcomes: RowOutcome[] = [];
    await clock.run(executeRequests(requests, deps(clock, api, outcomes)));
    const byLine = expectOneOutcomePerRow(requests, outcomes);
    expect(api.calls.map(assignedSkus)).toEqual([[SKU_A, SKU_B], [SKU_A], [SKU_B]]);
    expect(byLine.get(2)).toMatchObject({ status: "assigned" });
    expect(byLine.get(3)).toMatchObject({ status: "failed", httpStatus: 400, errorCode: "60012" });
  });

  it("customer-fatal: the customer's later rows fail without a call, other customers go on", async () => {
    resetLines();
    const clock = new FakeClock();
    const bad = customerId(1);
    const good = customerId(2);
    const api = fakeApi(clock, (call) => (call.customerId === bad ? httpFailure(403, "900150", "The supplied role does not have the rights to perform the requested operation") : created(call.update)));
    const requests = [request([row(bad, userId(1), SKU_A)]), request([row(good, userId(2), SKU_A)]), request([row(bad, userId(3), SKU_A)]), request([row(bad, userId(4), SKU_B)])];
    const outcomes: RowOutcome[] = [];
    await clock.run(executeRequests(requests, deps(clock, api, outcomes)));
    const byLine = expectOneOutcomePerRow(requests, outcomes);
    expect(api.calls.filter((c) => c.customerId === bad)).toHaveLength(1);
    expect(byLine.get(2)).toMatchObject({ status: "failed", httpStatus: 403, errorCode: "900150" });
    expect(byLine.get(3)).toMatchObject({ status: "assigned" });
    for (const line of [4, 5]) {
      expect(byLine.get(line)).toMatchObject({ status: "failed", errorCode: "900150", attempts: 0 });
      expect(byLine.get(line)!.errorMessage).toMatch(/^not sent: .*line 2/);
    }
  });

  it("60002 fails every row of that user, also in its other license group request", async () => {
    resetLines();
    const clock = new FakeClock();
    const c = customerId(1);
    const api = fakeApi(clock, (call) => (call.userId === userId(1) ? httpFailure(404, "60002", "user not found") : created(call.update)));
    const group1 = request([row(c, userId(1), SKU_A)]); // line 2
    const group2 = { ...request([row(c, userId(1), SKU_C)]), licenseGroup: "group2" as const }; // line 3
    const requests = [group1, group2, request([row(c, userId(2), SKU_A)])];
    const outcomes: RowOutcome[] = [];
    await clock.run(executeRequests(requests, deps(clock, api, outcomes)));
    const byLine = expectOneOutcomePerRow(requests, outcomes);
    expect(api.calls).toHaveLength(2);
    expect(byLine.get(2)).toMatchObject({ status: "failed", httpStatus: 404, errorCode: "60002" });
    expect(byLine.get(3)).toMatchObject({ status: "failed", errorCode: "60002", attempts: 0 });
    expect(byLine.get(4)).toMatchObject({ status: "assigned" });
  });

  it("run-fatal: nothing new starts, in-flight requests finish and are recorded, the rest is aborted", async () => {
    resetLines();
    const clock = new FakeClock();
    const c = customerId(1);
    // Request 3 (index 2) is answered 900316 quickly; the others take 100 ms.
    const api = fakeApi(clock, async (call, index) => {
      if (index === 2) return httpFailure(400, "900316", "Partner token is not allowed in license management calls.");
      await clock.sleep(90);
      return created(call.update);
    });
    const requests = Array.from({ length: 20 }, (_, i) => request([row(c, userId(i), SKU_A)]));
    const outcomes: RowOutcome[] = [];
    const report = await clock.run(executeRequests(requests, deps(clock, api, outcomes, { concurrency: 4, initialCustomerWindow: 4 })));
    const byLine = expectOneOutcomePerRow(requests, outcomes);
    const fatalAt = api.calls[2]!.at + 10;
    expect(api.calls.every((call) => call.at < fatalAt)).toBe(true);
    expect(api.calls.length).toBeLessThanOrEqual(4);
    expect(report.stoppedBy).toMatchObject({ kind: "run-fatal", errorCode: "900316", httpStatus: 400 });
    expect(byLine.get(4)).toMatchObject({ status: "failed", errorCode: "900316", httpStatus: 400 });
    const sentLines = new Set(api.calls.map((call) => requests.find((r) => r.update === call.update || r.userId === call.userId)!.rows[0]!.line));
    for (const o of outcomes) {
      if (o.line === 4) continue;
      if (sentLines.has(o.line)) expect(o.status).toBe("assigned"); // in flight: finished and recorded
      else {
        expect(o).toMatchObject({ status: "aborted", errorCode: "900316", attempts: 0 });
        expect(o.errorMessage).toMatch(/^not sent: the run stopped: /);
      }
    }
    expect(outcomes.filter((o) => o.status === "aborted").length).toBe(20 - api.calls.length);
  });

  it("a 401 that repeats after one renewal stops the run", async () => {
    resetLines();
    const clock = new FakeClock();
    const c = customerId(1);
    const api = fakeApi(clock, () => httpFailure(401, undefined, "token expired"));
    const requests = [request([row(c, userId(1), SKU_A)]), request([row(c, userId(2), SKU_A)])];
    const outcomes: RowOutcome[] = [];
    const report = await clock.run(executeRequests(requests, deps(clock, api, outcomes)));
    const byLine = expectOneOutcomePerRow(requests, outcomes);
    expect(api.calls).toHaveLength(2);
    expect(report.stoppedBy).toMatchObject({ kind: "run-fatal", httpStatus: 401 });
    expect(byLine.get(2)).toMatchObject({ status: "failed", httpStatus: 401, attempts: 2 });
    expect(byLine.get(3)).toMatchObject({ status: "aborted" });
  });

  it("stop signal: in-flight answers are recorded, a request waiting to retry and every unsent row are aborted", async () => {
    resetLines();
    const clock = new FakeClock();
    const c = customerId(1);
    const stop = new AbortController();
    // Request 0 fails with 503 (then waits to retry); request 1 takes 500 ms and succeeds.
    const api = fakeApi(clock, async (call, index) => {
      if (index === 0) return httpFailure(503, undefined, "Service Unavailable");
      await clock.sleep(490);
      return created(call.update);
    });
    const requests = Array.from({ length: 10 }, (_, i) => request([row(c, userId(i), SKU_A)]));
    const outcomes: RowOutcome[] = [];
    const d = deps(clock, api, outcomes, { concurrency: 2, stop: stop.signal });
    d.retry = { ...d.retry, backoff: { baseMs: 10_000, capMs: 10_000 } };
    const running = executeRequests(requests, d);
    await clock.advance(100);
    stop.abort();
    const report = await clock.run(running);
    const byLine = expectOneOutcomePerRow(requests, outcomes);
    expect(report.stoppedBy).toEqual({ kind: "interrupted" });
    expect(api.calls).toHaveLength(2);
    expect(byLine.get(2)).toMatchObject({ status: "aborted", errorCode: "INTERRUPTED", attempts: 1, requestId: api.calls[0]!.ctx.requestId });
    expect(byLine.get(2)!.errorMessage).toContain("503");
    expect(byLine.get(3)).toMatchObject({ status: "assigned" });
    for (let line = 4; line <= 11; line++) expect(byLine.get(line)).toMatchObject({ status: "aborted", errorCode: "INTERRUPTED", attempts: 0 });
    expect(clock.now()).toBeLessThan(1_700_000_000_000 + 10_000); // did not sit out the backoff
  });

  it("sends a customer's writes while later customers are still being looked up (an async source is read beside the dispatch)", async () => {
    resetLines();
    const clock = new FakeClock();
    const api = fakeApi(clock, (call) => created(call.update), 50);
    const started = clock.now();
    let sourceDoneAt = -1;
    // As the plan yields them: each customer after its 100 ms of lookups.
    async function* planned(): AsyncGenerator<LicenseUpdateRequest> {
      for (let c = 1; c <= 5; c++) {
        await clock.sleep(100);
        for (let u = 0; u < 3; u++) yield request([row(customerId(c), userId(u), SKU_A)]);
      }
      sourceDoneAt = clock.now();
    }
    const outcomes: RowOutcome[] = [];
    await clock.run(executeRequests(planned(), deps(clock, api, outcomes, { concurrency: 8 })));
    expect(outcomes.filter((o) => o.status === "assigned")).toHaveLength(15);
    expect(sourceDoneAt - started).toBe(500);
    // The first customer's first write went when it was planned, not once the last one was.
    expect(api.calls[0]!.at - started).toBe(100);
    expect(api.calls.filter((call) => call.at < sourceDoneAt).length).toBeGreaterThanOrEqual(12);
  });

  it("an async source that throws (a bug) rejects the run with its error, though it is read beside the dispatch", async () => {
    resetLines();
    const clock = new FakeClock();
    const api = fakeApi(clock, (call) => created(call.update), 50);
    async function* planned(): AsyncGenerator<LicenseUpdateRequest> {
      yield request([row(customerId(1), userId(1), SKU_A)]);
      await clock.sleep(100);
      throw new TypeError("planted bug");
    }
    const outcomes: RowOutcome[] = [];
    await expect(clock.run(executeRequests(planned(), deps(clock, api, outcomes, { concurrency: 8 })))).rejects.toThrow("planted bug");
  });

  it("reads an async source ahead by a bounded number of requests only", async () => {
    resetLines();
    const clock = new FakeClock();
    const c = customerId(1);
    const api = fakeApi(clock, (call) => created(call.update), 1_000);
    let pulled = 0;
    let pulledWhenFirstAnswered = -1;
    async function* source(): AsyncGenerator<LicenseUpdateRequest> {
      for (let i = 0; i < 500; i++) {
        pulled++;
        yield request([row(c, userId(i), SKU_A)]);
      }
    }
    const outcomes: RowOutcome[] = [];
    const d = deps(clock, api, outcomes, { concurrency: 4, readAhead: 20, onOutcome: (o) => {
      if (pulledWhenFirstAnswered < 0) pulledWhenFirstAnswered = pulled;
      outcomes.push(o);
    } });
    await clock.run(executeRequests(source(), d));
    expect(outcomes).toHaveLength(500);
    expect(new Set(outcomes.map((o) => o.line)).size).toBe(500);
    expect(pulledWhenFirstAnswered).toBeLessThanOrEqual(4 + 20 + 1);
  });

  it("only the throttled request sleeps out its Retry-After, and it holds no concurrency slot meanwhile", async () => {
    resetLines();
    const clock = new FakeClock();
    const a = customerId(1);
    const b = customerId(2);
    const api = fakeApi(clock, (call, index) => (index === 0 ? throttled(5) : created(call.update)));
    const requests = [request([row(a, userId(1), SKU_A)]), request([row(b, userId(2), SKU_A)])];
    const outcomes: RowOutcome[] = [];
    await clock.run(executeRequests(requests, deps(clock, api, outcomes, { concurrency: 1 })));
    expectOneOutcomePerRow(requests, outcomes);
    const [first, ...rest] = api.calls;
    const retry = rest.find((call) => call.customerId === a)!;
    const other = rest.find((call) => call.customerId === b)!;
    expect(other.at - first!.at).toBeLessThan(1_000); // B went while A slept, with the only slot
    expect(retry.at - first!.at).toBeGreaterThanOrEqual(5_000); // never before Retry-After
    expect(outcomes.every((o) => o.status === "assigned")).toBe(true);
  });

  it("a retry whose customer its pacer holds back past the Retry-After waits holding no slot: the other customer keeps both", async () => {
    resetLines();
    const clock = new FakeClock();
    const a = customerId(1);
    const b = customerId(2);
    // A's first write is told "Retry-After: 1"; its pacer then holds the whole customer for 30 s
    // (as after refusals that repeat: a window that resets later). B is never throttled.
    const LOCKOUT_MS = 30_000;
    const pacer = lockoutPacer(clock, LOCKOUT_MS);
    let throttledOnce = false;
    const api = fakeApi(
      clock,
      (call) => {
        if (call.customerId === a && !throttledOnce) {
          throttledOnce = true;
          return throttled(1);
        }
        return created(call.update);
      },
      100,
    );
    const requests = [request([row(a, userId(0), SKU_A)]), ...Array.from({ length: 40 }, (_, u) => request([row(b, userId(u + 1), SKU_A)]))];
    const outcomes: RowOutcome[] = [];
    const report = await clock.run(executeRequests(requests, deps(clock, api, outcomes, { concurrency: 2, retry: { ...deps(clock, api, outcomes).retry, pacer } })));
    const byLine = expectOneOutcomePerRow(requests, outcomes);
    expect(outcomes.every((o) => o.status === "assigned")).toBe(true);
    const started = api.calls[0]!.at;
    const aCalls = api.calls.filter((call) => call.customerId === a);
    const bCalls = api.calls.filter((call) => call.customerId === b);
    // A: one logical call, its retry after the Retry-After and after its customer's pause.
    expect(aCalls).toHaveLength(2);
    expect(new Set(aCalls.map((call) => call.ctx.requestId)).size).toBe(1);
    expect(aCalls[1]!.at - aCalls[0]!.at).toBeGreaterThanOrEqual(LOCKOUT_MS);
    expect(byLine.get(requests[0]!.rows[0]!.line)).toMatchObject({ status: "assigned", attempts: 2 });
    // B: 40 writes of 100 ms on both slots take 2 s; with one slot (the other held by A's waiting
    // retry) they would take nearly 4 s.
    const lastB = Math.max(...bCalls.map((call) => call.at)) + 100 - started;
    expect(lastB).toBeLessThanOrEqual(2_200);
    // While A's retry waited, two of B's writes were on the wire at once.
    const duringWait = bCalls.filter((call) => call.at - started >= 1_200);
    expect(duringWait.length).toBeGreaterThan(0);
    expect(duringWait.some((call) => duringWait.some((other) => other !== call && Math.abs(other.at - call.at) < 100))).toBe(true);
    expect(report.pacing.mostInFlight).toBe(2);
  });
});

/** A pacer that never paces, but holds a customer `lockoutMs` after any 429 (longer than the Retry-After). */
function lockoutPacer(clock: FakeClock, lockoutMs: number): Pacer {
  const pausedUntil = new Map<string, number>();
  const delayMs = (customer: string): number => Math.max(0, (pausedUntil.get(customer) ?? 0) - clock.now());
  return {
    delayMs,
    async acquire(customer, signal) {
      while (delayMs(customer) > 0 && !signal?.aborted) await clock.sleep(delayMs(customer), signal);
    },
    onThrottled(customer) {
      pausedUntil.set(customer, clock.now() + lockoutMs);
    },
    onSuccess() {},
    state: (customer) => ({ pausedUntil: customer === undefined ? 0 : (pausedUntil.get(customer) ?? 0) }),
  };
}
