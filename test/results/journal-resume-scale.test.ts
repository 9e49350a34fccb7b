import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// A resumed journal with ~300k done lines stands for the 1,000,000-row roster of the contract.
// Holding each done line's outcome as an object takes ~200 MB and does not fit the child's 64 MB
// heap; the bit set and entry places take a few MB. The child writes the journal, closes it, then
// resumes it and checks every line's has/get against what it wrote, sampling its memory.
const LINES = 330_000;
const HEAP_LIMIT_MB = 64;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "journal-resume-scale-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("resume at scale", () => {
  it("looks done lines up from disk in bounded memory", () => {
    const path = join(dir, "results.csv");
    const journalModule = fileURLToPath(new URL("../../dist/results/journal.js", import.meta.url));
    const script = `
      const { openResultsJournal } = await import(${JSON.stringify(journalModule)});
      const options = { path: ${JSON.stringify(path)}, rosterFingerprint: "sha256:test" };
      const outcome = (line, status, requestId) => ({ line, customerId: "0c6f1a2b-1111-4222-8333-944455556666",
        userId: "1d7e2b3c-2222-4333-8444-a55566667777", userPrincipalName: "", sku: "SPE_E3",
        skuId: "05e9a617-0261-4cee-bb44-138d3ef5d965", licenseGroup: "group1", action: line % 13 === 0 ? "remove" : "assign",
        status, attempts: 1, requestId, finishedAt: "2026-01-02T03:04:05.000Z" });
      // What each line's latest entry is: every 11th failed after an assignment, every 7th only
      // failed, every 5th assigned after a failure, every 13th removed, the rest assigned or skipped.
      const latest = (line) => line % 11 === 0 || line % 7 === 0 ? "failed" : line % 13 === 0 ? "removed" : line % 3 === 0 ? "skipped" : "assigned";
      const lines = ${LINES};
      const first = await openResultsJournal({ ...options, resume: false });
      for (let line = 2; line < lines + 2; line += 1) {
        if (line % 11 === 0) first.journal.record(outcome(line, "assigned", "old-" + line));
        if (line % 5 === 0) first.journal.record(outcome(line, "failed", "old-" + line));
      }
      for (let line = lines + 1; line >= 2; line -= 1) first.journal.record(outcome(line, latest(line), "req-" + line));
      await first.journal.close();

      const used = () => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };
      globalThis.gc();
      const before = used();
      let peak = before;
      const sampler = setInterval(() => { peak = Math.max(peak, used()); }, 2);
      const opened = await openResultsJournal({ ...options, resume: true });
      if (!opened.ok) throw new Error(opened.message);
      const { done } = opened;
      globalThis.gc();
      const retained = used() - before;

      let expectedDone = 0, wrong = [];
      for (let line = 0; line < lines + 10; line += 1) {
        const status = line >= 2 && line < lines + 2 ? latest(line) : undefined;
        const isDone = status !== undefined && status !== "failed";
        if (isDone) expectedDone += 1;
        const got = done.get(line);
        const ok = done.has(line) === isDone && (isDone
          ? got?.line === line && got.status === status && got.requestId === "req-" + line && got.action === (line % 13 === 0 ? "remove" : "assign")
          : got === undefined);
        if (!ok && wrong.length < 5) wrong.push({ line, status, has: done.has(line), got });
      }
      const keys = [...done.keys()];
      const ascending = keys.every((line, i) => i === 0 || keys[i - 1] < line);
      clearInterval(sampler);
      peak = Math.max(peak, used());
      await opened.journal.close();
      let afterClose;
      try { done.get(keys[0]); afterClose = "returned"; } catch (error) { afterClose = error.message; }
      process.stdout.write(JSON.stringify({ size: done.size, expectedDone, keys: keys.length, ascending, wrong,
        retainedBytes: retained, peakBytes: peak - before, afterClose, hasAfterClose: done.has(keys[0]) }));
    `;
    const child = spawnSync(process.execPath, [`--max-old-space-size=${HEAP_LIMIT_MB}`, "--expose-gc", "--input-type=module", "-e", script], {
      encoding: "utf8",
    });
    expect(child.status, child.stderr).toBe(0);
    const report = JSON.parse(child.stdout) as {
      size: number;
      expectedDone: number;
      keys: number;
      ascending: boolean;
      wrong: unknown[];
      retainedBytes: number;
      peakBytes: number;
      afterClose: string;
      hasAfterClose: boolean;
    };
    expect(report.wrong).toEqual([]);
    expect(report.expectedDone).toBeGreaterThan(250_000);
    expect(report.size).toBe(report.expectedDone);
    expect(report.keys).toBe(report.expectedDone);
    expect(report.ascending).toBe(true);
    // Live index (~6 MB at this size, doubling) plus the done lines' bits and places (~4 MB).
    expect(report.retainedBytes).toBeLessThan(16 * 1024 * 1024);
    // Loading adds the scanner's buffers and each parse's garbage; every get reads afresh. Node 24's
    // collector lets more of that garbage pile up between collections than Node 20's (47-54 MB
    // measured on 24.22 against under 40 MB on 20.20, the same code), so the bound is what both
    // stay under; held as objects, the same done lines took over 600 MB.
    expect(report.peakBytes).toBeLessThan(80 * 1024 * 1024);
    // After close the fd may belong to another file: get refuses, has still answers.
    expect(report.afterClose).toBe("the results journal is closed");
    expect(report.hasAfterClose).toBe(true);
  });
});
