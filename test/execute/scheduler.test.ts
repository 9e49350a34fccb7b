import { describe, expect, it } from "vitest";
import { Scheduler, type Round } from "../../dist/execute/scheduler.js";
import type { LicenseUpdateRequest, ResolvedRow } from "../../dist/model.js";
import { customerId, request, resetLines, row, SKU_A, userId } from "../support/execute-fixtures.js";

const A = customerId(1);
const B = customerId(2);
const C = customerId(3);

function requestsOf(customer: string, count: number): LicenseUpdateRequest[] {
  return Array.from({ length: count }, (_, n) => request([row(customer, userId(n + 1), SKU_A)]));
}

/** A round that lets `slots` requests start (unpaced unless `delays` says otherwise) and records them. */
function roundOf(slots: number, delays: Record<string, number> = {}, settle: (rows: readonly ResolvedRow[]) => ResolvedRow[] = (rows) => [...rows]): Round & { started: LicenseUpdateRequest[] } {
  const started: LicenseUpdateRequest[] = [];
  return {
    started,
    settle,
    slotFree: () => started.length < slots,
    delayMs: (customer) => delays[customer] ?? 0,
    start: (r) => started.push(r),
  };
}

const scheduler = (options: Partial<ConstructorParameters<typeof Scheduler>[0]> = {}): Scheduler =>
  new Scheduler({ concurrency: 8, readAhead: 100, initialWindow: 4, isPaced: () => false, ...options });

