// Physical line numbers for parsed records. csv-parse's own `info.lines` counts a CRLF inside a
// quoted field as two lines, so we count ourselves: a record starts on the line after the previous
// record ended, and spans one line plus every line break inside its (quoted) fields.

const LINE_BREAK = /\r\n|\r|\n/g;

export class LineTracker {
  /** The physical line the next record starts on. */
  private nextLine = 1;

  /** Call for every record, blank ones included, in parse order; returns the line it starts on. */
  record(cells: readonly string[]): number {
    const start = this.nextLine;
    let breaks = 0;
    for (const cell of cells) {
      if (cell.includes("\n") || cell.includes("\r")) breaks += cell.match(LINE_BREAK)?.length ?? 0;
    }
    this.nextLine = start + 1 + breaks;
    return start;
  }

  /** For a record known to hold no line break (a plain line); returns the line it is on. */
  plainRecord(): number {
    return this.nextLine++;
  }

  /** Where the record being parsed now (not yet complete) started. */
  get currentRecordLine(): number {
    return this.nextLine;
  }
}
