// The results file as a crash-safe journal: opening it for a fresh run or a --resume. The parts
// live apart: resume-admission.ts (may this roster continue this file?), journal-recovery.ts (read
// back what earlier runs did, cut a torn record), unsaved-outcomes.ts (take back what a run could
// not write to it), done-lines.ts (the lines they finished),
// journal-writer.ts (append, sync, compact).
import { fdatasyncSync, openSync, writeSync } from "node:fs";
import { stat } from "node:fs/promises";
import { LatestEntryIndex } from "./line-index.js";
import { JournalDoneLines, NO_DONE_LINES, type DoneLines } from "./done-lines.js";
import { renderResumeNeedsFile, renderUnopenableResults, renderUnreadableResults, renderUnsavedNotTakenBack } from "./messages.js";
import { fallbackPath } from "./results-sink.js";
import { recoverJournal } from "./journal-recovery.js";
import { FileResultsJournal, HEADER_BYTES, SYNC_INTERVAL_MS, type ResultsJournal } from "./journal-writer.js";
import { packageVersion } from "./package-version.js";
import { refuseForeignResults } from "./resume-admission.js";
import { readRunRecord, writeRunRecord, type RunRecord } from "./sidecar.js";
import { takeBackUnsavedOutcomes, type UnsavedTakeBack } from "./unsaved-outcomes.js";

export type { DoneLines } from "./done-lines.js";
export type { ResultsJournal } from "./journal-writer.js";
export type { UnsavedTakeBack } from "./unsaved-outcomes.js";

/** A plan's journal writes its lines this many bytes at a time (and at the end of each customer). */
export const PLAN_BATCH_BYTES = 256 * 1024;

/** A run's journal writes a task's lines together (its sink flushes at the task's end), at most this many bytes at a time. */
export const TASK_BATCH_BYTES = 64 * 1024;

/**
 * How the journal's lines reach the file: each before record() returns (the default), a task's
 * together (a run's: its sink flushes them at the end of the task that recorded them), or a plan's
 * in large batches (a plan sends nothing: a line lost with the process is planned again).
 */
export type JournalBatching = "line" | "task" | "plan";

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
  /** Default "line". */
  batch?: JournalBatching;
  /** The roster's highest line, when known: the journal's index is sized for it once. */
  highestLine?: number;
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
      /** Resume only: what became of the outcomes an earlier run could not write (its fallback file). */
      unsaved: UnsavedTakeBack;
    }
  | { ok: false; code: OpenJournalErrorCode; message: string };

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
  const batchBytes = options.batch === "plan" ? PLAN_BATCH_BYTES : options.batch === "task" ? TASK_BATCH_BYTES : 0;
  const highestLine = options.highestLine;

  if (resume) {
    if (rosterFingerprint === undefined) {
      return {
        ok: false,
        code: "RESUME_NEEDS_FILE",
        message: renderResumeNeedsFile(),
      };
    }
    if (await exists(path)) {
      const refusal = await refuseForeignResults(path, rosterFingerprint, options.rosterName);
      if (refusal) return { ok: false, ...refusal };
      let recovered = await recoverJournal(path);
      if (!recovered.ok) {
        return {
          ok: false,
          code: "UNREADABLE_RESULTS",
          message: renderUnreadableResults(path, recovered.reason),
        };
      }
      if (recovered.fresh) return startFresh(path, runRecord, syncIntervalMs, batchBytes, highestLine);
      const previous = await readRunRecord(path);
      const unsaved = await takeBackUnsavedOutcomes(path, recovered.end, previous.ok ? (previous.record.resumedAt ?? previous.record.startedAt) : undefined);
      if (unsaved.kind === "unwritable") return { ok: false, code: "UNWRITABLE_RESULTS", message: renderUnsavedNotTakenBack(path, fallbackPath(path), unsaved.errno) };
      if (unsaved.kind === "taken-back" && unsaved.outcomes > 0) {
        recovered = await recoverJournal(path);
        if (!recovered.ok || recovered.fresh) {
          return { ok: false, code: "UNREADABLE_RESULTS", message: renderUnreadableResults(path, recovered.ok ? "it lost its header" : recovered.reason) };
        }
      }
      const kept: RunRecord = previous.ok ? { ...previous.record, resumedAt: now } : runRecord;
      try {
        const fd = openSync(path, "r+");
        await writeRunRecord(path, kept);
        const journal = new FileResultsJournal(fd, path, recovered.index, recovered.end, syncIntervalMs, batchBytes);
        return { ok: true, journal, done: new JournalDoneLines(recovered.done, journal), unsaved };
      } catch (error) {
        return unwritable(path, error);
      }
    }
  }
  return startFresh(path, runRecord, syncIntervalMs, batchBytes, highestLine);
}

async function startFresh(path: string, runRecord: RunRecord, syncIntervalMs: number, batchBytes: number, highestLine: number | undefined): Promise<OpenJournalResult> {
  try {
    // The results file first, the sidecar only once its header is on disk: a run that cannot
    // write the results never leaves its roster's fingerprint over another roster's outcomes. A
    // crash in between leaves an empty journal under the old sidecar: nothing to skip either way.
    const fd = openSync(path, "w");
    writeSync(fd, HEADER_BYTES, 0, HEADER_BYTES.length, 0);
    fdatasyncSync(fd);
    await writeRunRecord(path, runRecord);
    const journal = new FileResultsJournal(fd, path, new LatestEntryIndex(highestLine), HEADER_BYTES.length, syncIntervalMs, batchBytes);
    return { ok: true, journal, done: NO_DONE_LINES, unsaved: { kind: "none" } };
  } catch (error) {
    return unwritable(path, error);
  }
}

function unwritable(path: string, error: unknown): OpenJournalResult {
  const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  return { ok: false, code: "UNWRITABLE_RESULTS", message: renderUnopenableResults(path, reason) };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
