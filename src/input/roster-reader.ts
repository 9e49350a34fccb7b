// Reads a roster CSV as a stream: source bytes -> csv-parse -> header mapping -> one validated
// RosterRecord per data row, in file order, each with its physical line. Whole-file problems throw
// RosterFileError (before any row for header problems); row problems are RowRejection records.
import { pipeline, Readable } from "node:stream";
import { Parser, type CsvError, type Options as CsvParseOptions } from "csv-parse";
import type { RosterRecord } from "../model.js";
import { LineTracker } from "./line-tracker.js";
import { mapRosterColumns, type RosterColumns } from "./roster-columns.js";
import { RosterFileError } from "./roster-file-error.js";
import { openRoster, rosterName, unreadable, type OpenedRoster, type RosterSource } from "./roster-source.js";
import { splitPlainLines, utf8BomLength } from "./plain-records.js";
import { validateRow } from "./row-validator.js";

export { RosterFileError, type RosterFileErrorCode } from "./roster-file-error.js";
export type { RosterColumns, ColumnRef, RosterField } from "./roster-columns.js";
export type { RosterSource, RosterDelimiter } from "./roster-source.js";
export type { RowRejectionCode } from "./row-validator.js";

export interface ReadRosterOptions {
  /**
   * Most bytes one row may take before the file is refused (RECORD_TOO_LARGE). Bounds memory: a
   * row is held whole while it is parsed. Default 4 MiB, far above any real row.
   */
  maxRecordSize?: number;
  /** Called once with the header mapping, before the first row is yielded. */
  onColumns?: (columns: RosterColumns) => void;
  /** Every record through csv-parse, none through the fast path: the reference the fast path is tested against. */
  csvParseOnly?: boolean;
}

export interface RosterSummary {
  columns: RosterColumns;
  /** Data rows read (blank lines not counted): rows + rejections yielded. */
  dataRows: number;
}

export const DEFAULT_MAX_RECORD_SIZE = 4 * 1024 * 1024;

export interface ParsedRecord {
  cells: string[];
  line: number;
  /** Read by the fast path: every cell is ASCII (so no cell holds a replacement character). */
  ascii?: boolean;
}

export async function* readRoster(source: RosterSource, options: ReadRosterOptions = {}): AsyncGenerator<RosterRecord, RosterSummary> {
  const batches = readRosterBatches(source, options);
  let finished = false;
  try {
    for (;;) {
      const next = await batches.next();
      if (next.done) {
        finished = true;
        return next.value;
      }
      yield* next.value;
    }
  } finally {
    // The caller stopped early: close the roster now.
    if (!finished) await batches.return(undefined as never);
  }
}

/**
 * The same records as readRoster, a chunk's worth at a time: a million rows cost a million
 * awaits one by one. On a roster file error, the rows read before it come first, then the error.
 */
export async function* readRosterBatches(source: RosterSource, options: ReadRosterOptions = {}): AsyncGenerator<RosterRecord[], RosterSummary> {
  const maxRecordSize = options.maxRecordSize ?? DEFAULT_MAX_RECORD_SIZE;
  const opened = await openRoster(source);
  const lines = new LineTracker();
  let columns: RosterColumns | undefined;
  let dataRows = 0;
  const take = (batch: readonly ParsedRecord[]): RosterRecord[] => {
    const out: RosterRecord[] = [];
    for (const record of batch) {
      if (isBlank(record.cells)) continue; // blank line (or ",,,")
      // A comment line before the header (`# ...`, as undo writes one) is no header and no data.
      if (columns === undefined && record.cells[0]?.trimStart().startsWith("#")) continue;
      if (columns === undefined) {
        columns = mapRosterColumns(record.cells, record.line, opened.delimiter);
        options.onColumns?.(columns);
        continue;
      }
      dataRows++;
      out.push(validateRow(record.cells, record.line, columns, record.ascii === true));
    }
    return out;
  };
  const parsed = parsedRecords(opened, lines, maxRecordSize, options.csvParseOnly === true);
  try {
    for (;;) {
      let next: IteratorResult<ParsedRecord[], void>;
      try {
        next = await parsed.next();
      } catch (error) {
        throw asRosterFileError(error, source, lines.currentRecordLine, maxRecordSize);
      }
      if (next.done) break;
      const records = take(next.value);
      if (records.length > 0) yield records;
    }
  } finally {
    await parsed.return();
    opened.release();
  }
  if (columns === undefined) {
    throw new RosterFileError("EMPTY_FILE", `the roster ${JSON.stringify(rosterName(source))} has no header line: it holds only blank lines`);
  }
  return { columns, dataRows };
}

/**
 * The roster's records as parsed, before any header mapping or check: each record's cells and the
 * line it starts on. For the differential test of the fast path against csv-parse.
 */
export async function* parseRosterCells(source: RosterSource, options: Pick<ReadRosterOptions, "maxRecordSize" | "csvParseOnly"> = {}): AsyncGenerator<ParsedRecord[], void> {
  const maxRecordSize = options.maxRecordSize ?? DEFAULT_MAX_RECORD_SIZE;
  const opened = await openRoster(source);
  const lines = new LineTracker();
  try {
    for await (const batch of parsedRecords(opened, lines, maxRecordSize, options.csvParseOnly === true)) yield batch;
  } catch (error) {
    throw asRosterFileError(error, source, lines.currentRecordLine, maxRecordSize);
  } finally {
    opened.release();
  }
}

