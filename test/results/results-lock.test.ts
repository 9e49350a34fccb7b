import { afterEach, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { acquireResultsLock, lockPath, type ResultsLock } from "../../dist/results/results-lock.js";

let dir: string | undefined;
const held: ResultsLock[] = [];
afterEach(async () => {
  for (const lock of held.splice(0)) lock.release();
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function resultsPath(): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), "lr-lock-"));
  return join(dir, "results.csv");
}

const base = { command: "license-runner run --input r.csv", breakLock: false, clock: () => new Date("2026-03-01T02:00:00Z") };

describe("the results lock", () => {
  it("records its holder and is released only by its holder", async () => {
    const path = await resultsPath();
    const first = acquireResultsLock({ ...base, resultsPath: path, pid: 100, host: "here", isAlive: () => true });
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    held.push(first.lock);
    expect(JSON.parse(await readFile(lockPath(path), "utf8"))).toEqual({ pid: 100, host: "here", startedAt: "2026-03-01T02:00:00.000Z", command: base.command });

    const second = acquireResultsLock({ ...base, resultsPath: path, pid: 200, host: "here", isAlive: () => true });
    expect(second.ok).toBe(false);
    if (!second.ok) expect(second.holder?.pid).toBe(100);

    first.lock.release();
    const third = acquireResultsLock({ ...base, resultsPath: path, pid: 200, host: "here", isAlive: () => true });
    expect(third.ok).toBe(true);
    if (third.ok) held.push(third.lock);
  });

  it("takes over a dead holder on this host, never a live one, and another host's only with breakLock", async () => {
    const path = await resultsPath();
    await writeFile(lockPath(path), JSON.stringify({ pid: 100, host: "here", startedAt: "x", command: "c" }));
    const live = acquireResultsLock({ ...base, resultsPath: path, pid: 200, host: "here", isAlive: () => true });
    expect(live.ok).toBe(false);
    const dead = acquireResultsLock({ ...base, resultsPath: path, pid: 200, host: "here", isAlive: (pid) => pid !== 100 });
    expect(dead.ok && dead.tookOver?.holder?.pid).toBe(100);
    if (dead.ok) dead.lock.release();

    await writeFile(lockPath(path), JSON.stringify({ pid: 100, host: "elsewhere", startedAt: "x", command: "c" }));
    const foreign = acquireResultsLock({ ...base, resultsPath: path, pid: 200, host: "here", isAlive: () => false });
    expect(foreign.ok).toBe(false);
    if (!foreign.ok) expect(foreign.message).toContain("--break-lock");
    const broken = acquireResultsLock({ ...base, resultsPath: path, pid: 200, host: "here", isAlive: () => false, breakLock: true });
    expect(broken.ok).toBe(true);
    if (broken.ok) held.push(broken.lock);
  });

  it("refuses an unreadable lock file unless breakLock", async () => {
    const path = await resultsPath();
    await writeFile(lockPath(path), "not json");
    expect(acquireResultsLock({ ...base, resultsPath: path, pid: 200, host: "here", isAlive: () => false }).ok).toBe(false);
    const broken = acquireResultsLock({ ...base, resultsPath: path, pid: 200, host: "here", isAlive: () => false, breakLock: true });
    expect(broken.ok).toBe(true);
    if (broken.ok) held.push(broken.lock);
  });
});
