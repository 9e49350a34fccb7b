// Crash recovery of an existing results journal: indexes each line's latest complete entry, cuts
// off a torn last record (a crash mid-write) so new entries start on a fresh line, drops entries
// that do not parse (their lines run again), and collects the lines already done.
import { open } from "node:fs/promises";
import type { RowStatus } from "../model.js";
import { parseOutcomeLine } from "./csv-cells.js";
import { EntrySnapshot, LatestEntryIndex, LineSet } from "./line-index.js";
import { scanRecords } from "./record-scanner.js";
import { HEADER_BYTES } from "./journal-writer.js";

/** A line whose latest status is one of these is not run again by --resume. */
const DONE_STATUSES: ReadonlySet<RowStatus> = new Set<RowStatus>(["assigned", "removed", "skipped", "unchanged"]);

export type RecoveredJournal =
  | { ok: true; fresh: true }
  | { ok: true; fresh: false; index: LatestEntryIndex; end: number; done: EntrySnapshot }
  | { ok: false; reason: string };

export async function recoverJournal(path: string): Promise<RecoveredJournal> {
  let handle;
  try {
    handle = await open(path, "r+");
  } catch (error) {
    return { ok: false, reason: `it cannot be opened (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
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
      return { ok: false, reason: "it does not start with the results header" };
    }
    if (!headerValid) return { ok: false, reason: "its header is not this version's results header" };
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