function isBlank(cells: readonly string[]): boolean {
  for (const cell of cells) if (cell !== "" && cell.trim() !== "") return false;
  return true;
}

/** csv-parse's options for a roster (the fast path reads plain lines exactly as these do). */
function csvParseOptions(delimiter: string, maxRecordSize: number, bom: boolean): CsvParseOptions {
  return {
    delimiter,
    // Mixed line endings happen (files pasted together); list them all rather than auto-detect one.
    record_delimiter: ["\r\n", "\n", "\r"],
    bom,
    // Blank and short rows are ours to judge, and a stray quote inside a value is a value.
    relax_column_count: true,
    relax_quotes: true,
    // Spaces before an opening quote; spaces after a closing one are handled in unwrapQuoted.
    ltrim: true,
    max_record_size: maxRecordSize,
  };
}

/**
 * The roster's records, chunk by chunk: plain lines (plain-records.ts) while the file is plain,
 * then csv-parse from the first record that is not, to the end of the file. A tab-delimited roster
 * is csv-parse's from the start (a tab is both its delimiter and what ltrim trims).
 */
async function* parsedRecords(opened: OpenedRoster, lines: LineTracker, maxRecordSize: number, csvParseOnly: boolean): AsyncGenerator<ParsedRecord[], void> {
  const chunks = opened.bytes[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let rest: Buffer | undefined; // what csv-parse reads before the remaining chunks
  let bomSeen = false;
  try {
    if (opened.delimiter !== "\t" && !csvParseOnly) {
      let carry: Buffer | undefined;
      for (;;) {
        const next = await chunks.next();
        const final = next.done === true;
        let buf = final ? (carry ?? Buffer.alloc(0)) : carry ? Buffer.concat([carry, next.value]) : next.value;
        if (!bomSeen) {
          if (buf.length < 3 && !final) {
            carry = buf;
            continue;
          }
          buf = buf.subarray(utf8BomLength(buf));
          bomSeen = true;
        }
        const split = splitPlainLines(buf, opened.delimiter, maxRecordSize, final);
        if (split.records.length > 0) yield split.records.map((cells) => ({ cells, line: lines.plainRecord(), ascii: true }));
        if (split.handOver) {
          if (final && split.next === buf.length) return;
          rest = buf.subarray(split.next);
          break;
        }
        carry = split.next < buf.length ? buf.subarray(split.next) : undefined;
        if (final && carry === undefined) return;
      }
    }
    const parser = new RosterParser(csvParseOptions(opened.delimiter, maxRecordSize, !bomSeen), lines);
    pipeline(Readable.from(remainingBytes(rest, chunks)), parser, () => {
      // Errors surface through the parser's iterator below; an early stop by the caller lands here too.
    });
    try {
      for await (const record of parser as AsyncIterable<ParsedRecord>) yield [record];
    } finally {
      parser.destroy();
    }
  } finally {
    await chunks.return?.();
  }
}

async function* remainingBytes(first: Buffer | undefined, chunks: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  if (first !== undefined && first.length > 0) yield first;
  for (;;) {
    const next = await chunks.next();
    if (next.done) return;
    yield next.value;
  }
}

/**
 * csv-parse with each record turned into a ParsedRecord as the parser hands it over, synchronously,
 * so the line count is exact even when a later error discards records still buffered in the
 * stream. Not through `on_record`: csv-parse builds a context object for every call of it (about
 * a third of the parse time of a large roster), and none of it is needed here.
 */
class RosterParser extends Parser {
  constructor(
    options: CsvParseOptions,
    private readonly lines: LineTracker,
  ) {
    super(options);
  }

  override push(record: unknown, encoding?: BufferEncoding): boolean {
    if (record === null) return super.push(null, encoding);
    const cells = record as string[];
    const parsed: ParsedRecord = { cells: cells.map(unwrapQuoted), line: this.lines.record(cells) };
    return super.push(parsed, encoding);
  }
}

/**
 * With relax_quotes, `"value"  ,` (spaces after the closing quote) comes back as `"value"  `.
 * A cell can only start with a quote that way, so strip the quotes back off.
 */
function unwrapQuoted(cell: string): string {
  if (cell.charCodeAt(0) !== 0x22) return cell;
  const trimmed = cell.trimEnd();
  return trimmed.length >= 2 && trimmed.endsWith('"') && trimmed !== cell ? trimmed.slice(1, -1) : cell;
}

function asRosterFileError(error: unknown, source: RosterSource, line: number, maxRecordSize: number): RosterFileError {
  if (error instanceof RosterFileError) return error;
  const code = (error as Partial<CsvError> | null)?.code;
  const name = JSON.stringify(rosterName(source));
  if (code === "CSV_QUOTE_NOT_CLOSED") {
    return new RosterFileError(
      "UNTERMINATED_QUOTE",
      `the roster ${name} has a quote opened in the row starting on line ${line} that is never closed: everything after it would be one value. Close the quote (write a quote inside a value as "")`,
      line,
    );
  }
  if (code === "CSV_MAX_RECORD_SIZE") {
    return new RosterFileError(
      "RECORD_TOO_LARGE",
      `the row starting on line ${line} of the roster ${name} is larger than ${maxRecordSize} bytes; no roster row is that long (a quote that is never closed?)`,
      line,
    );
  }
  if (typeof code === "string" && code.startsWith("CSV_")) {
    return new RosterFileError("UNREADABLE", `the roster ${name} cannot be parsed as CSV near line ${line}: ${(error as Error).message}`, line);
  }
  return unreadable(source, error);
}
