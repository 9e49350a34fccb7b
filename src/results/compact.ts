// Compaction of the results journal at the end of a run: one record per input line (its latest
// entry), ordered by line, written to a temporary file that is synced and renamed over the
// journal, so the results file is never seen half-written.
//
// Bounded memory whatever the journal's size or order: each kept record's place in the output is
// known in advance (prefix sums of the indexed lengths), so the journal is read once front to
// back and each latest entry is copied straight to its place. Writes to consecutive places are
// coalesced. A journal already in line order with each line once is left as it is.
import { closeSync, fsyncSync, openSync, readSync, statSync, writeSync } from "node:fs";
import { open, realpath, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import type { LatestEntryIndex } from "./line-index.js";
import { scanRecords } from "./record-scanner.js";

const BATCH_BYTES = 1 << 20;

export async function compactJournal(
  path: string,
  index: LatestEntryIndex,
  header: Buffer,
): Promise<{ rows: number }> {
  // A journal written in line order, each line once, is its own compacted form (a plan, a run
  // without retries): rewriting it would copy every byte for nothing. Checked before the places
  // are worked out: they take 8 bytes a line (40 MB at 5,000,000 lines), at the end of the run.
  const contiguousEnd = contiguousFrom(index, header.length);
  if (contiguousEnd === fileSize(path) && startsWith(path, header)) return { rows: index.size };

  const places = new Float64Array(index.maxLine + 1);
  let position = header.length;
  for (let line = 1; line <= index.maxLine; line += 1) {
    if (index.offsetOf(line) === undefined) continue;
    places[line] = position;
    position += index.lengthOf(line);
  }

  // Through a symlinked results file to its target: the rename replaces the file, not the link.
  const target = await realpath(path);
  const temporary = `${target}.${process.pid}.compact.tmp`;
  const out = openSync(temporary, "w");
  const source = await open(path, "r");
  let rows = 0;
  try {
    writeFully(out, header, 0);
    const batch = Buffer.allocUnsafe(BATCH_BYTES);
    let batchPlace = 0;
    let batchLength = 0;
    const flush = (): void => {
      if (batchLength > 0) writeFully(out, batch.subarray(0, batchLength), batchPlace);
      batchLength = 0;
    };
    await scanRecords(source, ({ line, start, bytes }) => {
      if (line === undefined || index.offsetOf(line) !== start) return; // header, superseded or broken
      rows += 1;
      const place = places[line]!;
      if (batchLength > 0 && (place !== batchPlace + batchLength || batchLength + bytes.length > BATCH_BYTES)) flush();
      if (bytes.length > BATCH_BYTES) {
        writeFully(out, bytes, place);
        return;
      }
      if (batchLength === 0) batchPlace = place;
      bytes.copy(batch, batchLength);
      batchLength += bytes.length;
    });
    flush();
    // Every indexed line must have been found, or the output would have holes: keep the journal.
    if (rows !== index.size) throw new Error(`compaction found ${rows} of ${index.size} latest entries in ${path}`);
    fsyncSync(out);
  } catch (error) {
    closeSync(out);
    await source.close();
    await rm(temporary, { force: true });
    throw error;
  }
  closeSync(out);
  await source.close();
  await rename(temporary, target);
  syncDirectory(dirname(target));
  return { rows };
}

/** Where the latest entries end when, in line order, they follow each other from `start` without a gap; -1 when they do not. */
function contiguousFrom(index: LatestEntryIndex, start: number): number {
  let expected = start;
  for (let line = 1; line <= index.maxLine; line += 1) {
    const offset = index.offsetOf(line);
    if (offset === undefined) continue;
    if (offset !== expected) return -1;
    expected += index.lengthOf(line);
  }
  return expected;
}

function fileSize(path: string): number {
  return statSync(path).size;
}

function startsWith(path: string, header: Buffer): boolean {
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(header.length);
    let read = 0;
    while (read < head.length) {
      const got = readSync(fd, head, read, head.length - read, read);
      if (got === 0) return false;
      read += got;
    }
    return head.equals(header);
  } finally {
    closeSync(fd);
  }
}

function writeFully(fd: number, bytes: Buffer, position: number): void {
  let written = 0;
  while (written < bytes.length) {
    written += writeSync(fd, bytes, written, bytes.length - written, position + written);
  }
}

// Makes the rename itself durable. Some platforms cannot fsync a directory: best effort there.
function syncDirectory(directory: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(directory, "r");
    fsyncSync(fd);
  } catch {
    // not supported here (e.g. Windows); the rename is still atomic
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
