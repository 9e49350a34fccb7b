// What bound the run: of the time requests were waiting to start, how long each bound held them.
// - "allowance": a pace or a Retry-After (the API's allowance as the pacer estimates it);
// - "concurrency": every slot `--concurrency` allows was taken;
// - "latency": the requests in flight sized from the answers' latency (or a customer's slow-start
//   window) were full, or nothing ever waited: the run went as fast as the API answered.
export type RunBound = "concurrency" | "allowance" | "latency";

export class RunBoundTally {
  private readonly heldMs: Record<RunBound, number> = { concurrency: 0, allowance: 0, latency: 0 };
  private current: RunBound | undefined;
  private since = 0;

  /** From `now` on, requests wait on `bound` (undefined: none waits). */
  note(bound: RunBound | undefined, now: number): void {
    if (this.current !== undefined) this.heldMs[this.current] += Math.max(0, now - this.since);
    this.current = bound;
    this.since = now;
  }

  /** Milliseconds each bound held requests back, up to `now`. */
  held(now: number): Record<RunBound, number> {
    const held = { ...this.heldMs };
    if (this.current !== undefined) held[this.current] += Math.max(0, now - this.since);
    return held;
  }

  /** The bound that held requests back longest ("latency" when none did). */
  boundBy(now: number): RunBound {
    const held = this.held(now);
    let best: RunBound = "latency";
    for (const bound of ["allowance", "concurrency"] as const) if (held[bound] > held[best]) best = bound;
    return best;
  }
}
