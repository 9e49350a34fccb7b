// The open results journal: appends each outcome the moment it is known, syncs on a cadence, and
// compacts the file at the end.
//
// Durability: the lines go to the file descriptor with synchronous writes, so a line is in the
// kernel's page cache once written and survives the process being killed (even kill -9).
// fdatasync runs at most every syncIntervalMs and at finalize/close: a power loss or kernel crash
// loses at most that window of outcomes, which --resume then re-runs. Lines are written as
// record() takes them, or in batches (`batchBytes`) a flush() writes: a run's sink flushes the
// lines of each task right after it (before the next answer, timer or signal is handled), a plan's at
// the end of each customer (a plan sends nothing, so a line lost with the process is only planned
// again, and a million one-line writes cost seconds).
import { closeSync, fdatasync, fdatasyncSync, readSync, writeSync } from "node:fs";
import type { RowOutcome } from "../model.js";
import { compactJournal } from "./compact.js";
import { appendOutcomeLine, formatOutcomeLine, RESULTS_HEADER_LINE, UTF8_BOM, type LineBytes } from "./csv-cells.js";
import type { LatestEntryIndex } from "./line-index.js";

export const SYNC_INTERVAL_MS = 250;

/** Room past a batch's size for the line that fills it (a longer one grows the buffer). */
const BATCH_SLACK = 16 * 1024;

export const HEADER_BYTES = Buffer.from(UTF8_BOM + RESULTS_HEADER_LINE, "utf8");

/** A line the journal could not write when the file refused it (the sink saves it elsewhere). */
export interface UnwrittenLine {
  text: string;
  aborted: boolean;
}

export interface ResultsJournal {
  /**
   * Appends the outcome to the file at once, or in a batch (a later entry for the same line
   * supersedes it). When the file refuses a write it throws, and the outcomes it could not write
   * (this one included) are in takeUnwritten().
   */
  record(outcome: RowOutcome): void;
  /** Writes a pending batch now (throws like record). */
  flush(): void;
  /** The lines a failed write left unwritten, once. */
  takeUnwritten(): UnwrittenLine[];
  /** Syncs, closes and compacts to one line per recorded input line, sorted by line, atomically. */
  finalize(): Promise<{ rows: number }>;
  /** Syncs and closes without compacting (the file stays a valid, resumable journal). */
  close(): Promise<void>;
}

export class FileResultsJournal implements ResultsJournal {
  private closed = false;
  private syncTimer: NodeJS.Timeout | undefined;
  private syncInFlight: Promise<void> | undefined;
  /**
   * The batch not written yet: its lines' bytes, and each one's line number, byte length and
   * whether it is aborted. The bytes are gathered in one buffer kept for the journal's life: a
   * string handed to writeSync is copied into fresh native memory on every call, which the
   * allocator keeps (well over 100 MB of RSS over a 5,000,000-row plan).
   */
  private readonly pending: LineBytes = { bytes: Buffer.alloc(0), length: 0 };
  private readonly pendingLines: number[] = [];
  private readonly pendingLengths: number[] = [];
  private readonly pendingAborted: boolean[] = [];
  private unwritten: UnwrittenLine[] = [];

  constructor(
    private readonly fd: number,
    private readonly path: string,
    private readonly index: LatestEntryIndex,
    private end: number,
    private readonly syncIntervalMs: number,
    /** 0: every line is written before record() returns; else lines are written this many bytes at a time. */
    private readonly batchBytes = 0,
  ) {}

  record(outcome: RowOutcome): void {
    if (this.closed) throw new Error("the results journal is closed");
    if (this.batchBytes === 0) {
      const line = formatOutcomeLine(outcome);
      const length = Buffer.byteLength(line, "utf8");
      try {
        this.writeText(line, length);
      } catch (error) {
        this.unwritten = [{ text: line, aborted: outcome.status === "aborted" }];
        throw error;
      }
      this.index.set(outcome.line, this.end, length);
      this.end += length;
      this.scheduleSync();
      return;
    }
    const pending = this.pending;
    if (pending.bytes.length === 0) pending.bytes = Buffer.allocUnsafe(this.batchBytes + BATCH_SLACK);
    const start = pending.length;
    appendOutcomeLine(outcome, pending);
    this.pendingLines.push(outcome.line);
    this.pendingLengths.push(pending.length - start);
    this.pendingAborted.push(outcome.status === "aborted");
    if (pending.length >= this.batchBytes) this.flush();
  }

  flush(): void {
    if (this.pendingLines.length === 0) return;
    const bytes = this.pending.bytes.subarray(0, this.pending.length);
    const lengths = this.pendingLengths;
    let written = 0;
    let failure: unknown;
    try {
      written = this.writeBatch(bytes);
    } catch (error) {
      written = (error as { written?: number }).written ?? 0;
      failure = error;
    }
    // Index the lines written whole; a failure leaves the rest to the sink.
    let at = 0;
    let lineIndex = 0;
    for (; lineIndex < this.pendingLines.length; lineIndex++) {
      const length = lengths[lineIndex]!;
      if (at + length > written) break;
      this.index.set(this.pendingLines[lineIndex]!, this.end + at, length);
      at += length;
    }
    if (failure !== undefined) {
      // A line written in part is saved whole elsewhere (the torn copy is cut on --resume).
      const unwritten: UnwrittenLine[] = [];
      for (let k = lineIndex; k < this.pendingLines.length; k++) {
        unwritten.push({ text: bytes.toString("utf8", at, at + lengths[k]!), aborted: this.pendingAborted[k]! });
        at += lengths[k]!;
      }
      this.unwritten = unwritten;
    }
    this.end += written;
    this.pending.length = 0;
    this.pendingLines.length = 0;
    this.pendingLengths.length = 0;
    this.pendingAborted.length = 0;
    if (failure !== undefined) throw failure;
    this.scheduleSync();
  }

  takeUnwritten(): UnwrittenLine[] {
    const lines = this.unwritten;
    this.unwritten = [];
    return lines;
  }

  /** Writes the encoded batch at the end; returns the bytes written, or throws (with `written` set). */
  private writeBatch(bytes: Buffer): number {
    const length = bytes.length;
    let written = 0;
    try {
      while (written < length) written += writeSync(this.fd, bytes, written, length - written, this.end + written);
    } catch (error) {
      if (error !== null && typeof error === "object") (error as { written?: number }).written = written;
      throw error;
    }
    return written;
  }

  /** Writes `length` bytes of `text` at the end; returns them written, or throws (with `written` set). */
  private writeText(text: string, length: number): number {
    // The string straight to the file: no Buffer per line. A short write (rare) goes on from a copy.
    let written = 0;
    try {
      written = writeSync(this.fd, text, this.end, "utf8");
      if (written < length) {
        const bytes = Buffer.from(text, "utf8");
        while (written < length) written += writeSync(this.fd, bytes, written, length - written, this.end + written);
      }
    } catch (error) {
      if (error !== null && typeof error === "object") (error as { written?: number }).written = written;
      throw error;
    }
    return written;
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
    this.flush();
    await this.close();
    return compactJournal(this.path, this.index, HEADER_BYTES);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      this.flush();
    } catch {
      // close() keeps what is on file: a batch the file refuses stays in takeUnwritten()
    }
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
