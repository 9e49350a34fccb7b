// What the emulator saw during one scenario, read from its control path: counters, and from the
// request log the time window of the writes (arrival of the first to the answer of the last), so
// throughput is measured on the API's side, without the runner's start-up and roster reading.
import type { CountersSnapshot } from "../../dist/emulator/counters.js";
import type { RequestLogEntry } from "../../dist/emulator/request-log.js";
import { control, type RunningEmulator } from "../support/emulator.js";

export type EmulatorCounters = CountersSnapshot;

export interface ApiWindow {
  /** Calls of any endpoint, throttled ones included. */
  calls: number;
  throttled: number;
  /** licenseupdates answered 2xx. */
  writesSucceeded: number;
  /** First write's arrival to the last write's answer, ms. */
  writeWindowMs: number;
  /** First call's arrival to the last call's answer, ms. */
  apiWindowMs: number;
}

export function readCounters(emulator: RunningEmulator): Promise<EmulatorCounters> {
  return control<EmulatorCounters>(emulator, "counters");
}

/** The emulator's request log, whole: it holds the last 200,000 calls, enough for every windowed scenario. */
export async function readRequestLog(emulator: RunningEmulator): Promise<RequestLogEntry[]> {
  const log = await control<{ total: number; dropped: number; entries: RequestLogEntry[] }>(emulator, "log");
  if (log.dropped > 0) throw new Error(`the emulator's request log dropped ${log.dropped} entries: the scenario is too large for a windowed measure`);
  return log.entries;
}

/** The request log summed up. */
export function apiWindowOf(entries: readonly RequestLogEntry[]): ApiWindow {
  let firstCall = Infinity;
  let lastCall = -Infinity;
  let firstWrite = Infinity;
  let lastWrite = -Infinity;
  let throttled = 0;
  let writesSucceeded = 0;
  for (const entry of entries) {
    firstCall = Math.min(firstCall, entry.arrivalMs);
    lastCall = Math.max(lastCall, entry.answerMs);
    if (entry.status === 429) throttled++;
    if (entry.endpoint === "licenseUpdates") {
      firstWrite = Math.min(firstWrite, entry.arrivalMs);
      lastWrite = Math.max(lastWrite, entry.answerMs);
      if (entry.status !== null && entry.status >= 200 && entry.status < 300) writesSucceeded++;
    }
  }
  return {
    calls: entries.length,
    throttled,
    writesSucceeded,
    writeWindowMs: Math.max(0, lastWrite - firstWrite),
    apiWindowMs: Math.max(0, lastCall - firstCall),
  };
}
