import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parse } from "csv-parse/sync";
import { openResultsJournal, type ResultsJournal } from "../../dist/results/journal.js";
import { fingerprintRoster } from "../../dist/results/fingerprint.js";
import { formatOutcomeLine } from "../../dist/results/csv-cells.js";
import { RESULT_COLUMNS } from "../../dist/model.js";
import { outcome } from "../support/outcomes.js";

const BOM = "\uFEFF";
const HEADER = `${RESULT_COLUMNS.join(",")}\n`;

/** The data lines of a results file, parsed, after checking its BOM and header. */
async function readResults(path: string): Promise<string[][]> {
  const text = await readFile(path, "utf8");
  expect(text.startsWith(BOM + HEADER)).toBe(true);
  return parse(text.slice(BOM.length + HEADER.length)) as string[][];
}
const lineOf = (cells: string[]) => Number(cells[0]);
const statusOf = (cells: string[]) => cells[RESULT_COLUMNS.indexOf("status")];

let dir: string;
let roster: string;
let results: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "journal-"));
  roster = join(dir, "roster.csv");
  results = join(dir, "roster.csv.results.csv");
  await writeFile(roster, "customerId,userId,sku\na,b,c\n");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function open(resume: boolean, fingerprint?: string): Promise<ResultsJournal> {
  const opened = await openResultsJournal({
    path: results,
    rosterFingerprint: fingerprint ?? (await fingerprintRoster(roster)),
    resume,
    rosterName: "roster.csv",
  });
  if (!opened.ok) throw new Error(opened.message);
  return opened.journal;
}

