// --resume takes back the outcomes a run could not write to its results file (the fallback file
// next to it), so their rows count as done; a fallback from an earlier run, or one that is not a
// results file, is left as it is and takes nothing back.
import { beforeEach, describe, expect, it } from "vitest";
import { access, appendFile, readFile, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { openResultsJournal } from "../../dist/results/journal.js";
import { formatOutcomeLine, RESULTS_HEADER_LINE } from "../../dist/results/csv-cells.js";
import { outcome } from "../support/outcomes.js";
import { tempDir } from "../support/temp-dir.js";

const FINGERPRINT = "sha256:00";

const done = (line: number) => outcome(line, "assigned", { httpStatus: 201 });

let results: string;
let fallback: string;
beforeEach(async () => {
  results = join(await tempDir("unsaved-"), "results.csv");
  fallback = `${results}.unsaved.csv`;
  // A first run: lines 1 and 2 in the results file, then the disk filled up: 3 and 4 went to the fallback.
  const first = await openResultsJournal({ path: results, rosterFingerprint: FINGERPRINT, resume: false });
  if (!first.ok) throw new Error(first.message);
  first.journal.record(done(1));
  first.journal.record(outcome(2, "failed"));
  await first.journal.close();
  await writeFile(fallback, RESULTS_HEADER_LINE + formatOutcomeLine(done(3)) + formatOutcomeLine(done(4)));
});

const resume = () => openResultsJournal({ path: results, rosterFingerprint: FINGERPRINT, resume: true });

describe("--resume and the fallback file", () => {
  it("takes its outcomes back: their lines are done, the fallback is removed and the final file holds them", async () => {
    const opened = await resume();
    if (!opened.ok) throw new Error(opened.message);
    expect(opened.unsaved).toEqual({ kind: "taken-back", path: fallback, outcomes: 2 });
    expect([...opened.done.keys()]).toEqual([1, 3, 4]);
    expect(opened.done.get(3)?.status).toBe("assigned");
    await expect(access(fallback)).rejects.toThrow();
    await opened.journal.finalize();
    const lines = (await readFile(results, "utf8")).split("\n").filter(Boolean).slice(1).map((l) => l.split(",")[0]);
    expect(lines).toEqual(["1", "2", "3", "4"]);
  });

  it("leaves a torn last record out (the run was killed mid-line) and takes back the complete ones", async () => {
    await appendFile(fallback, formatOutcomeLine(done(5)).slice(0, 40));
    const opened = await resume();
    if (!opened.ok) throw new Error(opened.message);
    expect(opened.unsaved).toMatchObject({ kind: "taken-back", outcomes: 2 });
    expect(opened.done.has(5)).toBe(false);
    await opened.journal.close();
  });

  it("leaves a fallback older than the results file's run as it is: it is another run's", async () => {
    const old = new Date(Date.now() - 3_600_000);
    await utimes(fallback, old, old);
    const opened = await resume();
    if (!opened.ok) throw new Error(opened.message);
    expect(opened.unsaved).toEqual({ kind: "stale", path: fallback });
    expect([...opened.done.keys()]).toEqual([1]);
    await access(fallback);
    await opened.journal.close();
  });

  it("leaves a file that is not a results file as it is, and takes nothing back", async () => {
    await writeFile(fallback, "customerId,userId,sku\nsomething,else,entirely\n");
    const opened = await resume();
    if (!opened.ok) throw new Error(opened.message);
    expect(opened.unsaved).toMatchObject({ kind: "unreadable", reason: "it does not start with the results header" });
    expect([...opened.done.keys()]).toEqual([1]);
    await access(fallback);
    await opened.journal.close();
  });

  it("a fresh run (no --resume) does not read it", async () => {
    const opened = await openResultsJournal({ path: results, rosterFingerprint: FINGERPRINT, resume: false });
    if (!opened.ok) throw new Error(opened.message);
    expect(opened.unsaved).toEqual({ kind: "none" });
    expect(opened.done.size).toBe(0);
    await opened.journal.close();
  });
});
