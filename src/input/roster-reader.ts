// Reads a roster CSV as a stream: source bytes -> csv-parse -> header mapping -> one validated
// RosterRecord per data row, in file order, each with its physical line. Whole-file problems throw
// RosterFileError (before any row for header problems); row problems are RowRejection records.
import { pipeline } from "node:stream";
import { Parser, type CsvError, type Options as CsvParseOptions } from "csv-parse";
import type { RosterRecord } from "../model.js";
import { LineTracker } from "./line-tracker.js";
import { mapRosterColumns, type RosterColumns } from "./roster-columns.js";
import { RosterFileError } from "./roster-file-error.js";
import { openRoster, rosterName, unreadable, type RosterSource } from "./roster-source.js";
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
}

export interface RosterSummary {
  columns: RosterColumns;
  /** Data rows read (blank lines not counted): rows + rejections yielded. */
  dataRows: number;
}

export const DEFAULT_MAX_RECORD_SIZE = 4 * 1024 * 1024;

interface ParsedRecord {
  cells: string[];
  line: number;
}

export async function* readRoster(source: RosterSource, options: ReadRosterOptions = {}): AsyncGenerator<RosterRecord, RosterSummary> {
  const maxRecordSize = options.maxRecordSize ?? DEFAULT_MAX_RECORD_SIZE;
  const opened = await openRoster(source);
  const lines = new LineTracker();
  const parseOptions: CsvParseOptions = {
    delimiter: opened.delimiter,
    // Mixed line endings happen (files pasted together); list them all rather than auto-detect one.
    record_delimiter: ["\r\n", "\n", "\r"],
    bom: true,
    // Blank and short rows are ours to judge, and a stray quote inside a value is a value.
    relax_column_count: true,
    relax_quotes: true,
    // Spaces before an opening quote; spaces after a closing one are handled in unwrapQuoted.
    ltrim: true,
    max_record_size: maxRecordSize,
  };
  const parser = new RosterParser(parseOptions, lines);
  pipeline(opened.bytes, parser, () => {
    // Errors surface through the parser's iterator below; an early stop by the caller lands here too.
  });

  let columns: RosterColumns | undefined;
  let dataRows = 0;
  try {
    for await (const record of parser as AsyncIterable<ParsedRecord>) {
      if (record.cells.every((cell) => cell.trim() === "")) continue; // blank line (or ",,,")
      // A comment line before the header (`# ...`, as undo writes one) is no header and no data.
      if (columns === undefined && record.cells[0]?.trimStart().startsWith("#")) continue;
      if (columns === undefined) {
        columns = mapRosterColumns(record.cells, record.line, opened.delimiter);
        options.onColumns?.(columns);
        continue;
      }
      dataRows++;
      yield validateRow(record.cells, record.line, columns);
    }
  } catch (error) {
    throw asRosterFileError(error, source, lines.currentRecordLine, maxRecordSize);
  } finally {
    parser.destroy();
    opened.release();
  }
  if (columns === undefined) {
    throw new RosterFileError("EMPTY_FILE", `the roster ${JSON.stringify(rosterName(source))} has no header line: it holds only blank lines`);
  }
  return { columns, dataRows };
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
