// Starts the built emulator in the test process on a free loopback port, and reads its control path.
import { startEmulator, type EmulatorOptions, type RunningEmulator } from "../../dist/emulator/server.js";
import type { RequestLogEntry as LogEntry } from "../../dist/emulator/request-log.js";

export type { LogEntry, RunningEmulator };

export function startTestEmulator(options: EmulatorOptions): Promise<RunningEmulator> {
  return startEmulator({ host: "127.0.0.1", port: 0, ...options });
}

export async function control<T = any>(emulator: RunningEmulator, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${emulator.url}/_emulator/${path}`, body === undefined ? {} : { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
  if (!response.ok) throw new Error(`control ${path}: ${response.status}`);
  return (await response.json()) as T;
}

/**
 * Every API request the emulator logged (GET /_emulator/log), oldest first. Throws when its ring
 * dropped entries: a test counting requests must see all of them.
 */
export async function requestLog(emulator: RunningEmulator): Promise<LogEntry[]> {
  const log = await control<{ entries: LogEntry[]; dropped: number }>(emulator, "log");
  if (log.dropped > 0) throw new Error(`the emulator log dropped ${log.dropped} entries: the test cannot see every request`);
  return log.entries;
}
