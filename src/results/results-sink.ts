// Where outcomes go: the results journal, and when it cannot take one (a full disk, a file-size
// limit, an I/O error), a fallback file next to it, or stderr as CSV if that fails too. The first
// failed write is reported once (onFailure) so the run stops like on a run-fatal error: nothing
// more is sent, and what was in flight is still recorded somewhere. Rows never sent (aborted) are
// not written to the fallback: no line for them means --resume runs them.
import { closeSync, openSync, writeSync } from "node:fs";
import type { RowOutcome } from "../model.js";
import { formatOutcomeLine, RESULTS_HEADER_LINE } from "./csv-cells.js";
import type { ResultsJournal } from "./journal-writer.js";

export function fallbackPath(resultsPath: string): string {
  return `${resultsPath}.unsaved.csv`;
}

export interface ResultsWriteFailure {
  path: string;
  errno: string;
  /** Where the outcomes the results file could not take went: a file, or "stderr". */
  fallback: string;
  /** How many outcomes went there. */
  saved: number;
}

export interface ResultsSink {
  /** Never throws: a failed write switches to the fallback and reports the failure once. */
  record(outcome: RowOutcome): void;
  /** Set once the results file failed. */
  readonly failure: ResultsWriteFailure | undefined;
  /** Writes what the journal holds in a batch (a plan's), now. Never throws, like record. */
  flush(): void;
  /** Finalizes the journal (compacts it), or after a failure closes what can be closed. */
  finish(): Promise<void>;
}

export function createResultsSink(options: {
  journal: ResultsJournal;
  path: string;
  onFailure: (failure: ResultsWriteFailure) => void;
  stderr: NodeJS.WritableStream;
  /**
   * The journal batches lines (a "task" journal): write what a task recorded in a microtask right
   * after it, before the process handles its next answer, timer or signal (a kill then finds them
   * on file as it would have). An answer's rows are recorded in one synchronous step, so they
   * reach the file in one write, not one each.
   */
  flushAfterTask?: boolean;
}): ResultsSink {
  const { journal, path } = options;
  let failure: ResultsWriteFailure | undefined;
  let fallbackFd: number | undefined;
  let flushQueued = false;

  const writeFallback = (text: string): void => {
    if (failure!.fallback !== "stderr") {
      try {
        writeAll(fallbackFd!, text);
        return;
      } catch {
        // the fallback file failed as well: what it holds stays; the rest goes to stderr
        failure!.fallback = "stderr";
        options.stderr.write(`${RESULTS_HEADER_LINE}`);
      }
    }
    options.stderr.write(text);
  };

  const startFallback = (errno: string): void => {
    failure = { path, errno, fallback: fallbackPath(path), saved: 0 };
    try {
      fallbackFd = openSync(failure.fallback, "w");
      writeAll(fallbackFd, RESULTS_HEADER_LINE);
    } catch {
      failure.fallback = "stderr";
      options.stderr.write(`${RESULTS_HEADER_LINE}`);
    }
  };

  /** The results file refused a write: the outcomes it could not take go to the fallback (never sent ones excepted). */
  const refused = (error: unknown): void => {
    // Only the file system's refusals (ENOSPC, EFBIG, EIO...) are a results failure; a bug is not.
    if (typeof (error as NodeJS.ErrnoException).code !== "string") throw error;
    startFallback(errnoOf(error));
    options.onFailure(failure!);
    for (const line of journal.takeUnwritten()) {
      if (line.aborted) continue;
      writeFallback(line.text);
      failure!.saved += 1;
    }
  };

  const flush = (): void => {
    if (failure) return;
    try {
      journal.flush();
    } catch (error) {
      refused(error);
    }
  };
  const flushQueuedTask = (): void => {
    flushQueued = false;
    flush();
  };

  return {
    get failure() {
      return failure;
    },
    record(outcome) {
      if (!failure) {
        try {
          journal.record(outcome);
        } catch (error) {
          refused(error);
          return;
        }
        if (options.flushAfterTask && !flushQueued) {
          flushQueued = true;
          queueMicrotask(flushQueuedTask);
        }
        return;
      }
      if (outcome.status === "aborted") return;
      writeFallback(formatOutcomeLine(outcome));
      failure!.saved += 1;
    },
    flush,
    async finish() {
      flush();
      if (!failure) {
        try {
          await journal.finalize();
        } catch (error) {
          // Every outcome is in the journal; only its compaction to one line per row failed.
          failure = { path, errno: errnoOf(error), fallback: "", saved: 0 };
        }
        return;
      }
      if (fallbackFd !== undefined) closeSync(fallbackFd);
      // Compacting would need more room on the same file system: the journal stays as it is, a
      // valid journal up to its last complete line (a torn one is cut on --resume).
      try {
        await journal.close();
      } catch {
        // the data written is in the page cache; nothing better to do with a failing sync
      }
    },
  };
}

function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text, "utf8");
  let written = 0;
  while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
}

function errnoOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}
