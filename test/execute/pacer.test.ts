import { describe, expect, it } from "vitest";
import { createPacer } from "../../dist/execute/pacer.js";
import { FakeClock } from "./fake-clock.js";

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

  it("pauses every request of a throttled customer until Retry-After has passed", async () => {
    const clock = new FakeClock();
    const pacer = createPacer({ clock });
    for (let i = 0; i < 10; i++) pacer.onSuccess(A);
    const throttledAt = clock.now();
    pacer.onThrottled(A, 3_000);
    expect(pacer.delayMs(A)).toBe(3_000);
    const startedAt: number[] = [];
    const waiters = [0, 1, 2].map(async () => {
      await pacer.acquire(A);
      startedAt.push(clock.now());
    });
    await clock.run(Promise.all(waiters));
    expect(startedAt).toHaveLength(3);
    for (const t of startedAt) expect(t).toBeGreaterThanOrEqual(throttledAt + 3_000);
    // Paced after the pause: the three starts are spread, not a burst.
    const sorted = [...startedAt].sort((x, y) => x - y);
    expect(sorted[2]! - sorted[0]!).toBeGreaterThan(0);
  });

  it("a second 429 during the pause extends it but lowers the pace only once", () => {
    const clock = new FakeClock();
    const pacer = createPacer({ clock });
    for (let i = 0; i < 10; i++) pacer.onSuccess(A);
    pacer.onThrottled(A, 1_000);
    const rate = pacer.state(A).ratePerSecond;
    pacer.onThrottled(A, 2_000);
    expect(pacer.state(A).ratePerSecond).toBe(rate);
    expect(pacer.delayMs(A)).toBe(2_000);
  });

  it("lowers the pace from the achieved rate, then recovers it", async () => {
    const clock = new FakeClock();
    const pacer = createPacer({ clock, decreaseFactor: 0.5 });
    for (let i = 0; i < 10; i++) pacer.onSuccess(A); // 10 answers within the first second
    pacer.onThrottled(A, 1_000);
    expect(pacer.state(A).throttledAtRate).toBeCloseTo(10, 5);
    expect(pacer.state(A).ratePerSecond).toBeCloseTo(5, 5);
    // First second after the pause: about the lowered pace.
    await clock.advance(1_000);
    const first = await drive(clock, pacer, A, 1_000);
    expect(first).toBeGreaterThanOrEqual(4);
    expect(first).toBeLessThanOrEqual(7);
    // Keep going: the pace climbs back to where it was throttled, and probes past it.
    await drive(clock, pacer, A, 10_000);
    expect(pacer.state(A).ratePerSecond!).toBeGreaterThan(9.9);
    const later = await drive(clock, pacer, A, 1_000);
    expect(later).toBeGreaterThanOrEqual(9);
  });

  it("one throttled customer does not slow another", async () => {
    const clock = new FakeClock();
    const pacer = createPacer({ clock });
    for (let i = 0; i < 10; i++) pacer.onSuccess(A);
    pacer.onThrottled(A, 5_000);
    expect(pacer.delayMs(A)).toBe(5_000);
    expect(pacer.delayMs(B)).toBe(0);
    expect(pacer.state(B).ratePerSecond).toBeUndefined();
    expect(pacer.state().pausedUntil).toBeLessThanOrEqual(clock.now()); // the partner is not paused
    const sent = await drive(clock, pacer, B, 1_000);
    expect(sent).toBeGreaterThanOrEqual(99); // unpaced: as fast as its 10 ms answers allow
  });

  it("429s of several customers close together pause and pace the partner as a whole", async () => {
    const clock = new FakeClock();
    const pacer = createPacer({ clock });
    for (let i = 0; i < 40; i++) pacer.onSuccess(i % 2 ? A : B);
    pacer.onThrottled(A, 2_000);
    await clock.advance(300);
    pacer.onThrottled(B, 2_000);
    // C was never throttled, but the partner's limit holds it too.
    expect(pacer.delayMs(C)).toBe(2_000);
    expect(pacer.state().ratePerSecond).toBeDefined();
    await clock.advance(2_000);
    expect(pacer.delayMs(C)).toBe(0);
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
});
