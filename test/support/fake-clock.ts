// A discrete-event clock for tests: sleeps are timers on a virtual timeline; `run` advances time
// to the next timer whenever every promise chain has settled, so pacing is checked without sleeping.
import type { Clock } from "../../dist/execute/clock.js";

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class FakeClock implements Clock {
  private time: number;
  private seq = 0;
  private timers: Timer[] = [];

  constructor(start = 1_700_000_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const timer: Timer = { at: this.time + Math.max(0, ms), seq: this.seq++, resolve };
      const onAbort = (): void => {
        this.timers = this.timers.filter((t) => t !== timer);
        resolve();
      };
      timer.resolve = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.timers.push(timer);
    });
  }

  /** Move time forward by `ms`, firing timers in order. */
  async advance(ms: number): Promise<void> {
    const until = this.time + ms;
    for (;;) {
      await settle();
      const next = this.earliest();
      if (!next || next.at > until) break;
      this.fire(next.at);
    }
    this.time = until;
    await settle();
  }

  /** Run until `promise` settles, advancing virtual time whenever nothing else can happen. */
  async run<T>(promise: Promise<T>, maxVirtualMs = 3_600_000): Promise<T> {
    let done = false;
    void promise.then(
      () => (done = true),
      () => (done = true),
    );
    const limit = this.time + maxVirtualMs;
    for (;;) {
      await settle();
      if (done) return promise;
      const next = this.earliest();
      if (!next) throw new Error("deadlock: nothing scheduled and the promise is pending");
      if (next.at > limit) throw new Error("virtual time limit exceeded");
      this.fire(next.at);
    }
  }

  private earliest(): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.timers) if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    return best;
  }

  private fire(at: number): void {
    this.time = Math.max(this.time, at);
    const due = this.timers.filter((t) => t.at <= at).sort((a, b) => a.at - b.at || a.seq - b.seq);
    this.timers = this.timers.filter((t) => t.at > at);
    for (const t of due) t.resolve();
  }
}
