// On --resume: the outcomes a run could not write to its results file (a full disk, a file-size
// limit) went to the fallback file next to it (results-sink.ts). They are taken back into the
// journal before it is read, so the rows they record are not sent again: each is a write Partner
// Center already answered. Appended after the journal's last complete record, they are the latest
// entries of their lines, as they were the latest outcomes. The fallback is removed once they are
// synced to the results file; if that fails, the resume stops and the fallback stays.
import { stat, open, unlink } from "node:fs/promises";
import { parseOutcomeLine, RESULTS_HEADER_LINE } from "./csv-cells.js";
import { scanRecords } from "./record-scanner.js";
import { fallbackPath } from "./results-sink.js";

const HEADER = Buffer.from(RESULTS_HEADER_LINE, "utf8");
/** File times come from the kernel's coarse clock, which lags the wall clock by milliseconds. */
const MTIME_SLACK_MS = 1000;

export type UnsavedTakeBack =
  | { kind: "none" }
  /** `outcomes` records of `path` are now in the results file, and `path` is gone. */
  | { kind: "taken-back"; path: string; outcomes: number }
  /** Older than the run the results file is from: another run's, left as it is. */
  | { kind: "stale"; path: string }
  /** Not a fallback file of this version: left as it is. */
  | { kind: "unreadable"; path: string; reason: string }
  | { kind: "unwritable"; path: string; errno: string };

/**
 * `appendAt`: where the journal's last complete record ends. `runStartedAt`: when the run that
 * the results file is from started or was last resumed (its sidecar); a fallback written before
 * that belongs to an earlier run.
 */
export async function takeBackUnsavedOutcomes(resultsPath: string, appendAt: number, runStartedAt: string | undefined): Promise<UnsavedTakeBack> {
  const path = fallbackPath(resultsPath);
  const info = await stat(path).catch(() => undefined);
  if (!info) return { kind: "none" };
  const started = runStartedAt ? Date.parse(runStartedAt) : NaN;
  if (Number.isFinite(started) && info.mtimeMs < started - MTIME_SLACK_MS) return { kind: "stale", path };

  const read = await readOutcomeRecords(path);
  if (!read.ok) return { kind: "unreadable", path, reason: read.reason };
  if (read.records.length > 0) {
    const bytes = Buffer.concat(read.records);
    let handle;
    try {
      handle = await open(resultsPath, "r+");
      await handle.write(bytes, 0, bytes.length, appendAt);
      await handle.datasync();
    } catch (error) {
      // A torn tail is cut by the journal's recovery; cut it now so the file is as it was.
      await handle?.truncate(appendAt).catch(() => undefined);
      return { kind: "unwritable", path: resultsPath, errno: (error as NodeJS.ErrnoException).code ?? (error as Error).message };
    } finally {
      await handle?.close();
    }
  }
  await unlink(path).catch(() => undefined);
  return { kind: "taken-back", path, outcomes: read.records.length };
}

/** The fallback's complete outcome records (a torn last one is left out), or why it is not a fallback file. */
async function readOutcomeRecords(path: string): Promise<{ ok: true; records: Buffer[] } | { ok: false; reason: string }> {
  let handle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    return { ok: false, reason: (error as NodeJS.ErrnoException).code ?? (error as Error).message };
  }
  try {
    const records: Buffer[] = [];
    let sawHeader = false;
    let headerValid = false;
    let bad: string | undefined;
    await scanRecords(handle, ({ start, bytes }) => {
      if (start === 0) {
        sawHeader = true;
        headerValid = bytes.equals(HEADER);
        return;
      }
      if (!headerValid || bad) return;
      const parsed = parseOutcomeLine(bytes.toString("utf8"));
      if (!parsed.ok) bad = `a record at byte ${start} is not a results line (${parsed.reason})`;
      else records.push(Buffer.from(bytes)); // the scanner's view is reused after the callback
    });
    // No complete first record: the run stopped before the header was written, nothing to take back.
    if (!sawHeader) return { ok: true, records: [] };
    if (!headerValid) return { ok: false, reason: "it does not start with the results header" };
    if (bad) return { ok: false, reason: bad };
    return { ok: true, records };
  } finally {
    await handle.close();
  }
}
