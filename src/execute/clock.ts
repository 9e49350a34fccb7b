// Time as the execute stage sees it: injected so pacing and retries can be tested with a fake clock
// instead of real sleeps.
//
// The system clock is monotonic: the wall clock at the process's start plus the time elapsed since,
// as `performance.now()` measures it (https://nodejs.org/api/perf_hooks.html#performancenow). The
// wall clock itself can step (an NTP correction, a virtual machine resumed): a step forward during
// a Retry-After wait would send the retry early, a step back would hold every paced start for the
// length of the step. Node's timers run on the same monotonic time.

export interface Clock {
  /** Milliseconds since the epoch (as at the process's start, advancing monotonically). */
  now(): number;
  /** Resolves after `ms`, or early (never rejects) when `signal` aborts: callers check the signal. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  sleep(ms, signal) {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener("abort", done, { once: true });
    });
  },
};
