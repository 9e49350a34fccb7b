// How many requests to keep in flight. By Little's law the requests in flight are the rate times
// the time each takes (L = λW): at an answer time of 0.5 s a fixed bound of 8 caps a run at 16
// calls a second whatever the allowance. As BBR sizes what TCP keeps in flight from the
// bandwidth-delay product, the bound here is the estimated allowance times the measured latency,
// with headroom for the latency's jitter and the pace's probing, never above `--concurrency` (the
// most the user allows). While the allowance is unknown (a customer with work is not paced yet),
// the run as a whole is in slow start as TCP is: a window that starts at `initialWindow` and
// doubles each time a window's worth of answers came back unthrottled. A 429 halves it, at most
// once per window of answers (TCP reduces once per round trip, RFC 5681 section 3.1), and from
// there it grows by one per window of unthrottled answers (congestion avoidance): a customer
// throttled once must not hold customers never throttled, whose allowance is still unknown, to
// half the window for the rest of the run. Each customer also has its own slow start
// (scheduler.ts).

export interface InFlightOptions {
  /** The user's bound (`--concurrency`). */
  ceiling: number;
  /** Multiplier over rate x latency. Default 1.5. */
  headroom?: number;
  /** Fewest requests in flight the sizing allows. Default 2. */
  floor?: number;
  /** Requests in flight at first, while the allowance is unknown. Default 8. */
  initialWindow?: number;
  /** Weight of the newest latency in the moving average. Default 0.2. */
  smoothing?: number;
}

export class InFlightSizer {
  private readonly ceiling: number;
  private readonly headroom: number;
  private readonly floor: number;
  private readonly smoothing: number;
  private averageMs: number | undefined;
  private window: number;
  private growing = true;
  private answeredSinceGrowth = 0;
  /** Answers since the last decrease: a window's worth must pass before the next one. */
  private answeredSinceDecrease = 0;

  constructor(options: InFlightOptions) {
    this.ceiling = Math.max(1, Math.floor(options.ceiling));
    this.headroom = options.headroom ?? 1.5;
    this.floor = Math.min(this.ceiling, options.floor ?? 2);
    this.smoothing = options.smoothing ?? 0.2;
    this.window = Math.min(this.ceiling, Math.max(1, Math.floor(options.initialWindow ?? 8)));
  }

  /** An attempt was answered: throttled (429) or not. */
  onAnswer(throttled: boolean): void {
    if (throttled) {
      if (this.growing || this.answeredSinceDecrease >= this.window) {
        this.window = Math.max(this.floor, Math.floor(this.window / 2));
        this.answeredSinceDecrease = 0;
      }
      this.growing = false;
      this.answeredSinceGrowth = 0;
      return;
    }
    this.answeredSinceDecrease++;
    if (this.window >= this.ceiling) return;
    if (++this.answeredSinceGrowth >= this.window) {
      this.window = Math.min(this.ceiling, this.growing ? this.window * 2 : this.window + 1);
      this.answeredSinceGrowth = 0;
    }
  }

  /** One attempt's time from sending to its answer. */
  observeLatency(ms: number): void {
    if (!(ms >= 0)) return;
    this.averageMs = this.averageMs === undefined ? ms : this.averageMs + this.smoothing * (ms - this.averageMs);
  }

  /** The measured latency (moving average), ms; undefined before the first answer. */
  get latencyMs(): number | undefined {
    return this.averageMs;
  }

  get maximum(): number {
    return this.ceiling;
  }

  /** Requests to keep in flight at `allowancePerSecond` (undefined: not known yet, the slow-start window). */
  limit(allowancePerSecond: number | undefined): number {
    if (allowancePerSecond === undefined || !Number.isFinite(allowancePerSecond)) return this.window;
    if (this.averageMs === undefined) return this.ceiling;
    const needed = Math.ceil(allowancePerSecond * (this.averageMs / 1000) * this.headroom) + 1;
    return Math.min(this.ceiling, Math.max(this.floor, needed));
  }
}