describe("results journal", () => {
  it("starts with a BOM and the header, and has each line on disk as soon as it is recorded", async () => {
    const journal = await open(false);
    expect(await readFile(results, "utf8")).toBe(BOM + HEADER);
    journal.record(outcome(3, "assigned"));
    // Read straight away, before any close: the line is already in the file.
    expect(await readFile(results, "utf8")).toBe(BOM + HEADER + formatOutcomeLine(outcome(3, "assigned")));
    journal.record(outcome(2, "failed", { errorCode: "60012", httpStatus: 400 }));
    const rows = await readResults(results);
    expect(rows.map(lineOf)).toEqual([3, 2]);
    await journal.close();
  });

  it("writes a sidecar with the roster fingerprint", async () => {
    const journal = await open(false);
    await journal.close();
    const sidecar = JSON.parse(await readFile(`${results}.run.json`, "utf8"));
    expect(sidecar.fingerprint).toBe(await fingerprintRoster(roster));
    expect(sidecar.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(sidecar.roster).toBe("roster.csv");
    expect(typeof sidecar.startedAt).toBe("string");
    expect(typeof sidecar.toolVersion).toBe("string");
  });

  it("finalize leaves one line per input line, the last entry winning, sorted by line", async () => {
    const journal = await open(false);
    journal.record(outcome(5, "failed", { errorCode: "500" }));
    journal.record(outcome(2, "assigned"));
    journal.record(outcome(4, "invalid", { errorCode: "UNKNOWN_SKU", errorMessage: 'no "SKU",\nhere' }));
    journal.record(outcome(5, "assigned", { attempts: 2 }));
    journal.record(outcome(3, "aborted"));
    expect(await journal.finalize()).toEqual({ rows: 4 });
    await journal.close(); // a no-op after finalize
    const rows = await readResults(results);
    expect(rows.map(lineOf)).toEqual([2, 3, 4, 5]);
    expect(rows.map(statusOf)).toEqual(["assigned", "aborted", "invalid", "assigned"]);
    expect(rows[2]![RESULT_COLUMNS.indexOf("errorMessage")]).toBe('no "SKU",\nhere');
    expect(rows[3]![RESULT_COLUMNS.indexOf("attempts")]).toBe("2");
    const leftovers = (await import("node:fs/promises")).readdir(dir);
    expect((await leftovers).sort()).toEqual(["roster.csv", "roster.csv.results.csv", "roster.csv.results.csv.run.json"]);
  });

  it("finalize leaves a journal written in line order, each line once, in place (no rewrite)", async () => {
    const journal = await open(false);
    for (const line of [2, 3, 5]) journal.record(outcome(line, "planned"));
    const before = await stat(results);
    expect(await journal.finalize()).toEqual({ rows: 3 });
    const after = await stat(results);
    expect(after.ino).toBe(before.ino); // the same file, not a renamed copy
    expect(await readFile(results, "utf8")).toBe(BOM + HEADER + [2, 3, 5].map((line) => formatOutcomeLine(outcome(line, "planned"))).join(""));
  });

  it("finalize rewrites a journal with a superseded entry even when its lines are in order", async () => {
    const journal = await open(false);
    journal.record(outcome(2, "failed"));
    journal.record(outcome(2, "assigned", { attempts: 2 }));
    journal.record(outcome(3, "assigned"));
    const before = await stat(results);
    expect(await journal.finalize()).toEqual({ rows: 2 });
    expect((await stat(results)).ino).not.toBe(before.ino);
    expect(await readFile(results, "utf8")).toBe(BOM + HEADER + formatOutcomeLine(outcome(2, "assigned", { attempts: 2 })) + formatOutcomeLine(outcome(3, "assigned")));
  });

  it("without --resume replaces an existing results file", async () => {
    const first = await open(false);
    first.record(outcome(2, "assigned"));
    await first.finalize();
    const second = await open(false);
    await second.finalize();
    expect(await readResults(results)).toEqual([]);
  });

  it("resume keeps the last entry per line, reports done lines, ignores a torn last line and appends after it", async () => {
    const first = await open(false);
    first.record(outcome(2, "failed", { errorCode: "60012" }));
    first.record(outcome(3, "assigned", { requestId: "req-3" }));
    first.record(outcome(4, "assigned"));
    first.record(outcome(2, "assigned", { requestId: "req-2" }));
    first.record(outcome(4, "failed", { errorCode: "500" }));
    first.record(outcome(5, "removed", { action: "remove" }));
    first.record(outcome(6, "skipped"));
    first.record(outcome(7, "aborted", { errorCode: "INTERRUPTED" }));
    await first.close();
    // A crash in the middle of a write: half a record, with an open quote, and no line feed.
    await appendFile(results, '8,0c6f1a2b-1111-4222-8333-944455556666,,,"Microsoft 365');

    const opened = await openResultsJournal({ path: results, rosterFingerprint: await fingerprintRoster(roster), resume: true });
    if (!opened.ok) throw new Error(opened.message);
    expect([...opened.done.keys()].sort((a, b) => a - b)).toEqual([2, 3, 5, 6]);
    expect(opened.done.get(2)).toMatchObject({ status: "assigned", requestId: "req-2" });
    expect(opened.done.get(3)).toMatchObject({ status: "assigned", requestId: "req-3" });
    // The earlier outcomes stay on disk until finalize; the torn tail is gone.
    const text = await readFile(results, "utf8");
    expect(text).not.toContain('"Microsoft 365');
    expect(text.endsWith("\n")).toBe(true);

    const { journal } = opened;
    journal.record(outcome(4, "assigned"));
    journal.record(outcome(7, "assigned"));
    journal.record(outcome(8, "assigned"));
    expect(await journal.finalize()).toEqual({ rows: 7 });
    const rows = await readResults(results);
    expect(rows.map(lineOf)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(rows.map(statusOf)).toEqual(["assigned", "assigned", "assigned", "removed", "skipped", "assigned", "assigned"]);
  });

  it("done lines answer as of opening, read back from the file, until the journal closes", async () => {
    const first = await open(false);
    first.record(outcome(2, "assigned", { requestId: "req-2", errorMessage: 'a "quoted",\nmessage', licenseWarnings: [{ code: "W1", message: "x|y", servicePlans: ["EXCHANGE_S_STANDARD"] }] }));
    first.record(outcome(3, "failed", { errorCode: "500" }));
    await first.close();

    const opened = await openResultsJournal({ path: results, rosterFingerprint: await fingerprintRoster(roster), resume: true });
    if (!opened.ok) throw new Error(opened.message);
    const { done, journal } = opened;
    const expected = outcome(2, "assigned", { requestId: "req-2", errorMessage: 'a "quoted",\nmessage', licenseWarnings: [{ code: "W1", message: "x|y", servicePlans: ["EXCHANGE_S_STANDARD"] }] });
    expect(done.get(2)).toEqual(expected);
    expect([done.has(2), done.has(3), done.has(1), done.has(99), done.has(-1), done.size]).toEqual([true, false, false, false, false, 1]);
    expect(done.get(3)).toBeUndefined();
    // Later entries (the runner re-records done lines as skipped) do not change the answers.
    journal.record(outcome(2, "skipped", { requestId: "req-2" }));
    journal.record(outcome(3, "assigned"));
    expect(done.get(2)).toEqual(expected);
    expect(done.has(3)).toBe(false);
    await journal.close();
    // The fd is gone (its number may be another file's by now): get refuses rather than guess.
    expect(() => done.get(2)).toThrow("the results journal is closed");
    expect(done.has(2)).toBe(true);
  });

  it("resume of a missing results file starts fresh", async () => {
    const opened = await openResultsJournal({ path: results, rosterFingerprint: await fingerprintRoster(roster), resume: true });
    expect(opened.ok).toBe(true);
    if (!opened.ok) return;
    expect(opened.done.size).toBe(0);
    await opened.journal.finalize();
    expect(await readFile(results, "utf8")).toBe(BOM + HEADER);
  });

  it("resume refuses a results file of another roster, and leaves it untouched", async () => {
    const journal = await open(false);
    journal.record(outcome(2, "assigned"));
    await journal.finalize();
    const before = await readFile(results);
    await writeFile(roster, "customerId,userId,sku\na,b,CHANGED\n");
    const opened = await openResultsJournal({ path: results, rosterFingerprint: await fingerprintRoster(roster), resume: true, rosterName: "roster.csv" });
    expect(opened.ok).toBe(false);
    if (opened.ok) return;
    expect(opened.code).toBe("FINGERPRINT_MISMATCH");
    expect(opened.message).toContain('"roster.csv"');
    expect(opened.message).toContain("--resume");
    expect(await readFile(results)).toEqual(before);
  });

  it("resume refuses a results file without a sidecar, and a stdin roster", async () => {
    await writeFile(results, BOM + HEADER + formatOutcomeLine(outcome(2, "assigned")));
    const noSidecar = await openResultsJournal({ path: results, rosterFingerprint: "sha256:00", resume: true });
    expect(noSidecar.ok ? "ok" : noSidecar.code).toBe("NO_FINGERPRINT");
    const stdin = await openResultsJournal({ path: results, rosterFingerprint: undefined, resume: true });
    expect(stdin.ok ? "ok" : stdin.code).toBe("RESUME_NEEDS_FILE");
  });

  it("resume refuses a file that is not a results file", async () => {
    const journal = await open(false);
    await journal.close();
    await writeFile(results, "name,age\nbob,4\n");
    const opened = await openResultsJournal({ path: results, rosterFingerprint: await fingerprintRoster(roster), resume: true });
    expect(opened.ok ? "ok" : opened.code).toBe("UNREADABLE_RESULTS");
  });

  it("drops a broken record in the middle so that line runs again", async () => {
    const journal = await open(false);
    journal.record(outcome(2, "assigned"));
    await journal.close();
    await appendFile(results, "3,this,is,not,a,results,line\n");
    await appendFile(results, formatOutcomeLine(outcome(4, "assigned")));
    const opened = await openResultsJournal({ path: results, rosterFingerprint: await fingerprintRoster(roster), resume: true });
    if (!opened.ok) throw new Error(opened.message);
    expect([...opened.done.keys()].sort()).toEqual([2, 4]);
    opened.journal.record(outcome(3, "failed"));
    await opened.journal.finalize();
    expect((await readResults(results)).map(statusOf)).toEqual(["assigned", "failed", "assigned"]);
  });

  it("fingerprints the roster's bytes", async () => {
    const a = await fingerprintRoster(roster);
    await writeFile(roster, "customerId,userId,sku\na,b,c\r\n");
    expect(await fingerprintRoster(roster)).not.toBe(a);
    expect((await stat(roster)).size).toBeGreaterThan(0);
  });

  it("keeps every recorded line when the process is killed with SIGKILL right after recording", async () => {
    const journalModule = fileURLToPath(new URL("../../dist/results/journal.js", import.meta.url));
    const fingerprint = await fingerprintRoster(roster);
    const script = `
      const { openResultsJournal } = await import(${JSON.stringify(journalModule)});
      const opened = await openResultsJournal({ path: ${JSON.stringify(results)}, rosterFingerprint: ${JSON.stringify(fingerprint)}, resume: false });
      for (const line of [2, 3, 4]) opened.journal.record({ ...${JSON.stringify(outcome(0, "assigned"))}, line });
      process.kill(process.pid, "SIGKILL");
    `;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(child.signal).toBe("SIGKILL");
    const opened = await openResultsJournal({ path: results, rosterFingerprint: fingerprint, resume: true });
    if (!opened.ok) throw new Error(opened.message);
    expect([...opened.done.keys()].sort()).toEqual([2, 3, 4]);
    await opened.journal.close();
  });
});