describe("scheduler", () => {
  it("offers the customer with the most work left first, whatever the roster order", () => {
    resetLines();
    const s = scheduler();
    for (const r of [...requestsOf(A, 1), ...requestsOf(B, 3), ...requestsOf(C, 2)]) s.add(r);
    const round = roundOf(2);
    s.round(round);
    expect(round.started.map((r) => r.customerId)).toEqual([B, C]);
  });

  it("among customers with as much work left, the one queued first goes first; a customer queued again after its queue emptied goes last", () => {
    resetLines();
    const s = scheduler({ isPaced: () => true });
    for (const r of [...requestsOf(A, 1), ...requestsOf(B, 2), ...requestsOf(C, 2)]) s.add(r);
    const first = roundOf(1);
    s.round(first);
    expect(first.started.map((r) => r.customerId)).toEqual([B]);
    s.acquired(B);
    // A: 1 left, B: 1, C: 2. C first; then A (queued before B) and B.
    const second = roundOf(3);
    s.round(second);
    expect(second.started.map((r) => r.customerId)).toEqual([C, A, B]);
    for (const c of [A, B, C]) s.acquired(c);
    // A's queue emptied; queued again now, it is the newest among the equals.
    for (const r of [...requestsOf(A, 1)]) s.add(r);
    const third = roundOf(3);
    s.round(third);
    expect(third.started.map((r) => r.customerId)).toEqual([C, A]);
  });

  it("offers customers in the order of a fresh stable sort of its queues, round after round (seeded random work)", () => {
    resetLines();
    let seed = 11;
    const random = (): number => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
    const s = scheduler({ isPaced: () => true, readAhead: 10_000 });
    // The model: customers in the order their queue was (re)created, and the work each has left.
    let model: { customer: string; left: number }[] = [];
    const customers = Array.from({ length: 48 }, (_, n) => customerId(100 + n));
    let user = 0;
    for (let step = 0; step < 600; step++) {
      // Several queues move between rounds (a few adds, up to 12 starts; now and then more than
      // the scheduler inserts one by one): the order of all the customers started, not only the
      // first, is held to the fresh sort.
      for (let adds = step % 50 === 0 ? 120 : Math.floor(random() * 8); adds > 0; adds--) {
        const customer = customers[Math.floor(random() * customers.length)]!;
        s.add(request([row(customer, userId(++user), SKU_A)]));
        const entry = model.find((m) => m.customer === customer);
        if (entry) entry.left++;
        else model.push({ customer, left: 1 });
      }
      const slots = 1 + Math.floor(random() * 12);
      const round = roundOf(slots);
      s.round(round);
      const expected = [...model].sort((a, b) => b.left - a.left).slice(0, slots).map((m) => m.customer);
      expect(round.started.map((r) => r.customerId), `step ${step}`).toEqual(expected);
      for (const started of round.started) {
        s.acquired(started.customerId);
        s.finished(started.customerId);
        model.find((m) => m.customer === started.customerId)!.left--;
      }
      model = model.filter((m) => m.left > 0);
    }
  });

  it("gives a customer whose request still waits for its pacer slot no second request", () => {
    resetLines();
    const s = scheduler({ isPaced: () => true });
    for (const r of requestsOf(A, 3)) s.add(r);
    const first = roundOf(8);
    s.round(first);
    expect(first.started).toHaveLength(1);
    const second = roundOf(8);
    s.round(second);
    expect(second.started).toHaveLength(0);
    s.acquired(A);
    const third = roundOf(8);
    s.round(third);
    expect(third.started).toHaveLength(1);
  });

  it("gives a customer none of its new requests while one of its retries queues for its pace again; others go on", () => {
    resetLines();
    const s = scheduler({ isPaced: () => true });
    for (const r of [...requestsOf(A, 3), ...requestsOf(B, 2)]) s.add(r);
    s.round(roundOf(8));
    s.acquired(A);
    s.acquired(B);
    // A's first request was throttled and its Retry-After is over: it queues for A's pace again.
    s.requeued(A);
    const held = roundOf(8);
    s.round(held);
    expect(held.started.map((r) => r.customerId)).toEqual([B]);
    expect(s.heldBack.pace).toBe(true);
    s.acquired(B);
    s.acquired(A); // the retry got past A's pacer
    const after = roundOf(8);
    s.round(after);
    expect(after.started.map((r) => r.customerId)).toEqual([A]);
  });

  it("slow start: an unpaced customer gets the initial window, doubled once a window's worth has finished, up to the concurrency", () => {
    resetLines();
    const s = scheduler({ initialWindow: 2, concurrency: 8 });
    for (const r of requestsOf(A, 40)) s.add(r);
    const startedInRound = (): number => {
      let started = 0;
      for (;;) {
        const round = roundOf(8);
        s.round(round);
        if (round.started.length === 0) return started;
        started += round.started.length;
        for (const r of round.started) s.acquired(r.customerId); // past the pacer at once
      }
    };
    const windows: number[] = [];
    for (let i = 0; i < 4; i++) {
      const started = startedInRound();
      windows.push(started);
      for (let n = 0; n < started; n++) s.finished(A);
    }
    expect(windows).toEqual([2, 4, 8, 8]);
  });

  it("a paced customer is bounded by its pace, not by slow start", () => {
    resetLines();
    const s = scheduler({ initialWindow: 1, isPaced: () => true });
    for (const r of requestsOf(A, 5)) s.add(r);
    let started = 0;
    for (let i = 0; i < 5; i++) {
      const round = roundOf(8);
      s.round(round);
      started += round.started.length;
      for (const r of round.started) s.acquired(r.customerId);
    }
    expect(started).toBe(5);
  });

  it("returns the soonest wait of the customers held back by their pace", () => {
    resetLines();
    const s = scheduler();
    for (const r of [...requestsOf(A, 2), ...requestsOf(B, 1)]) s.add(r);
    const round = roundOf(8, { [A]: 300, [B]: 120 });
    expect(s.round(round)).toBe(120);
    expect(round.started).toHaveLength(0);
  });

  it("drops requests whose rows are all decided, and keeps the narrowed rows of the rest", () => {
    resetLines();
    const s = scheduler();
    const decided = request([row(A, userId(1), SKU_A)]);
    const partly = request([row(A, userId(2), SKU_A), row(A, userId(2), SKU_A)]);
    s.add(decided);
    s.add(partly);
    const keepLast = (rows: readonly ResolvedRow[]): ResolvedRow[] => rows.filter((r) => r.line === partly.rows[1]!.line);
    const round = roundOf(8, {}, keepLast);
    s.round(round);
    expect(round.started).toHaveLength(1);
    expect(round.started[0]!.rows.map((r) => r.line)).toEqual([partly.rows[1]!.line]);
    expect(s.isEmpty).toBe(true);
  });

  it("bounds the read-ahead", () => {
    resetLines();
    const s = scheduler({ readAhead: 2 });
    const [one, two] = requestsOf(A, 2);
    s.add(one!);
    expect(s.hasRoom).toBe(true);
    s.add(two!);
    expect(s.hasRoom).toBe(false);
  });
});
