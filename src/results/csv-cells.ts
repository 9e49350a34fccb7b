// The results CSV's cells: one RowOutcome <-> one CSV record (RESULT_COLUMNS, in order), with the
// spreadsheet formula-injection guard applied on the way out and undone on the way back (resume).
import { RESULT_COLUMNS, type RowOutcome, type RowStatus } from "../model.js";
import type { LicenseWarning } from "../partner-center/types.js";

/** The results file's header line, with its line break. */
export const RESULTS_HEADER_LINE = `${RESULT_COLUMNS.join(",")}\n`;

/** Written first so Excel opens the file as UTF-8 instead of the machine's code page. */
export const UTF8_BOM = "\uFEFF";

const ROW_STATUSES: ReadonlySet<string> = new Set<RowStatus>([
  "assigned",
  "removed",
  "failed",
  "invalid",
  "skipped",
  "unchanged",
  "planned",
  "aborted",
]);

// A spreadsheet reads a cell starting with one of these as a formula (or, for tab/CR, strips the
// lead and then does). A leading `'` makes it text. Cells that already start with `'` get one too,
// so the guard can be undone exactly: on read, one leading `'` is always removed.
const FORMULA_LEADS = new Set(["=", "+", "-", "@", "\t", "\r", "'"].map((lead) => lead.charCodeAt(0)));

/** Makes a text cell safe to open in a spreadsheet. */
export function neutraliseCell(value: string): string {
  return value.length > 0 && FORMULA_LEADS.has(value.charCodeAt(0)) ? `'${value}` : value;
}

/** Undoes neutraliseCell. */
export function restoreCell(value: string): string {
  return value.startsWith("'") ? value.slice(1) : value;
}

/**
 * licenseWarnings are written as compact JSON: the only spelling that comes back intact when the
 * runner resumes (messages may hold `|`, `:` or line breaks).
 */
function warningsCell(warnings: LicenseWarning[] | undefined): string {
  return warnings && warnings.length > 0 ? JSON.stringify(warnings) : "";
}

function textCell(value: string | undefined): string {
  return value === undefined ? "" : neutraliseCell(value);
}

// Numbers the runner writes itself are never neutralised: they cannot start with a formula lead.
function numberCell(value: number | undefined): string {
  return value === undefined ? "" : String(value);
}

/** The cells of one outcome, in RESULT_COLUMNS order. */
export function outcomeCells(outcome: RowOutcome): string[] {
  // Literal, in RESULT_COLUMNS order (a test holds the two together): no per-row record object.
  return [
    numberCell(outcome.line),
    textCell(outcome.customerId),
    textCell(outcome.userId),
    textCell(outcome.userPrincipalName),
    textCell(outcome.sku),
    textCell(outcome.skuId),
    textCell(outcome.licenseGroup),
    textCell(outcome.action),
    textCell(outcome.status),
    numberCell(outcome.httpStatus),
    textCell(outcome.errorCode),
    textCell(outcome.errorMessage),
    numberCell(outcome.attempts),
    textCell(outcome.requestId),
    textCell(outcome.correlationId),
    textCell(outcome.finishedAt),
    textCell(warningsCell(outcome.licenseWarnings)),
    textCell(outcome.msCv),
    outcome.heldBefore === undefined ? "" : outcome.heldBefore ? "yes" : "no",
    textCell(outcome.previousExcludedPlans?.join(";")),
  ];
}

