// The results file as a crash-safe journal: every outcome is appended the moment it is known, a
// resumed run reads back what earlier runs did, and finalize() compacts the file to one line per
// input line, in line order.
//
// Durability: record() writes the line with a synchronous write to the file descriptor, so the
// line is in the kernel's page cache before record() returns and survives the process being
// killed (even kill -9). fdatasync runs at most every SYNC_INTERVAL_MS and at finalize/close: a
// power loss or kernel crash loses at most that window of outcomes, which --resume then re-runs.
//
// Resume in bounded memory: the lines earlier runs finished are not held as objects (a million of
// them take hundreds of MB) but as a bit set plus where each one's entry sits in the file; an
// outcome is read back and parsed only when asked for. The file only grows while the journal is
// open, so those byte ranges stay valid until it closes.
import { closeSync, fdatasync, fdatasyncSync, openSync, readFileSync, readSync, writeSync } from "node:fs";
import { open, stat } from "node:fs/promises";
import type { RowOutcome, RowStatus } from "../model.js";
import { compactJournal } from "./compact.js";
import { formatOutcomeLine, parseOutcomeLine, RESULTS_HEADER_LINE, UTF8_BOM } from "./csv-cells.js";
import { EntrySnapshot, LatestEntryIndex, LineSet } from "./line-index.js";
import { scanRecords } from "./record-scanner.js";
import { readRunRecord, sidecarPath, writeRunRecord, type RunRecord } from "./sidecar.js";

const SYNC_INTERVAL_MS = 250;

/** A line whose latest status is one of these is not run again by --resume. */
const DONE_STATUSES: ReadonlySet<RowStatus> = new Set<RowStatus>(["assigned", "removed", "skipped", "unchanged"]);

const HEADER_BYTES = Buffer.from(UTF8_BOM + RESULTS_HEADER_LINE, "utf8");

export interface JournalOptions {
  path: string;
  /** undefined: the roster came from stdin, which cannot be resumed. */
  rosterFingerprint: string | undefined;
  resume: boolean;
  /** The roster as the user named it, kept in the sidecar for messages. */
  rosterName?: string;
  /** Defaults to package.json's version. */
  toolVersion?: string;
  clock?: () => Date;
  /** How often at most to fdatasync; default 250 ms. */
  syncIntervalMs?: number;
}

export type OpenJournalErrorCode =
  | "FINGERPRINT_MISMATCH"
  | "NO_FINGERPRINT"
  | "UNREADABLE_RESULTS"
  | "RESUME_NEEDS_FILE"
  | "UNWRITABLE_RESULTS";

export type OpenJournalResult =
  | {
      ok: true;
      journal: ResultsJournal;
      /** Lines already assigned/removed/skipped by earlier runs (resume only), with their latest outcome. */
      done: DoneLines;
    }
  | { ok: false; code: OpenJournalErrorCode; message: string };

/**
 * The lines earlier runs finished, as they were when the journal was opened: later entries for
 * them do not change what this answers. get() reads the outcome from the results file, so it
 * works only until the journal is closed or finalized (it throws after that).
 */
export interface DoneLines {
  has(line: number): boolean;
  /** The line's outcome when its latest entry is assigned/removed/skipped, else undefined. */
  get(line: number): RowOutcome | undefined;
  /** How many lines are done. */
  readonly size: number;
  /** The done lines, ascending. */
  keys(): IterableIterator<number>;
}

export interface ResultsJournal {
  /** Appends the outcome to the file at once (a later entry for the same line supersedes it). */
  record(outcome: RowOutcome): void;
  /** Syncs, closes and compacts to one line per recorded input line, sorted by line, atomically. */
  finalize(): Promise<{ rows: number }>;
  /** Syncs and closes without compacting (the file stays a valid, resumable journal). */
  close(): Promise<void>;
}

export async function openResultsJournal(options: JournalOptions): Promise<OpenJournalResult> {
  const { path, rosterFingerprint, resume } = options;
  const now = (options.clock ?? (() => new Date()))().toISOString();
  const runRecord: RunRecord = {
    fingerprint: rosterFingerprint ?? null,
    roster: options.rosterName ?? null,
    startedAt: now,
    toolVersion: options.toolVersion ?? packageVersion(),
  };
  const syncIntervalMs = options.syncIntervalMs ?? SYNC_INTERVAL_MS;

  if (resume) {
    if (rosterFingerprint === undefined) {
      return {
        ok: false,
        code: "RESUME_NEEDS_FILE",
        message: "--resume needs the roster as a file (--input FILE): a roster read from stdin cannot be matched to its results.",
      };
    }
    if (await exists(path)) {
      const refusal = await checkOwnership(path, rosterFingerprint, options.rosterName);
      if (refusal) return refusal;
      const loaded = await loadJournal(path);
      if (!loaded.ok) return loaded;
      if (loaded.fresh) return startFresh(path, runRecord, syncIntervalMs);
      const previous = await readRunRecord(path);
      const kept: RunRecord = previous.ok ? { ...previous.record, resumedAt: now } : runRecord;
      try {
        await writeRunRecord(path, kept);
        const fd = openSync(path, "r+");
        const journal = new FileResultsJournal(fd, path, loaded.index, loaded.end, syncIntervalMs);
        return { ok: true, journal, done: new JournalDoneLines(loaded.done, journal) };
      } catch (error) {
        return unwritable(path, error);
      }
    }
  }
  return startFresh(path, runRecord, syncIntervalMs);
}

