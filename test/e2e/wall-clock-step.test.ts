// A wall clock that steps during a run (an NTP correction, a virtual machine resumed) moves
// neither its pacing nor its retries: forward, no retry goes before its Retry-After and the pace
// is not lost (answers that seem seconds old measure no rate); back, no paced start waits for the
// length of the step. The CLI child's Date.now() is stepped by a
// preloaded module (test/support/wall-clock-step.mjs); the emulator's clock is not.
import { afterEach, describe, expect, it } from "vitest";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { cleanEnv, readResults, startCli, REPO, type ResultRow } from "../support/cli.js";
import { requestLog, startTestEmulator, type RunningEmulator } from "../support/emulator.js";
import { expectRetriesAfterRetryAfter } from "../support/retries-in-log.js";
import { customer, roster, state, TOKEN } from "../support/state-builder.js";

const STEP_PRELOAD = pathToFileURL(join(REPO, "test/support/wall-clock-step.mjs")).href;
/** Paced at 10/s, 40 writes take about 4 s; a run still going after this is held by the step. */
const KILL_AFTER_MS = 45_000;

let emulator: RunningEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function runWithStep(em: RunningEmulator, rosterCsv: string, step: string) {
  const dir = await mkdtemp(join(tmpdir(), "lr-e2e-clock-step-"));
  const input = join(dir, "roster.csv");
  const output = join(dir, "results.csv");
  await writeFile(input, rosterCsv);
  const env = cleanEnv({ PARTNER_CENTER_ACCESS_TOKEN: TOKEN, WALL_CLOCK_STEP: step, NODE_OPTIONS: `--import=${STEP_PRELOAD}` });
  const started = performance.now();
  const { child, done } = startCli(["run", "--input", input, "--output", output, "--base-url", em.url, "--log-format", "json", "--no-progress", "--concurrency", "8"], { env });
  const killer = setTimeout(() => child.kill("SIGKILL"), KILL_AFTER_MS);
  const run = await done;
  clearTimeout(killer);
  const results = await readResults(output).catch(() => [] as ResultRow[]);
  return { run, results, wallMs: performance.now() - started };
}

describe("a wall clock that steps mid-run", () => {
  it("steps forward again and again: no retry before its Retry-After, and no slower than a run without steps", async () => {
    const rateLimit = { perCustomer: { ratePerSecond: 10, burst: 5 } };
    const c = customer(1, 40, { powerBiPro: 100 });
    const rows = roster(c.users.map((u) => [c.id, u.id, "Power BI Pro", "assign"]));
    emulator = await startTestEmulator({ state: state([c]), rateLimit });
    const steady = await runWithStep(emulator, rows, "");
    expect(steady.run.code, steady.run.stderr).toBe(0);
    await emulator.close();
    emulator = await startTestEmulator({ state: state([c]), rateLimit });
    const { run, results, wallMs } = await runWithStep(emulator, rows, "5000@300/300");

    expect(run.code, run.stderr).toBe(0);
    expect(results.filter((r) => r.status === "assigned")).toHaveLength(40);
    expectRetriesAfterRetryAfter(await requestLog(emulator));
    // Measured on a wall clock, the stepped run's answers would fall out of the estimate's window
    // and the pace would drop toward its floor (21 s against 5 s without steps, on such a clock).
    expect(wallMs).toBeLessThan(1.5 * steady.wallMs + 1_000);
  });

  it("steps back an hour: the run goes on at its pace and finishes", async () => {
    const c = customer(1, 40, { powerBiPro: 100 });
    emulator = await startTestEmulator({ state: state([c]), rateLimit: { perCustomer: { ratePerSecond: 10, burst: 5 } } });
    const { run, results, wallMs } = await runWithStep(emulator, roster(c.users.map((u) => [c.id, u.id, "Power BI Pro", "assign"])), "-3600000@1500");

    expect(run.signal, "killed: the run was held by the step").toBeNull();
    expect(run.code, run.stderr).toBe(0);
    expect(results.filter((r) => r.status === "assigned")).toHaveLength(40);
    expect(wallMs).toBeLessThan(30_000);
    const log = await requestLog(emulator);
    expect(log.some((e) => e.status === 429)).toBe(true); // it was paced when the clock stepped
  });
});
