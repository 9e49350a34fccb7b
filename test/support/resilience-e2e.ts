// Helpers of the "never lose a row" end-to-end tests: a work dir with a roster, the CLI's
// arguments against an emulator, waiting on the emulator's counters, and reading back what the
// emulator holds (seats, licenses, its request log) and what the runner wrote (journal lines).
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { control, type RunningEmulator } from "./emulator.js";
import { cleanEnv } from "./cli.js";
import { TOKEN } from "./state-builder.js";
import { tempDir } from "./temp-dir.js";

export interface Workspace {
  dir: string;
  input: string;
  output: string;
}

/** A fresh temp dir holding `roster.csv` (the given text or bytes); results go to `results.csv`. */
export async function workspace(roster: string | Buffer): Promise<Workspace> {
  const dir = await tempDir("lr-resilience-");
  const input = join(dir, "roster.csv");
  await writeFile(input, roster);
  return { dir, input, output: join(dir, "results.csv") };
}

/** `run`/`plan` arguments against the emulator, JSON logs, no progress bar. */
export function cliArgs(command: "run" | "plan", em: RunningEmulator, ws: Workspace, extra: string[] = []): string[] {
  return [command, "--input", ws.input, "--output", ws.output, "--base-url", em.url, "--log-format", "json", "--no-progress", ...extra];
}

export const tokenEnv = (): NodeJS.ProcessEnv => cleanEnv({ PARTNER_CENTER_ACCESS_TOKEN: TOKEN });

/**
 * Polls `probe` until it returns true. This waits for the run to reach a point (never checks
 * pacing); it gives up after `timeoutMs` with the message.
 */
export async function waitUntil(probe: () => Promise<boolean>, message: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${message}`);
    await delay(10);
  }
}

export { requestLog, type LogEntry } from "./emulator.js";

/** licenseupdates calls the emulator has counted (counted once their body arrived, before any answer). */
export async function licenseUpdatesReceived(em: RunningEmulator): Promise<number> {
  const counters = await control(em, "counters");
  return (counters.requests.byEndpoint.licenseUpdates as number | undefined) ?? 0;
}

/**
 * Waits until every request the emulator counted has been answered (or dropped) and logged: after a
 * client is killed, writes it sent may still be in the emulator's latency delay.
 */
export async function emulatorSettled(em: RunningEmulator): Promise<void> {
  await waitUntil(async () => {
    const [counters, log] = await Promise.all([control(em, "counters"), control(em, "log", undefined)]);
    return log.total === counters.requests.total;
  }, "the emulator to answer every request it received");
}

/** consumedUnits per `customerId|skuId`, live from the emulator. */
export async function consumedSeats(em: RunningEmulator): Promise<Map<string, number>> {
  const state = await control(em, "state");
  const seats = new Map<string, number>();
  for (const customer of state.customers) {
    for (const sku of customer.subscribedSkus) seats.set(`${customer.id}|${sku.productSku.id}`, sku.consumedUnits);
  }
  return seats;
}

/** How many times each user holds each SKU: `customerId|userId|skuId` -> count (more than 1 would be a double seat). */
export async function heldLicenses(em: RunningEmulator): Promise<Map<string, number>> {
  const state = await control(em, "state");
  const held = new Map<string, number>();
  for (const customer of state.customers) {
    for (const user of customer.users) {
      for (const license of user.licenses) {
        const key = `${customer.id}|${user.id}|${license.skuId}`;
        held.set(key, (held.get(key) ?? 0) + 1);
      }
    }
  }
  return held;
}

/** The data records of a results file as written so far (journal or compacted), raw lines without the header. */
export async function journalLines(path: string): Promise<string[]> {
  const text = await readFile(path, "utf8");
  return text.replace(/^\uFEFF/, "").split("\n").slice(1).filter((l) => l !== "");
}

/** `line -> latest status` from journal lines whose cells need no quoting (the tests' rosters). */
export function latestStatusByLine(lines: string[]): Map<number, string> {
  const latest = new Map<number, string>();
  for (const record of lines) {
    const cells = record.split(",");
    latest.set(Number(cells[0]), cells[8] ?? "");
  }
  return latest;
}
