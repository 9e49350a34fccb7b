// The fast path of the roster reader, for the roster most people have: ASCII text with no quote
// anywhere. Such a line is one record whatever csv-parse's options say: no quoting, no line break
// inside a cell, and of csv-parse's `ltrim` only the ASCII spaces it trims at a cell's start. The
// splitter takes whole lines while the bytes stay plain and hands the rest of the file, from the
// first record it cannot vouch for, to csv-parse (the parser of record): a quote, a non-ASCII byte,
// a line longer than the record limit, the last line when it has no line break. A differential
// test (test/input/plain-records.test.ts) holds the two to the same records on a hostile corpus.
import { isAscii } from "node:buffer";

export interface PlainSplit {
  /** The records of the whole plain lines, in order. */
  records: string[][];
  /** Where the bytes not taken start (a partial line to carry, or the hand-over point). */
  next: number;
  /** True: csv-parse must read everything from `next` on; false: carry `buf[next..]` to the next chunk. */
  handOver: boolean;
}

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;

/** The first byte that the fast path does not take (a quote or a non-ASCII byte), or -1. */
function firstNonPlainByte(buf: Buffer): number {
  const quote = buf.indexOf(QUOTE);
  if (isAscii(buf)) return quote;
  const upTo = quote < 0 ? buf.length : quote;
  for (let i = 0; i < upTo; i++) if (buf[i]! >= 0x80) return i;
  return quote;
}

/** csv-parse's ltrim over ASCII: the trimmable characters a cell may start with (no CR/LF: they end the record). */
function isLeadingBlank(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0b || code === 0x0c;
}

/**
 * Splits `buf` (the carry of the previous chunk and the next chunk, BOM already skipped) into the
 * records of its whole plain lines. `final`: no bytes follow `buf`.
 */
export function splitPlainLines(buf: Buffer, delimiter: string, maxRecordSize: number, final: boolean): PlainSplit {
  const records: string[][] = [];
  const bad = firstNonPlainByte(buf);
  const plainEnd = bad < 0 ? buf.length : bad;
  // ASCII only up to plainEnd: latin1 is the UTF-8 decoding of these bytes, at a fraction of its cost.
  const text = buf.toString("latin1", 0, plainEnd);
  let start = 0;
  let nextLf = text.indexOf("\n");
  let nextCr = text.indexOf("\r");
  for (;;) {
    if (nextLf >= 0 && nextLf < start) nextLf = text.indexOf("\n", start);
    if (nextCr >= 0 && nextCr < start) nextCr = text.indexOf("\r", start);
    const end = nextLf < 0 ? nextCr : nextCr < 0 ? nextLf : Math.min(nextLf, nextCr);
    if (end < 0) {
      // No line break before the plain bytes end: the line is csv-parse's if a non-plain byte or
      // the end of the file ends it (or it is already too long); else it waits for the next chunk.
      const handOver = bad >= 0 || final || plainEnd - start > maxRecordSize;
      return { records, next: start, handOver };
    }
    let breakLength = 1;
    if (text.charCodeAt(end) === CR) {
      if (end + 1 < plainEnd) breakLength = text.charCodeAt(end + 1) === LF ? 2 : 1;
      else if (bad < 0 && !final) return { records, next: start, handOver: false }; // a CR at the chunk's end: an LF may follow
    }
    if (end - start > maxRecordSize) return { records, next: start, handOver: true };
    const cells = splitLine(text, start, end, delimiter, records.length > 0 ? records[records.length - 1]! : NO_CELLS);
    records.push(cells);
    start = end + breakLength;
  }
}

const NO_CELLS: readonly string[] = [];

/**
 * The cells of one line. A cell that repeats the one above it (a roster's customer on every line,
 * its SKUs, a user's id on the user's next line) is that cell's very string: one fewer string,
 * and what compares and looks it up later finds it equal without reading it again.
 */
function splitLine(text: string, start: number, end: number, delimiter: string, above: readonly string[]): string[] {
  const cells: string[] = [];
  let from = start;
  for (;;) {
    let at = text.indexOf(delimiter, from);
    if (at < 0 || at > end) at = end;
    let cellStart = from;
    while (cellStart < at && isLeadingBlank(text.charCodeAt(cellStart))) cellStart++;
    const same = above[cells.length];
    cells.push(same !== undefined && same.length === at - cellStart && text.startsWith(same, cellStart) ? same : text.slice(cellStart, at));
    if (at === end) return cells;
    from = at + 1;
  }
}

/** Whether `buf` starts with what csv-parse's `bom` option skips (the UTF-8 byte-order mark). */
export function utf8BomLength(buf: Buffer): number {
  return buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
}
