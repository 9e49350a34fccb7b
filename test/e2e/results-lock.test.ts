// End to end: one run per results file. `<output>.lock` names the holder; a second run exits 2 at
// once and sends nothing; a dead holder on this host is taken over with a warning; another host's
// lock is refused unless --break-lock.
import { afterEach, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { access, readFile, rm, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { control, startTestEmulator, type RunningEmulator } from "../support/emulator.js";
import { readResults } from "../support/cli.js";
import { customer, roster, state } from "../support/state-builder.js";
import { cliArgs, requestLog, tokenEnv, waitUntil, workspace, type Workspace } from "../support/resilience-e2e.js";
import { runCliWith } from "../support/results-e2e.js";

let emulator: RunningEmulator | undefined;
let ws: Workspace | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
  if (ws) await rm(ws.dir, { recursive: true, force: true });
  ws = undefined;
});

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

async function setUp(users: number, latencyMs?: number): Promise<{ em: RunningEmulator; ws: Workspace }> {
  const c1 = customer(1, users, { powerBiPro: users });
  emulator = await startTestEmulator({ state: state([c1]), ...(latencyMs ? { latencyMs } : {}) });
  ws = await workspace(roster(c1.users.map((u) => [c1.id, u.id, "Power BI Pro", "assign"])));
  return { em: emulator, ws };
}

async function writeLock(path: string, holder: { pid: number; host: string; startedAt?: string }): Promise<void> {
  const record = { startedAt: "2026-01-01T02:30:00.000Z", ...holder, command: "license-runner run --input nightly.csv" };
  await writeFile(`${path}.lock`, `${JSON.stringify(record)}\n`);
}

describe("a lock per results file", () => {
  it("two runs started together on one results file: one exits 2 naming the holder, no write is sent twice", async () => {
    // The first run takes seconds (300 ms a call, one at a time): the second starts while it runs.
    const { em, ws } = await setUp(12, 300);
    const first = runCliWith(cliArgs("run", em, ws, ["--concurrency", "1"]), { env: tokenEnv() });
    await waitUntil(() => exists(`${ws.output}.lock`), "the first run to take the lock");
    const second = await runCliWith(cliArgs("run", em, ws, ["--concurrency", "2"]), { env: tokenEnv() });
    expect(second.code, second.stderr).toBe(2);
    expect(second.stderr).toMatch(/another run holds the results file .*pid \d+ on .*license-runner run/);
    const done = await first;
    expect(done.code, done.stderr).toBe(0);

    const writes = (await requestLog(em)).filter((entry) => entry.endpoint === "licenseUpdates");
    expect(writes).toHaveLength(12);
    expect(new Set(writes.map((entry) => entry.userId)).size).toBe(12); // one write per user, none twice
    const rows = await readResults(ws.output);
    expect(rows.map((row) => row.status)).toEqual(Array(12).fill("assigned"));
    expect(await exists(`${ws.output}.lock`)).toBe(false);
  });

  it("a live holder on this host: exits 2 at once, names it, sends nothing, leaves its lock alone", async () => {
    const { em, ws } = await setUp(3);
    // The test process holds it: alive, and started before the lock was taken.
    const startedAt = new Date().toISOString();
    await writeLock(ws.output, { pid: process.pid, host: hostname(), startedAt });
    const run = await runCliWith(cliArgs("run", em, ws), { env: tokenEnv() });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain(`pid ${process.pid} on ${hostname()}, started ${startedAt}: license-runner run --input nightly.csv`);
    expect((await control(em, "counters")).requests.total).toBe(0);
    expect(await exists(ws.output)).toBe(false);
    expect(await exists(`${ws.output}.run.json`)).toBe(false);
    expect(JSON.parse(await readFile(`${ws.output}.lock`, "utf8")).pid).toBe(process.pid);
  });

  it("a lock left by a dead process on this host is taken over with a warning", async () => {
    const { em, ws } = await setUp(3);
    const gone = spawnSync("true");
    await writeLock(ws.output, { pid: gone.pid!, host: hostname() });
    const run = await runCliWith(cliArgs("run", em, ws), { env: tokenEnv() });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`its holder (pid ${gone.pid}) is no longer running`);
    expect((await readResults(ws.output)).map((row) => row.status)).toEqual(["assigned", "assigned", "assigned"]);
    expect(await exists(`${ws.output}.lock`)).toBe(false);
  });

  it("a lock whose pid now belongs to a process started after it (a reused pid) is taken over", async () => {
    const { em, ws } = await setUp(3);
    // The test process is alive, but started long after this lock was written.
    await writeLock(ws.output, { pid: process.pid, host: hostname(), startedAt: "2020-01-01T00:00:00.000Z" });
    const run = await runCliWith(cliArgs("run", em, ws), { env: tokenEnv() });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`its holder (pid ${process.pid}) is no longer running`);
  });

  it("another host's lock is refused (exit 2, nothing sent) unless --break-lock", async () => {
    const { em, ws } = await setUp(3);
    await writeLock(ws.output, { pid: 4242, host: "build-agent-07" });
    const refused = await runCliWith(cliArgs("run", em, ws), { env: tokenEnv() });
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain("pid 4242 on build-agent-07");
    expect(refused.stderr).toContain("--break-lock");
    expect((await control(em, "counters")).requests.total).toBe(0);

    const broken = await runCliWith(cliArgs("run", em, ws, ["--break-lock"]), { env: tokenEnv() });
    expect(broken.code, broken.stderr).toBe(0);
    expect(broken.stderr).toContain("held by host build-agent-07");
    expect((await readResults(ws.output)).map((row) => row.status)).toEqual(["assigned", "assigned", "assigned"]);
    expect(await exists(`${ws.output}.lock`)).toBe(false);
  });
});