async function startFresh(path: string, runRecord: RunRecord, syncIntervalMs: number): Promise<OpenJournalResult> {
  try {
    // Sidecar first: a results file without one is never taken for this roster's.
    await writeRunRecord(path, runRecord);
    const fd = openSync(path, "w");
    writeSync(fd, HEADER_BYTES, 0, HEADER_BYTES.length, 0);
    fdatasyncSync(fd);
    const journal = new FileResultsJournal(fd, path, new LatestEntryIndex(), HEADER_BYTES.length, syncIntervalMs);
    return { ok: true, journal, done: NO_DONE_LINES };
  } catch (error) {
    return unwritable(path, error);
  }
}

function unwritable(path: string, error: unknown): OpenJournalResult {
  const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  return { ok: false, code: "UNWRITABLE_RESULTS", message: `Cannot write the results file "${path}" (${reason}).` };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Refuses a results file that belongs to another roster, or whose roster cannot be told. */
async function checkOwnership(
  path: string,
  fingerprint: string,
  rosterName: string | undefined,
): Promise<OpenJournalResult | undefined> {
  const sidecar = await readRunRecord(path);
  const startOver = `Drop --resume to start over (that replaces "${path}"), or choose another --output.`;
  if (!sidecar.ok) {
    return {
      ok: false,
      code: "NO_FINGERPRINT",
      message:
        `Cannot resume "${path}": its roster fingerprint ${sidecarPath(path)} is ` +
        `${sidecar.missing ? "missing" : `unreadable (${sidecar.reason})`}, so it cannot be matched to this roster. ${startOver}`,
    };
  }
  const { record } = sidecar;
  if (record.fingerprint === null) {
    return {
      ok: false,
      code: "NO_FINGERPRINT",
      message: `Cannot resume "${path}": it was written for a roster read from stdin, which has no fingerprint. ${startOver}`,
    };
  }
  if (record.fingerprint !== fingerprint) {
    const owner = record.roster ? `the roster "${record.roster}"` : "another roster";
    const started = record.startedAt ? ` (run started ${record.startedAt})` : "";
    const current = rosterName ? `"${rosterName}"` : "this roster";
    return {
      ok: false,
      code: "FINGERPRINT_MISMATCH",
      message:
        `Cannot resume "${path}": it holds the results of ${owner}${started}, and ${current} differs from it ` +
        `(a changed or different file). Resume with that exact roster, or ${startOver.charAt(0).toLowerCase()}${startOver.slice(1)}`,
    };
  }
  return undefined;
}

type LoadedJournal =
  | { ok: true; fresh: true }
  | { ok: true; fresh: false; index: LatestEntryIndex; end: number; done: EntrySnapshot }
  | { ok: false; code: "UNREADABLE_RESULTS"; message: string };

/**
 * Reads an existing journal: indexes each line's latest complete entry, cuts off a torn last
 * record (a crash mid-write) so new entries start on a fresh line, and collects the done lines.
 */
async function loadJournal(path: string): Promise<LoadedJournal> {
  const unreadable = (why: string): LoadedJournal => ({
    ok: false,
    code: "UNREADABLE_RESULTS",
    message: `Cannot resume "${path}": ${why}. Drop --resume to start over (that replaces it), or choose another --output.`,
  });
  let handle;
  try {
    handle = await open(path, "r+");
  } catch (error) {
    return unreadable(`it cannot be opened (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    const index = new LatestEntryIndex();
    let headerSeen = false;
    let headerValid = false;
    const scan = await scanRecords(handle, ({ line, start, bytes }) => {
      if (start === 0) {
        headerSeen = true;
        headerValid = bytes.equals(HEADER_BYTES);
        return;
      }
      if (line !== undefined && line >= 1) index.set(line, start, bytes.length);
    });
    if (!headerSeen) {
      // Killed before the header was complete: nothing was recorded yet.
      const head = Buffer.alloc(Math.min(scan.size, HEADER_BYTES.length));
      await handle.read(head, 0, head.length, 0);
      if (scan.size <= HEADER_BYTES.length && HEADER_BYTES.subarray(0, head.length).equals(head)) return { ok: true, fresh: true };
      return unreadable("it does not start with the results header");
    }
    if (!headerValid) return unreadable("its header is not this version's results header");
    if (scan.completeEnd < scan.size) await handle.truncate(scan.completeEnd);

    // Second pass: parse only each line's latest entry. An entry that does not parse is dropped
    // from the index, so the line runs again and its new outcome replaces it. Done lines keep only
    // a bit here; their entries' places are copied out of the index afterwards.
    const doneLines = new LineSet(index.maxLine);
    const unparsable: number[] = [];
    await scanRecords(handle, ({ line, start, bytes }) => {
      if (line === undefined || index.offsetOf(line) !== start) return;
      const parsed = parseOutcomeLine(bytes.toString("utf8"));
      if (!parsed.ok || parsed.outcome.line !== line) unparsable.push(line);
      else if (DONE_STATUSES.has(parsed.outcome.status)) doneLines.add(line);
    });
    for (const line of unparsable) index.delete(line);
    return { ok: true, fresh: false, index, end: scan.completeEnd, done: new EntrySnapshot(index, doneLines) };
  } finally {
    await handle.close();
  }
}

const NO_DONE_LINES: DoneLines = {
  has: () => false,
  get: () => undefined,
  size: 0,
  keys: () => [][Symbol.iterator](),
};

class JournalDoneLines implements DoneLines {
  constructor(
    private readonly entries: EntrySnapshot,
    private readonly journal: FileResultsJournal,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  has(line: number): boolean {
    return this.entries.has(line);
  }

  get(line: number): RowOutcome | undefined {
    const entry = this.entries.entryOf(line);
    if (entry === undefined) return undefined;
    const text = this.journal.readEntry(entry.offset, entry.length).toString("utf8");
    const parsed = parseOutcomeLine(text);
    // It parsed when the journal was opened: anything else means the file was changed under us.
    if (!parsed.ok || parsed.outcome.line !== line) {
      throw new Error(`the results file changed while open: line ${line}'s entry no longer reads back`);
    }
    return parsed.outcome;
  }

  keys(): IterableIterator<number> {
    return this.entries.keys();
  }
}

class FileResultsJournal implements ResultsJournal {
  private closed = false;
  private syncTimer: NodeJS.Timeout | undefined;
  private syncInFlight: Promise<void> | undefined;

  constructor(
    private readonly fd: number,
    private readonly path: string,
    private readonly index: LatestEntryIndex,
    private end: number,
    private readonly syncIntervalMs: number,
  ) {}

  record(outcome: RowOutcome): void {
    if (this.closed) throw new Error("the results journal is closed");
    const bytes = Buffer.from(formatOutcomeLine(outcome), "utf8");
    let written = 0;
    while (written < bytes.length) {
      written += writeSync(this.fd, bytes, written, bytes.length - written, this.end + written);
    }
    this.index.set(outcome.line, this.end, bytes.length);
    this.end += bytes.length;
    this.scheduleSync();
  }

  /** The `length` bytes at `offset` of the results file, read at once (entries are never rewritten while open). */
  readEntry(offset: number, length: number): Buffer {
    // A closed fd's number may already belong to another file: never read through it.
    if (this.closed) throw new Error("the results journal is closed");
    const bytes = Buffer.allocUnsafe(length);
    let read = 0;
    while (read < length) {
      const got = readSync(this.fd, bytes, read, length - read, offset + read);
      if (got === 0) throw new Error(`the results file ends before byte ${offset + length}`);
      read += got;
    }
    return bytes;
  }

  async finalize(): Promise<{ rows: number }> {
    await this.close();
    return compactJournal(this.path, this.index, HEADER_BYTES);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.syncTimer) clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    // Never close the fd under a pending fdatasync: the number could be reused by another file.
    await this.syncInFlight;
    fdatasyncSync(this.fd);
    closeSync(this.fd);
  }

  private scheduleSync(): void {
    if (this.syncTimer !== undefined) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = undefined;
      if (this.closed) return;
      this.syncInFlight = new Promise((resolve) => fdatasync(this.fd, () => resolve()));
    }, this.syncIntervalMs);
    this.syncTimer.unref(); // a pending sync must not keep a finished process alive
  }
}

let cachedVersion: string | undefined;
function packageVersion(): string {
  if (cachedVersion === undefined) {
    try {
      const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
      cachedVersion = String((JSON.parse(text) as { version?: unknown }).version ?? "unknown");
    } catch {
      cachedVersion = "unknown";
    }
  }
  return cachedVersion;
}
