// The one exception of the input stage: a file that cannot be read as a roster at all. Row-level
// problems never throw; they become RowRejection records (see row-validator.ts).

/** Why a whole roster was refused. Stable codes: the runner maps every one of them to exit 2. */
export type RosterFileErrorCode =
  | "UNREADABLE" // the file or stream could not be read (missing, a directory, permission, I/O error)
  | "EMPTY_FILE" // no bytes, or only blank lines
  | "NOT_CSV" // a binary format (an .xlsx workbook) instead of CSV text
  | "UNSUPPORTED_ENCODING" // UTF-16 (Excel "Unicode Text") or a header that is not UTF-8 text
  | "NO_HEADER" // the first non-blank line is data, not column names
  | "DUPLICATE_COLUMN" // two header cells feed the same field
  | "NO_CUSTOMER_COLUMN"
  | "NO_USER_COLUMN"
  | "NO_SKU_COLUMN"
  | "UNTERMINATED_QUOTE" // a quoted field runs to the end of the file
  | "RECORD_TOO_LARGE"; // one row is larger than the reader will hold in memory

export class RosterFileError extends Error {
  override readonly name = "RosterFileError";
  readonly code: RosterFileErrorCode;
  /** The physical line (header = 1) the problem starts on, when there is one. */
  readonly line?: number;

  constructor(code: RosterFileErrorCode, message: string, line?: number) {
    super(message);
    this.code = code;
    if (line !== undefined) this.line = line;
  }
}
