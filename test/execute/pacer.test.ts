import { describe, expect, it } from "vitest";
import { createPacer } from "../../dist/execute/pacer.js";
import { FakeClock } from "../support/fake-clock.js";

const A = "customer-a";
const B = "customer-b";
const C = "customer-c";

/** Drive `customer` through the pacer for `ms` of virtual time, one request at a time, each answered after 10 ms. */
async function drive(clock: FakeClock, pacer: ReturnType<typeof createPacer>, customer: string, ms: number): Promise<number> {
  const until = clock.now() + ms;
  let sent = 0;
  const loop = async (): Promise<void> => {
    while (clock.now() < until) {
      await pacer.acquire(customer);
      if (clock.now() >= until) break;
      sent++;
      await clock.sleep(10);
      pacer.onSuccess(customer);
    }
  };
  await clock.run(loop());
  return sent;
}

describe("pacer", () => {
  it("is unpaced until the first 429", () => {
    const clock = new FakeClock();
    const pacer = createPacer({ clock });
    expect(pacer.delayMs(A)).toBe(0);
    expect(pacer.state(A).ratePerSecond).toBeUndefined();
  });

  it("a 429 pauses the customer only until its next slot at the lowered pace, not for the whole Retry-After", async () => {
    const clock = new FakeClock();
    const pacer = createPacer({ clock });
    await pacer.acquire(A); // the first request
    await clock.advance(1_000);
    for (let i = 0; i < 10; i++) pacer.onSuccess(A);
    pacer.onThrottled(A, 5_000, clock.now() - 25);
    const rate = pacer.state(A).ratePerSecond!;
    expect(rate).toBeCloseTo(0.95 * 10, 5); // 10 answered in the second: just under it
    // The throttled request waits out its 5 s itself (call-with-retry); the customer's next request goes at its slot.
    expect(pacer.delayMs(A)).toBeCloseTo(1000 / rate, 0);
    expect(pacer.delayMs(A)).toBeLessThan(5_000);
  });

  it("429s of requests sent before the episode began are its echoes: one decrease, no pause", async () => {
    const clock = new FakeClock();
    const pacer = createPacer({ clock });
    await clock.advance(1_000);
    for (let i = 0; i < 10; i++) pacer.onSuccess(A);
    const sentBefore = clock.now() - 30;
    pacer.onThrottled(A, 1_000, sentBefore);
    const rate = pacer.state(A).ratePerSecond;
    const delay = pacer.delayMs(A);
    await clock.advance(10);
    pacer.onThrottled(A, 2_000, sentBefore);
    expect(pacer.state(A).ratePerSecond).toBe(rate);
    expect(pacer.delayMs(A)).toBeLessThanOrEqual(delay);
  });

  it("a request sent after the decrease and refused again, nothing admitted since, pauses the customer 1 s (not the whole Retry-After)", async () => {
    const clock = new FakeClock();
    const pacer = createPacer({ clock });
    await pacer.acquire(A);
    await clock.advance(1_000);
    for (let i = 0; i < 10; i++) pacer.onSuccess(A);
    pacer.onThrottled(A, 5_000, clock.now() - 30);
    await clock.advance(200);
    const sentAfter = clock.now();
    await clock.advance(50);
    pacer.onThrottled(A, 5_000, sentAfter);
    expect(pacer.delayMs(A)).toBe(1_000);
  });

  it("slow start: a pace learned from under a second of answers doubles every half second until the next 429", async () => {
    const clock = new FakeClock();
    const pacer = createPacer({ clock });
    await pacer.acquire(A);
    await clock.advance(10);
    for (let i = 0; i < 5; i++) pacer.onSuccess(A); // a burst: 5 answers at once
    pacer.onThrottled(A, 1_000);
    const first = pacer.state(A).ratePerSecond!;
    expect(first).toBe(5);
    await clock.advance(1_000);
    await drive(clock, pacer, A, 1_000);
    expect(pacer.state(A).ratePerSecond!).toBeGreaterThan(first * 3); // about 2^2 after a second
    expect(pacer.state(A).ratePerSecond!).toBeLessThan(first * 5);
  });

  it("the allowance is estimated from the successes of a stretch of a second or more, not from the burst", async () => {
    const clock = new FakeClock();
    const pacer = createPacer({ clock });
    // 10 answers a second for 2 s, as a 10/s limit admits them, at a pace of 20/s.
    await pacer.acquire(A);
    for (let i = 0; i < 5; i++) pacer.onSuccess(A);
    pacer.onThrottled(A, 1_000); // slow start from 5/s
    await clock.advance(1_000);
    for (let i = 0; i < 20; i++) {
      pacer.onSuccess(A);
      await clock.advance(100);
    }
    pacer.onThrottled(A, 1_000, clock.now() - 10);
    // The successes of the last 2 s, or no lower than 0.7 of the pace answered at.
    expect(pacer.state(A).throttledAtRate!).toBeGreaterThanOrEqual(9.5);
    expect(pacer.state(A).ratePerSecond!).toBeCloseTo(0.95 * pacer.state(A).throttledAtRate!, 5);
  });

  it("lowers the pace, then climbs back and probes past where it was refused while it binds", async () => {
    const clock = new FakeClock();
    const pacer = createPacer({ clock });
    await pacer.acquire(A);
    await clock.advance(10);
    for (let i = 0; i < 10; i++) pacer.onSuccess(A); // 10 answers within the first second
    pacer.onThrottled(A, 1_000);
    expect(pacer.state(A).throttledAtRate).toBeCloseTo(10, 5);
    // First second: about the slow start's pace.
    await clock.advance(1_000);
    const first = await drive(clock, pacer, A, 1_000);
    expect(first).toBeGreaterThanOrEqual(9);
    // Nothing refuses it: it keeps growing.
    await drive(clock, pacer, A, 10_000);
    const later = await drive(clock, pacer, A, 1_000);
    expect(later).toBeGreaterThan(2 * first);
  });

  it("one throttled customer does not slow another", async () => {
    const clock = new FakeClock();
    const pacer = createPacer({ clock });
    for (let i = 0; i < 10; i++) pacer.onSuccess(A);
    pacer.onThrottled(A, 5_000);
    expect(pacer.delayMs(A)).toBeGreaterThan(0);
    expect(pacer.delayMs(B)).toBe(0);
    expect(pacer.state(B).ratePerSecond).toBeUndefined();
    expect(pacer.state().pausedUntil).toBeLessThanOrEqual(clock.now()); // the partner is not paused
    const sent = await drive(clock, pacer, B, 1_000);
    expect(sent).toBeGreaterThanOrEqual(99); // unpaced: as fast as its 10 ms answers allow
  });

  it("customers throttled together in slow start are each at their own limit, not the partner's", async () => {
    const clock = new FakeClock();
    const pacer = createPacer({ clock });
    for (let i = 0; i < 40; i++) pacer.onSuccess(i % 2 ? A : B);
    pacer.onThrottled(A, 2_000);
    await clock.advance(300);
    pacer.onThrottled(B, 2_000);
    expect(pacer.delayMs(C)).toBe(0);
    expect(pacer.state().ratePerSecond).toBeUndefined();
  });

  it("customers refused at well under what their own limits were measured to admit are the partner's limit: the partner is paced", async () => {
    const clock = new FakeClock();
    const pacer = createPacer({ clock });
    await pacer.acquire(A);
    await pacer.acquire(B);
    // A and B each meet their own limit of 10/s: a first 429, then a second after a measured second.
    for (const customer of [A, B]) {
      for (let i = 0; i < 10; i++) pacer.onSuccess(customer);
      pacer.onThrottled(customer, 1_000);
    }
    for (let i = 0; i < 20; i++) {
      pacer.onSuccess(A);
      pacer.onSuccess(B);
      await clock.advance(100);
    }
    pacer.onThrottled(A, 1_000, clock.now() - 10);
    pacer.onThrottled(B, 1_000, clock.now() - 10);
    expect(pacer.state().ratePerSecond).toBeUndefined(); // their own limits: no partner limit
    // Later each is refused at 2/s, a fifth of what its own limit admitted: not their own doing.
    await clock.advance(2_000);
    for (let i = 0; i < 6; i++) {
      pacer.onSuccess(A);
      pacer.onSuccess(B);
      await clock.advance(500);
    }
    pacer.onThrottled(A, 2_000, clock.now() - 10);
    await clock.advance(300);
    pacer.onThrottled(B, 2_000, clock.now() - 10);
    expect(pacer.state().pausedUntil).toBeGreaterThan(clock.now());
    expect(pacer.delayMs(C)).toBeGreaterThan(0); // C was never throttled, but the partner's limit holds it too
  });

  it("caps the partner at maxRatePerSecond from the start", async () => {
    const clock = new FakeClock();
    const pacer = createPacer({ clock, maxRatePerSecond: 5 });
    let sent = 0;
    const customers = [A, B, C];
    const work = async (): Promise<void> => {
      const until = clock.now() + 2_000;
      for (let i = 0; clock.now() < until; i++) {
        await pacer.acquire(customers[i % 3]!);
        if (clock.now() < until) sent++;
        await clock.sleep(1);
      }
    };
    await clock.run(work());
    expect(sent).toBeGreaterThanOrEqual(9);
    expect(sent).toBeLessThanOrEqual(11);
  });

  it("a freed partner slot goes to the request that has waited longest for it, not to the first timer to fire", async () => {
    const clock = new FakeClock();
    const pacer = createPacer({ clock, maxRatePerSecond: 1 });
    const t0 = clock.now();
    await pacer.acquire(A); // the partner's next slot is at t0 + 1 s
    const order: string[] = [];
    const b = pacer.acquire(B).then(() => order.push(B)); // waits for the partner from t0
    await clock.advance(100);
    // Two other customers throttled together: the partner is paused until t0 + 2 s. B, asleep until
    // t0 + 1 s, then sleeps again, later than C below.
    pacer.onThrottled("x", 1_900);
    pacer.onThrottled("y", 1_900);
    await clock.advance(400);
    const c = pacer.acquire(C).then(() => order.push(C)); // waits for the partner from t0 + 0.5 s
    await clock.run(Promise.all([b, c]));
    expect(order).toEqual([B, C]);
    expect(clock.now() - t0).toBeGreaterThanOrEqual(2_000);
  });

  it("warm start: paced just under what an earlier run learned, from the first request, holding 8 s, then growing past it", async () => {
    const clock = new FakeClock();
    // A's estimate is a long-run rate, the only one: the partner-wide figure too.
    const pacer = createPacer({ clock, warm: { version: 1, savedAt: "2026-01-01T00:00:00Z", customers: { [A]: 10, [B]: 20, [C]: 30 }, longRun: [A] } });
    expect(pacer.state(A).ratePerSecond).toBeCloseTo(9.5, 5);
    // A customer the state does not know starts from the partner-wide figure: the median of the
    // long-run estimates where there are any (here A's), else of all.
    expect(pacer.state("customer-new").ratePerSecond).toBeCloseTo(9.5, 5);
    const noLongRun = createPacer({ clock, warm: { version: 1, savedAt: "2026-01-01T00:00:00Z", customers: { [A]: 10, [B]: 20, [C]: 30 } } });
    // No long-run estimate: the median of all, and 90% of each (the pace at a 429 may have run ahead of the limit).
    expect(noLongRun.state("customer-new").ratePerSecond).toBeCloseTo(18, 5);
    expect(noLongRun.state(A).ratePerSecond).toBeCloseTo(9, 5);
    // A short job sends no probe: no 429 to pay for.
    await drive(clock, pacer, A, 7_000);
    expect(pacer.state(A).ratePerSecond).toBeCloseTo(9.5, 5);
    // A hint, never a ceiling: a pace that binds without a 429 grows past it.
    await drive(clock, pacer, A, 10_000);
    expect(pacer.state(A).ratePerSecond!).toBeGreaterThan(11);
    // Admitted for seconds past the hint without a 429: the rate it was admitted at lately is saved, not the stale hint.
    expect(pacer.snapshot!().customers[A]).toBeGreaterThan(11);
    expect(pacer.snapshot!().longRun).toBeUndefined();
  });

  it("saves each customer's measured estimate for the next run, not a slow start's guess", async () => {
    const clock = new FakeClock();
    const pacer = createPacer({ clock });
    await pacer.acquire(A);
    await pacer.acquire(B);
    for (let i = 0; i < 5; i++) pacer.onSuccess(B);
    pacer.onThrottled(B, 1_000); // B: a first burst only, still in slow start
    for (let i = 0; i < 20; i++) {
      pacer.onSuccess(A);
      await clock.advance(100);
    }
    pacer.onThrottled(A, 1_000);
    const saved = pacer.snapshot!();
    expect(saved).toMatchObject({ version: 1, customers: { [A]: pacer.state(A).throttledAtRate } });
    expect(saved.customers[B]).toBeUndefined();
  });
});
