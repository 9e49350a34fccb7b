// The open results journal: appends each outcome the moment it is known, syncs on a cadence, and
// compacts the file at the end.
//
// Durability: record() writes the line with a synchronous write to the file descriptor, so the
// line is in the kernel's page cache before record() returns and survives the process being
// killed (even kill -9). fdatasync runs at most every syncIntervalMs and at finalize/close: a
// power loss or kernel crash loses at most that window of outcomes, which --resume then re-runs.
import { closeSync, fdatasync, fdatasyncSync, readSync, writeSync } from "node:fs";
import type { RowOutcome } from "../model.js";
import { compactJournal } from "./compact.js";
import { formatOutcomeLine, RESULTS_HEADER_LINE, UTF8_BOM } from "./csv-cells.js";
import type { LatestEntryIndex } from "./line-index.js";

export const SYNC_INTERVAL_MS = 250;

export const HEADER_BYTES = Buffer.from(UTF8_BOM + RESULTS_HEADER_LINE, "utf8");

export interface ResultsJournal {
  /** Appends the outcome to the file at once (a later entry for the same line supersedes it). */
  record(outcome: RowOutcome): void;
  /** Syncs, closes and compacts to one line per recorded input line, sorted by line, atomically. */
  finalize(): Promise<{ rows: number }>;
  /** Syncs and closes without compacting (the file stays a valid, resumable journal). */
  close(): Promise<void>;
}

export class FileResultsJournal implements ResultsJournal {
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
    const line = formatOutcomeLine(outcome);
    const length = Buffer.byteLength(line, "utf8");
    // The string straight to the file: no Buffer per line. A short write (rare) goes on from a copy.
    let written = writeSync(this.fd, line, this.end, "utf8");
    if (written < length) {
      const bytes = Buffer.from(line, "utf8");
      while (written < length) written += writeSync(this.fd, bytes, written, length - written, this.end + written);
    }
    this.index.set(outcome.line, this.end, length);
    this.end += length;
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
