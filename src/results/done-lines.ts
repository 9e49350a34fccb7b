// The lines earlier runs finished, as a resumed run looks them up. Resume in bounded memory: they
// are not held as objects (a million of them take hundreds of MB) but as a bit set plus where
// each one's entry sits in the file; an outcome is read back and parsed only when asked for. The
// file only grows while the journal is open, so those byte ranges stay valid until it closes.
import type { RowOutcome } from "../model.js";
import { parseOutcomeLine } from "./csv-cells.js";
import type { EntrySnapshot } from "./line-index.js";

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

export const NO_DONE_LINES: DoneLines = {
  has: () => false,
  get: () => undefined,
  size: 0,
  keys: () => [][Symbol.iterator](),
};

/** Reads entries of the open results file. */
export interface EntryReader {
  readEntry(offset: number, length: number): Buffer;
}

export class JournalDoneLines implements DoneLines {
  constructor(
    private readonly entries: EntrySnapshot,
    private readonly file: EntryReader,
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
    const text = this.file.readEntry(entry.offset, entry.length).toString("utf8");
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
