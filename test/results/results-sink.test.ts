import { afterEach, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { createResultsSink, fallbackPath, type ResultsWriteFailure } from "../../dist/results/results-sink.js";
import type { ResultsJournal } from "../../dist/results/journal.js";
import { formatOutcomeLine } from "../../dist/results/csv-cells.js";
import { FileResultsJournal } from "../../dist/results/journal-writer.js";
import { LatestEntryIndex } from "../../dist/results/line-index.js";
import { openSync } from "node:fs";
import type { RowOutcome, RowStatus } from "../../dist/model.js";

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

const outcome = (line: number, status: RowStatus = "assigned"): RowOutcome => ({
  line, customerId: "c", userId: `u${line}`, userPrincipalName: "", sku: "s", skuId: "", licenseGroup: "", action: "assign", status, attempts: 1, finishedAt: "2026-03-01T02:00:00.000Z",
});

/** A journal that takes `room` outcomes, then fails every write with `code` (as the file system would). */
function journalWithRoom(room: number, code: string): ResultsJournal & { taken: RowOutcome[]; finalized: boolean } {
  const taken: RowOutcome[] = [];
  let unwritten: { text: string; aborted: boolean }[] = [];
  return {
    taken,
    finalized: false,
    record(o) {
      if (taken.length >= room) {
        unwritten = [{ text: formatOutcomeLine(o), aborted: o.status === "aborted" }];
        throw Object.assign(new Error(`${code}: write failed`), { code });
      }
      taken.push(o);
    },
    flush() {},
    takeUnwritten() {
      const lines = unwritten;
      unwritten = [];
      return lines;
    },
    async finalize() {
      this.finalized = true;
      return { rows: taken.length };
    },
    async close() {},
  };
}

describe("the results sink", () => {
  it("on the first failed write reports once and sends what follows (except never-sent rows) to the fallback file", async () => {
    dir = await mkdtemp(join(tmpdir(), "lr-sink-"));
    const path = join(dir, "results.csv");
    const journal = journalWithRoom(2, "ENOSPC");
    const failures: ResultsWriteFailure[] = [];
    const sink = createResultsSink({ journal, path, stderr: new PassThrough(), onFailure: (f) => failures.push(f) });
    for (const line of [2, 3, 4, 5]) sink.record(outcome(line));
    sink.record(outcome(6, "aborted"));
    await sink.finish();
    expect(journal.taken.map((o) => o.line)).toEqual([2, 3]);
    expect(failures).toHaveLength(1);
    expect(sink.failure).toMatchObject({ path, errno: "ENOSPC", fallback: fallbackPath(path), saved: 2 });
    const lines = (await readFile(fallbackPath(path), "utf8")).trim().split("\n");
    expect(lines[0]).toMatch(/^line,customerId,/);
    expect(lines.slice(1).map((l) => l.split(",")[0])).toEqual(["4", "5"]);
    expect(journal.finalized).toBe(false); // no compaction on a failing file system
  });

  it("writes to stderr as CSV when the fallback file cannot be created either", async () => {
    const stderr = new PassThrough();
    let text = "";
    stderr.on("data", (chunk: Buffer) => (text += chunk.toString()));
    const sink = createResultsSink({ journal: journalWithRoom(0, "EIO"), path: "/nonexistent-dir/results.csv", stderr, onFailure: () => undefined });
    sink.record(outcome(2));
    await sink.finish();
    expect(sink.failure).toMatchObject({ errno: "EIO", fallback: "stderr", saved: 1 });
    expect(text.split("\n").filter((l) => l !== "").map((l) => l.split(",")[0])).toEqual(["line", "2"]);
  });

  it("lets an exception that is not the file system's through: a bug is not a results failure", () => {
    const journal: ResultsJournal = { record: () => { throw new TypeError("a bug"); }, flush: () => undefined, takeUnwritten: () => [], finalize: async () => ({ rows: 0 }), close: async () => {} };
    const sink = createResultsSink({ journal, path: "r.csv", stderr: new PassThrough(), onFailure: () => undefined });
    expect(() => sink.record(outcome(2))).toThrow("a bug");
    expect(sink.failure).toBeUndefined();
  });
});

describe("a plan's batched journal on a full disk", () => {
  it("sends every outcome of the refused batch and after it (never-sent rows excepted) to the fallback", async () => {
    dir = await mkdtemp(join(tmpdir(), "lr-sink-"));
    const path = join(dir, "results.csv");
    // /dev/full refuses every write with ENOSPC, as a full file system does.
    const fd = openSync("/dev/full", "w");
    const journal = new FileResultsJournal(fd, path, new LatestEntryIndex(), 0, 60_000, 512);
    const failures: ResultsWriteFailure[] = [];
    const sink = createResultsSink({ journal, path, stderr: new PassThrough(), onFailure: (f) => failures.push(f) });
    for (const line of [2, 3, 4, 5, 6, 7, 8, 9]) sink.record(outcome(line, line === 4 ? "aborted" : "planned"));
    await sink.finish();
    expect(failures).toHaveLength(1);
    expect(sink.failure).toMatchObject({ errno: "ENOSPC", fallback: fallbackPath(path), saved: 7 });
    const lines = (await readFile(fallbackPath(path), "utf8")).trim().split("\n");
    expect(lines.slice(1).map((l) => l.split(",")[0])).toEqual(["2", "3", "5", "6", "7", "8", "9"]);
  });
});

describe("a run's journal, written a task at a time", () => {
  it("writes what a task recorded in one write before the next task runs", async () => {
    dir = await mkdtemp(join(tmpdir(), "lr-sink-"));
    const path = join(dir, "results.csv");
    const fd = openSync(path, "w");
    const journal = new FileResultsJournal(fd, path, new LatestEntryIndex(), 0, 60_000, 64 * 1024);
    const sink = createResultsSink({ journal, path, stderr: new PassThrough(), onFailure: () => undefined, flushAfterTask: true });
    sink.record(outcome(2));
    sink.record(outcome(3));
    // The next task (a timer, an answer, a request being sent) finds both lines on file.
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect((await readFile(path, "utf8")).split("\n").map((l) => l.split(",")[0])).toEqual(["2", "3", ""]);
    sink.record(outcome(4));
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect((await readFile(path, "utf8")).trim().split("\n")).toHaveLength(3);
    await journal.close();
  });

  it("on a full disk, reports the failure once, before the next task, and sends the task's outcomes to the fallback", async () => {
    dir = await mkdtemp(join(tmpdir(), "lr-sink-"));
    const path = join(dir, "results.csv");
    const fd = openSync("/dev/full", "w");
    const journal = new FileResultsJournal(fd, path, new LatestEntryIndex(), 0, 60_000, 64 * 1024);
    const failures: ResultsWriteFailure[] = [];
    const sink = createResultsSink({ journal, path, stderr: new PassThrough(), onFailure: (f) => failures.push(f), flushAfterTask: true });
    for (const line of [2, 3, 4]) sink.record(outcome(line, line === 3 ? "aborted" : "assigned"));
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(failures).toHaveLength(1);
    sink.record(outcome(5));
    await sink.finish();
    expect(sink.failure).toMatchObject({ errno: "ENOSPC", fallback: fallbackPath(path), saved: 3 });
    const lines = (await readFile(fallbackPath(path), "utf8")).trim().split("\n");
    expect(lines.slice(1).map((l) => l.split(",")[0])).toEqual(["2", "4", "5"]);
  });
});
