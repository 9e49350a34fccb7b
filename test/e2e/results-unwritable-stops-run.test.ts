// End to end: no outcome is lost. A results file that cannot be written (ENOSPC on a full file
// system, EFBIG under a file-size limit) stops the run at once like a run-fatal error: exit 4, a
// message naming the file and the errno, nothing more sent, and every write Partner Center
// committed is in the results file or in the fallback (a file next to it, else stderr as CSV).
import { afterEach, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { access, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestEmulator, type RunningEmulator } from "../support/emulator.js";
import { customer, roster, state } from "../support/state-builder.js";
import { cliArgs, requestLog, emulatorSettled, tokenEnv, workspace, type Workspace } from "../support/resilience-e2e.js";
import { runCliWith } from "../support/results-e2e.js";
import { readableStderr } from "../support/cli.js";

let emulator: RunningEmulator | undefined;
let ws: Workspace | undefined;
let mounted: string | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
  if (mounted) spawnSync("umount", [mounted]);
  if (mounted) await rm(mounted, { recursive: true, force: true });
  mounted = undefined;
  if (ws) await rm(ws.dir, { recursive: true, force: true });
  ws = undefined;
});

const ROWS = 400;
const c1 = customer(1, ROWS, { powerBiPro: ROWS });

/** The user ids of the complete result records in `text` whose status is assigned (a torn last line is not a record). */
function assignedUsers(text: string): Set<string> {
  const users = new Set<string>();
  for (const line of text.replace(/^\uFEFF/, "").split("\n")) {
    const cells = line.split(",");
    if (cells.length >= 16 && cells[1] === c1.id && cells[8] === "assigned") users.add(cells[2]!);
  }
  return users;
}

async function committedUsers(em: RunningEmulator): Promise<string[]> {
  await emulatorSettled(em);
  return (await requestLog(em)).filter((entry) => entry.endpoint === "licenseUpdates" && entry.applied).map((entry) => entry.userId!);
}

const readIfThere = (path: string): Promise<string> => readFile(path, "utf8").catch(() => "");

describe("a results file that cannot be written stops the run, and no outcome is lost", () => {
  it("ENOSPC (a full tmpfs): exit 4 naming the file and errno; what the disk could not take is on stderr as CSV", async () => {
    emulator = await startTestEmulator({ state: state([c1]) });
    ws = await workspace(roster(c1.users.map((u) => [c1.id, u.id, "Power BI Pro", "assign"])));
    mounted = await mkdtemp(join(tmpdir(), "lr-full-"));
    const mount = spawnSync("mount", ["-t", "tmpfs", "-o", "size=48k", "tmpfs", mounted]);
    expect(mount.status, `mount a small tmpfs (needs root): ${mount.stderr}`).toBe(0);
    const output = join(mounted, "results.csv");

    const run = await runCliWith(cliArgs("run", emulator, { ...ws, output }, ["--concurrency", "4"]), { env: tokenEnv() });
    expect(run.code, run.stderr.slice(-2000)).toBe(4);
    expect(readableStderr(run.stderr)).toContain(`the results file "${output}" cannot be written (ENOSPC)`);
    expect(run.stderr).not.toMatch(/\n\s+at /);

    const committed = await committedUsers(emulator);
    expect(committed.length).toBeGreaterThan(0);
    expect(committed.length).toBeLessThan(ROWS); // it stopped: not every row was sent
    const recorded = new Set([...assignedUsers(await readIfThere(output)), ...assignedUsers(await readIfThere(`${output}.unsaved.csv`)), ...assignedUsers(run.stderr)]);
    expect(committed.filter((user) => !recorded.has(user))).toEqual([]);
    await expect(access(`${output}.lock`)).rejects.toThrow();
  });

  it("EFBIG (ulimit -f): exit 4 naming the file and errno; what the file could not take is in the fallback file next to it", async () => {
    emulator = await startTestEmulator({ state: state([c1]) });
    ws = await workspace(roster(c1.users.map((u) => [c1.id, u.id, "Power BI Pro", "assign"])));
    await mkdir(join(ws.dir, "out"));
    const output = join(ws.dir, "out", "results.csv");

    // 100 blocks of 512 bytes: about 200 result lines fit.
    const run = await runCliWith(cliArgs("run", emulator, { ...ws, output }, ["--concurrency", "4"]), { env: tokenEnv(), fileSizeLimitBlocks: 100 });
    expect(run.code, run.stderr.slice(-2000)).toBe(4);
    expect(readableStderr(run.stderr)).toContain(`the results file "${output}" cannot be written (EFBIG)`);
    expect(readableStderr(run.stderr)).toContain(`saved in "${output}.unsaved.csv"`);

    const committed = await committedUsers(emulator);
    expect(committed.length).toBeLessThan(ROWS);
    const inResults = assignedUsers(await readFile(output, "utf8"));
    const inFallback = assignedUsers(await readFile(`${output}.unsaved.csv`, "utf8"));
    expect(inFallback.size).toBeGreaterThan(0);
    expect(committed.filter((user) => !inResults.has(user) && !inFallback.has(user))).toEqual([]);

    // Room again: --resume takes the fallback's outcomes back and sends none of their rows again.
    const resumed = await runCliWith(cliArgs("run", emulator, { ...ws, output }, ["--concurrency", "4", "--resume"]), { env: tokenEnv() });
    expect(resumed.code, resumed.stderr.slice(-2000)).toBe(0);
    await expect(access(`${output}.unsaved.csv`)).rejects.toThrow();
    const writesPerUser = new Map<string, number>();
    for (const user of await committedUsers(emulator)) writesPerUser.set(user, (writesPerUser.get(user) ?? 0) + 1);
    expect(writesPerUser.size).toBe(ROWS);
    expect([...writesPerUser.values()].filter((n) => n !== 1)).toEqual([]); // no user was written twice
    expect(readableStderr(resumed.stderr)).toMatch(/took back the outcomes the last run could not write/);
    const final = await readFile(output, "utf8");
    // Every row is done: assigned now, or kept as skipped (with its 201) from the first run, the
    // fallback's outcomes included.
    const statuses = final.replace(/^\uFEFF/, "").trimEnd().split("\n").slice(1).map((line) => `${line.split(",")[8]},${line.split(",")[9]}`);
    expect(statuses.filter((s) => s !== "assigned,201" && s !== "skipped,201")).toEqual([]);
    expect(statuses.filter((s) => s === "skipped,201").length).toBe(new Set([...inResults, ...inFallback]).size); // a torn last line of the first file is in both
    expect(final.replace(/^\uFEFF/, "").trimEnd().split("\n")).toHaveLength(ROWS + 1); // compacted: one line per row
  });
});