/** A cell that would split or end the record (`,` `"` LF CR) is quoted, its quotes doubled. */
const NEEDS_QUOTES = /[",\n\r]/;

/** One cell as RFC 4180 writes it: as is, or quoted with `""` for each quote inside. */
export function csvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/**
 * One outcome as one CSV record ending in `\n`, in RESULT_COLUMNS order. Cells holding `,` `"`
 * LF or CR are quoted (a lone CR too, which readers split on). Written by hand: csv-stringify's
 * per-call setup cost more than the rest of a plan's per-row work; a test holds this to
 * csv-stringify's output on hostile cells, and to outcomeCells.
 */
export function formatOutcomeLine(o: RowOutcome): string {
  return `${formatOutcomeRecord(o)}\n`;
}

/** The cells of the record being formatted: one array for every line, joined once (no string per `+`). */
const lineCells: string[] = new Array<string>(RESULT_COLUMNS.length).fill("");

/** formatOutcomeLine without its line break, built with one join: the journal joins a batch of them. */
export function formatOutcomeRecord(o: RowOutcome): string {
  if (isShort(o)) return formatShortRecord(o);
  const c = lineCells;
  c[0] = numberCell(o.line);
  c[1] = cellAt(1, o.customerId);
  c[2] = cellAt(2, o.userId);
  c[3] = cellAt(3, o.userPrincipalName);
  c[4] = cellAt(4, o.sku);
  c[5] = cellAt(5, o.skuId);
  c[6] = cellAt(6, o.licenseGroup);
  c[7] = cellAt(7, o.action);
  c[8] = cellAt(8, o.status);
  c[9] = numberCell(o.httpStatus);
  c[10] = cellAt(10, o.errorCode);
  c[11] = cellAt(11, o.errorMessage);
  c[12] = numberCell(o.attempts);
  c[13] = cellAt(13, o.requestId);
  c[14] = cellAt(14, o.correlationId);
  c[15] = cellAt(15, o.finishedAt);
  c[16] = cellAt(16, warningsCell(o.licenseWarnings));
  c[17] = cellAt(17, o.msCv);
  c[18] = o.heldBefore === undefined ? "" : o.heldBefore ? "yes" : "no";
  c[19] = cellAt(19, o.previousExcludedPlans?.join(";"));
  return c.join(",");
}

/** An outcome with no answer, error, warning or --diff field (every planned row, most settled ones): most of its cells are empty. */
function isShort(o: RowOutcome): boolean {
  return (
    o.attempts === 0 &&
    o.httpStatus === undefined &&
    o.errorCode === undefined &&
    o.errorMessage === undefined &&
    o.requestId === undefined &&
    o.licenseWarnings === undefined &&
    o.msCv === undefined &&
    o.heldBefore === undefined &&
    o.previousExcludedPlans === undefined
  );
}

// The cells from sku to correlationId of a short outcome (consecutive lines repeat them: a
// customer's SKUs, the action, the status, the run's correlation id), for the last two
// combinations of their values.
const recentMiddles: (string | undefined)[] = new Array(12).fill(undefined);
const recentMiddleTexts = ["", ""];

/** sku, skuId, licenseGroup, action, status, httpStatus, errorCode, errorMessage, attempts, requestId, correlationId. */
function shortMiddle(o: RowOutcome): string {
  const m = recentMiddles;
  for (let slot = 0; slot < 2; slot++) {
    const at = slot * 6;
    if (o.sku === m[at] && o.skuId === m[at + 1] && o.licenseGroup === m[at + 2] && o.action === m[at + 3] && o.status === m[at + 4] && o.correlationId === m[at + 5]) return recentMiddleTexts[slot]!;
  }
  // Empty cells for httpStatus, errorCode, errorMessage and requestId, 0 attempts (isShort).
  const text = `${cellAt(4, o.sku)},${cellAt(5, o.skuId)},${cellAt(6, o.licenseGroup)},${cellAt(7, o.action)},${cellAt(8, o.status)},,,,0,,${cellAt(14, o.correlationId)}`;
  for (let k = 0; k < 6; k++) m[6 + k] = m[k];
  recentMiddleTexts[1] = recentMiddleTexts[0]!;
  m[0] = o.sku;
  m[1] = o.skuId;
  m[2] = o.licenseGroup;
  m[3] = o.action;
  m[4] = o.status;
  m[5] = o.correlationId;
  recentMiddleTexts[0] = text;
  return text;
}

/** formatOutcomeRecord of a short outcome: the same cells, in five pieces rather than twenty. */
function formatShortRecord(o: RowOutcome): string {
  // licenseWarnings, msCv, heldBefore and previousExcludedPlans are empty (isShort).
  return `${o.line},${cellAt(1, o.customerId)},${cellAt(2, o.userId)},${cellAt(3, o.userPrincipalName)},${shortMiddle(o)},${cellAt(15, o.finishedAt)},,,,`;
}

/** Bytes being gathered: `bytes[0..length]` is taken; appendOutcomeLine grows `bytes` as it needs. */
export interface LineBytes {
  bytes: Buffer;
  length: number;
}

/**
 * Appends formatOutcomeLine(o) as UTF-8 to `into`. A short outcome's pieces go straight into the
 * bytes (no string per record, no batch of strings joined and encoded again); any other outcome
 * is formatted as text and encoded.
 */
export function appendOutcomeLine(o: RowOutcome, into: LineBytes): void {
  if (!isShort(o)) {
    const text = formatOutcomeLine(o);
    reserve(into, text.length * 3);
    into.length += into.bytes.write(text, into.length, "utf8");
    return;
  }
  const customer = cellAt(1, o.customerId);
  const user = cellAt(2, o.userId);
  const upn = cellAt(3, o.userPrincipalName);
  const middle = shortMiddleBytes(o);
  const finished = cellAt(15, o.finishedAt);
  // 3 bytes at most per UTF-16 unit; 16 digits for the line, 10 separators and the line break.
  reserve(into, 3 * (customer.length + user.length + upn.length + finished.length) + middle.length + 32);
  const b = into.bytes;
  let at = putLineNumber(b, into.length, o.line);
  b[at++] = 0x2c;
  at = putCell(b, at, 0, customer);
  b[at++] = 0x2c;
  at = putText(b, at, user);
  b[at++] = 0x2c;
  at = putText(b, at, upn);
  b[at++] = 0x2c;
  b.set(middle, at);
  at += middle.length;
  b[at++] = 0x2c;
  at = putCell(b, at, 1, finished);
  // licenseWarnings, msCv, heldBefore and previousExcludedPlans are empty (isShort).
  b[at++] = 0x2c;
  b[at++] = 0x2c;
  b[at++] = 0x2c;
  b[at++] = 0x2c;
  b[at++] = 0x0a;
  into.length = at;
}

function reserve(into: LineBytes, more: number): void {
  if (into.length + more <= into.bytes.length) return;
  const bytes = Buffer.allocUnsafe(Math.max(into.bytes.length * 2, into.length + more));
  into.bytes.copy(bytes, 0, 0, into.length);
  into.bytes = bytes;
}

/** `text` as UTF-8 at `at` (room reserved); returns where it ends. ASCII byte by byte, the rest through the encoder. */
function putText(b: Buffer, at: number, text: string): number {
  const n = text.length;
  for (let k = 0; k < n; k++) {
    const code = text.charCodeAt(k);
    if (code >= 0x80) return at + b.write(text, at, "utf8");
    b[at + k] = code;
  }
  return at + n;
}

// The bytes of the last two cells of the columns that repeat line after line (customer, finishedAt), by slot.
const recentCellTexts: string[] = ["", "", "", ""];
const recentCellBytes: Buffer[] = [Buffer.alloc(0), Buffer.alloc(0), Buffer.alloc(0), Buffer.alloc(0)];

/** putText of a cell that repeats (slot 0: customerId, 1: finishedAt), its bytes encoded once for the last two. */
function putCell(b: Buffer, at: number, slot: number, cell: string): number {
  const first = slot * 2;
  let bytes: Buffer;
  if (cell === recentCellTexts[first]) bytes = recentCellBytes[first]!;
  else if (cell === recentCellTexts[first + 1]) bytes = recentCellBytes[first + 1]!;
  else {
    recentCellTexts[first + 1] = recentCellTexts[first]!;
    recentCellBytes[first + 1] = recentCellBytes[first]!;
    recentCellTexts[first] = cell;
    bytes = recentCellBytes[first] = Buffer.from(cell, "utf8");
  }
  b.set(bytes, at);
  return at + bytes.length;
}

/** numberCell(line) at `at`: the digits of a whole line number, written without a string. */
function putLineNumber(b: Buffer, at: number, line: number): number {
  if (!Number.isSafeInteger(line) || line < 0) return putText(b, at, numberCell(line));
  let digits = 1;
  for (let rest = line; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  let rest = line;
  for (let k = at + digits - 1; k >= at; k--) {
    b[k] = 0x30 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
  return at + digits;
}

/** shortMiddle(o) as UTF-8, encoded once per combination it remembers. */
const recentMiddleBytes: Buffer[] = [Buffer.alloc(0), Buffer.alloc(0)];
const recentMiddleOf = ["", ""];

function shortMiddleBytes(o: RowOutcome): Buffer {
  const text = shortMiddle(o);
  if (text === recentMiddleOf[0]) return recentMiddleBytes[0]!;
  if (text === recentMiddleOf[1]) return recentMiddleBytes[1]!;
  recentMiddleOf[1] = recentMiddleOf[0]!;
  recentMiddleBytes[1] = recentMiddleBytes[0]!;
  recentMiddleOf[0] = text;
  recentMiddleBytes[0] = Buffer.from(text, "utf8");
  return recentMiddleBytes[0];
}

// The last two values of each text column and their cells: consecutive lines repeat most of them
// (the customer, its SKUs, the status, the run's correlation id, the millisecond), and a cell is
// a pure function of its value.
const recentValues: (string | undefined)[] = new Array(RESULT_COLUMNS.length * 2).fill(undefined);
const recentCells: string[] = new Array(RESULT_COLUMNS.length * 2).fill("");

/** textCell + csvField of a text column's value, remembered for the column's last two values. */
function cellAt(column: number, value: string | undefined): string {
  if (value === undefined || value === "") return "";
  const slot = column * 2;
  if (value === recentValues[slot]) return recentCells[slot]!;
  if (value === recentValues[slot + 1]) return recentCells[slot + 1]!;
  const cell = csvField(neutraliseCell(value));
  recentValues[slot + 1] = recentValues[slot];
  recentCells[slot + 1] = recentCells[slot]!;
  recentValues[slot] = value;
  recentCells[slot] = cell;
  return cell;
}

export type ParsedOutcome = { ok: true; outcome: RowOutcome } | { ok: false; reason: string };

function optionalText(cell: string | undefined): string | undefined {
  return cell === undefined || cell === "" ? undefined : restoreCell(cell);
}

function optionalInteger(cell: string | undefined): number | undefined | null {
  if (cell === undefined || cell === "") return undefined;
  return /^\d+$/.test(cell) ? Number(cell) : null;
}

function parseWarnings(cell: string): LicenseWarning[] | undefined | null {
  if (cell === "") return undefined;
  try {
    const value: unknown = JSON.parse(cell);
    if (!Array.isArray(value)) return null;
    const warnings: LicenseWarning[] = [];
    for (const item of value as unknown[]) {
      if (typeof item !== "object" || item === null) return null;
      const { code, message, servicePlans } = item as Record<string, unknown>;
      warnings.push({
        code: typeof code === "string" ? code : String(code ?? ""),
        message: typeof message === "string" ? message : "",
        servicePlans: Array.isArray(servicePlans) ? servicePlans.map(String) : [],
      });
    }
    return warnings;
  } catch {
    return null;
  }
}

/**
 * Splits one RFC 4180 record (as csv-stringify writes them: `,` separated, `"` quoted, `""` for a
 * quote) into its cells; undefined when it is not exactly one well-formed record. Hand-written
 * because resume reads back up to a million records one by one, and csv-parse's per-call setup
 * costs ~100 us a record (minutes for a big journal) where this takes ~1 us.
 */
export function splitRecord(record: string): string[] | undefined {
  let end = record.length;
  if (record.endsWith("\r\n")) end -= 2;
  else if (record.endsWith("\n")) end -= 1;
  const cells: string[] = [];
  let index = 0;
  for (;;) {
    if (record.charCodeAt(index) === 0x22) {
      let value = "";
      let from = index + 1;
      for (;;) {
        const quote = record.indexOf('"', from);
        if (quote < 0 || quote >= end) return undefined; // unterminated
        value += record.slice(from, quote);
        if (record.charCodeAt(quote + 1) === 0x22 && quote + 1 < end) {
          value += '"';
          from = quote + 2;
          continue;
        }
        index = quote + 1;
        break;
      }
      cells.push(value);
    } else {
      let comma = record.indexOf(",", index);
      if (comma < 0 || comma > end) comma = end;
      const value = record.slice(index, comma);
      if (value.includes('"') || value.includes("\n")) return undefined; // a stray quote or a second record
      cells.push(value);
      index = comma;
    }
    if (index === end) return cells;
    if (record.charCodeAt(index) !== 0x2c) return undefined; // text after a closing quote
    index += 1;
  }
}

/** Reads back one record written by formatOutcomeLine (with or without its line break). */
export function parseOutcomeLine(record: string): ParsedOutcome {
  const cells = splitRecord(record);
  if (cells === undefined) return { ok: false, reason: "not a single well-formed CSV record" };
  if (cells.length !== RESULT_COLUMNS.length) {
    return { ok: false, reason: `expected ${RESULT_COLUMNS.length} cells, found ${cells.length}` };
  }
  const cell = (column: (typeof RESULT_COLUMNS)[number]): string => cells[RESULT_COLUMNS.indexOf(column)] ?? "";

  const line = optionalInteger(cell("line"));
  if (line === undefined || line === null || line < 1) return { ok: false, reason: "line is not a positive number" };
  const attempts = optionalInteger(cell("attempts"));
  if (attempts === null) return { ok: false, reason: "attempts is not a number" };
  const httpStatus = optionalInteger(cell("httpStatus"));
  if (httpStatus === null) return { ok: false, reason: "httpStatus is not a number" };
  const status = restoreCell(cell("status"));
  if (!ROW_STATUSES.has(status)) return { ok: false, reason: `unknown status "${status}"` };
  const warningsText = restoreCell(cell("licenseWarnings"));
  const licenseWarnings = parseWarnings(warningsText);
  if (licenseWarnings === null) return { ok: false, reason: "licenseWarnings is not valid JSON" };

  const outcome: RowOutcome = {
    line,
    customerId: restoreCell(cell("customerId")),
    userId: restoreCell(cell("userId")),
    userPrincipalName: restoreCell(cell("userPrincipalName")),
    sku: restoreCell(cell("sku")),
    skuId: restoreCell(cell("skuId")),
    licenseGroup: restoreCell(cell("licenseGroup")),
    action: restoreCell(cell("action")),
    status: status as RowStatus,
    attempts: attempts ?? 0,
    finishedAt: restoreCell(cell("finishedAt")),
  };
  // Optional fields stay absent rather than undefined-valued, so a round trip is deep-equal.
  if (httpStatus !== undefined) outcome.httpStatus = httpStatus;
  const errorCode = optionalText(cell("errorCode"));
  if (errorCode !== undefined) outcome.errorCode = errorCode;
  const errorMessage = optionalText(cell("errorMessage"));
  if (errorMessage !== undefined) outcome.errorMessage = errorMessage;
  const requestId = optionalText(cell("requestId"));
  if (requestId !== undefined) outcome.requestId = requestId;
  const correlationId = optionalText(cell("correlationId"));
  if (correlationId !== undefined) outcome.correlationId = correlationId;
  if (licenseWarnings !== undefined) outcome.licenseWarnings = licenseWarnings;
  const msCv = optionalText(cell("msCv"));
  if (msCv !== undefined) outcome.msCv = msCv;
  const heldBefore = cell("heldBefore");
  if (heldBefore === "yes" || heldBefore === "no") outcome.heldBefore = heldBefore === "yes";
  const previousPlans = optionalText(cell("previousExcludedPlans"));
  if (previousPlans !== undefined || outcome.heldBefore === true) outcome.previousExcludedPlans = previousPlans ? previousPlans.split(";") : [];
  return { ok: true, outcome };
}
