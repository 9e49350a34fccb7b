// Progress while a run goes: on a terminal a live single line on stderr, redrawn in place at most
// ~10 times a second; elsewhere (CI, cron) a pino "progress" info line every few seconds, because
// `\r` redraws make a mess of log files. --no-progress turns both off. Text comes from renderer.ts.
import type { Logger } from "pino";
import { renderProgressLine, type ProgressSnapshot } from "./renderer.js";

export interface ProgressUpdate {
  done: number;
  assigned: number;
  failed: number;
  throttled: number;
  removed?: number;
  invalid?: number;
}

export interface ProgressOptions {
  total: number;
  stream: { write(text: string): unknown; columns?: number };
  isTTY: boolean;
  logger: Pick<Logger, "info">;
  enabled: boolean;
  /** Least time between two renders; default 100 ms on a terminal, 5000 ms as log lines. */
  intervalMs?: number;
  clock?: { now(): number };
  /** Re-render on a timer even without updates, so rate and ETA stay fresh during long waits. Default true. */
  heartbeat?: boolean;
}

export interface Progress {
  update(counts: ProgressUpdate): void;
  stop(): void;
}

/** The rate is measured over this much recent time, so a burst of skipped rows fades out. */
const RATE_WINDOW_MS = 10_000;
const CLEAR_LINE = "\r\x1b[2K";

const disabled: Progress = { update() {}, stop() {} };

export function createProgress(options: ProgressOptions): Progress {
  if (!options.enabled) return disabled;
  const clock = options.clock ?? { now: () => Date.now() };
  const tty = options.isTTY;
  const intervalMs = options.intervalMs ?? (tty ? 100 : 5_000);
  const startedAt = clock.now();
  const samples: { at: number; done: number }[] = [{ at: startedAt, done: 0 }];
  let latest: ProgressUpdate = { done: 0, assigned: 0, failed: 0, throttled: 0 };
  let lastRender = tty ? Number.NEGATIVE_INFINITY : startedAt; // log lines start after one interval
  let drawn = false;
  let stopped = false;

  const snapshot = (now: number): ProgressSnapshot => {
    samples.push({ at: now, done: latest.done });
    while (samples.length > 2 && samples[1]!.at <= now - RATE_WINDOW_MS) samples.shift();
    const oldest = samples[0]!;
    const elapsed = now - oldest.at;
    const rowsPerSecond = elapsed >= 500 ? ((latest.done - oldest.done) * 1000) / elapsed : undefined;
    const left = Math.max(0, options.total - latest.done);
    const etaMs = left === 0 ? 0 : rowsPerSecond && rowsPerSecond > 0 ? (left / rowsPerSecond) * 1000 : undefined;
    return {
      done: latest.done,
      total: options.total,
      assigned: latest.assigned,
      removed: latest.removed ?? 0,
      failed: latest.failed,
      invalid: latest.invalid ?? 0,
      throttled: latest.throttled,
      rowsPerSecond,
      etaMs,
    };
  };

  const render = (force: boolean): void => {
    const now = clock.now();
    if (stopped || (!force && now - lastRender < intervalMs)) return;
    lastRender = now;
    const current = snapshot(now);
    if (tty) {
      options.stream.write(CLEAR_LINE + renderProgressLine(current, options.stream.columns));
      drawn = true;
    } else {
      options.logger.info(
        {
          done: current.done,
          total: current.total,
          assigned: current.assigned,
          removed: current.removed,
          failed: current.failed,
          invalid: current.invalid,
          throttled: current.throttled,
          rowsPerSecond: current.rowsPerSecond === undefined ? null : Math.round(current.rowsPerSecond * 10) / 10,
          etaSeconds: current.etaMs === undefined ? null : Math.round(current.etaMs / 1000),
        },
        "progress",
      );
    }
  };

  const timer =
    options.heartbeat === false ? undefined : setInterval(() => render(false), tty ? Math.max(intervalMs, 1_000) : intervalMs);
  timer?.unref(); // progress never keeps a finished process alive

  return {
    update(counts) {
      latest = counts;
      render(false);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearInterval(timer);
      // Clear the live line so the summary that follows starts on a clean line.
      if (drawn) options.stream.write(CLEAR_LINE);
    },
  };
}
