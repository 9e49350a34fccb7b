// One data row's cells -> a RosterRow or a RowRejection (model.ts). Checks run in a fixed order
// (shape, size, encoding, then each field in column order) and the first failure is reported, with
// a message naming the column as the file spells it.
import type { RosterRecord, RowRejection, RosterRow } from "../model.js";
import type { ColumnRef, RosterColumns } from "./roster-columns.js";
import { REPLACEMENT_CHARACTER, cleanCell, forDisplay } from "./field-rules.js";
import { ROSTER_FIELD_NAMES, specOf, type FieldRejectionCode, type RosterField } from "./roster-fields.js";

/** The row-level codes this stage produces (results CSV `errorCode`, status `invalid`). */
export type RowRejectionCode = "COLUMN_COUNT" | "FIELD_TOO_LONG" | "INVALID_ENCODING" | FieldRejectionCode;

/** The table's entries, looked up once. */
const FIELDS = ROSTER_FIELD_NAMES.map((field) => {
  const spec = specOf(field);
  return { field, spec, or: spec.required?.or as RosterField | undefined };
});

/** One field as a file's header places it: the table's entry with its column (if any). */
interface PlacedField {
  field: RosterField;
  spec: (typeof FIELDS)[number]["spec"];
  ref: ColumnRef | undefined;
  /** The column of the field that may stand in for this one. */
  orRef: ColumnRef | undefined;
}

/** The fields placed once per header (a roster has one), so a row's checks only read cells. */
const PLACED = new WeakMap<RosterColumns, { placed: PlacedField[]; present: ColumnRef[] }>();

function placedFields(columns: RosterColumns): { placed: PlacedField[]; present: ColumnRef[] } {
  let known = PLACED.get(columns);
  if (known === undefined) {
    const placed = FIELDS.map(({ field, spec, or }) => ({ field, spec, ref: columns[field], orRef: or === undefined ? undefined : columns[or] }));
    known = { placed, present: placed.flatMap((p) => (p.ref === undefined ? [] : [p.ref])) };
    PLACED.set(columns, known);
  }
  return known;
}

/** `ascii`: every cell is known to be ASCII (the reader's fast path), so none can hold a replacement character. */
export function validateRow(cells: readonly string[], line: number, columns: RosterColumns, ascii = false): RosterRecord {
  const { placed, present } = placedFields(columns);

  if (cells.length > columns.width) {
    const extra = cells.slice(columns.width).filter((cell) => cell.trim() !== "");
    if (extra.length > 0) {
      return rejected(
        cells,
        line,
        columns,
        "COLUMN_COUNT",
        `the row has ${cells.length} cells but the header has ${columns.width} columns (extra: "${forDisplay(cleanCell(extra[0] ?? ""))}"); ` +
          `quote a value that holds the delimiter "${columns.delimiter === "\t" ? "\\t" : columns.delimiter}"`,
      );
    }
  }
  for (let k = 0; k < placed.length; k++) {
    const { spec, ref } = placed[k]!;
    if (ref === undefined) continue;
    const cell = cells[ref.index] ?? "";
    if (cell.length > spec.maxLength) {
      return rejected(cells, line, columns, "FIELD_TOO_LONG", `${ref.name} is ${cell.length} characters long; at most ${spec.maxLength} are read`);
    }
  }
  for (let k = 0; !ascii && k < present.length; k++) {
    const ref = present[k]!;
    if ((cells[ref.index] ?? "").includes(REPLACEMENT_CHARACTER)) {
      return rejected(cells, line, columns, "INVALID_ENCODING", `${ref.name} holds bytes that are not UTF-8 (a file saved as ANSI / Latin-1?): save the roster as "CSV UTF-8"`);
    }
  }

  const row: Record<string, unknown> = { line };
  for (let k = 0; k < placed.length; k++) {
    const { field, spec, ref, orRef } = placed[k]!;
    const cell = ref === undefined ? "" : cleanCell(cells[ref.index] ?? "");
    if (cell === "") {
      const required = spec.required;
      if (required && !(required.or !== undefined && cleanCell(rawCell(cells, orRef)) !== "")) {
        const names = [ref?.name, required.or !== undefined ? orRef?.name : undefined].filter((name) => name !== undefined);
        const message = required.or === undefined ? `${names[0]} is empty` : `no ${required.what}: ${names.join(" and ")} ${names.length > 1 ? "are both" : "is"} empty`;
        return rejected(cells, line, columns, required.missingCode as RowRejectionCode, message);
      }
      if (spec.empty !== undefined) row[field] = spec.empty;
      continue;
    }
    const checked = spec.check(cell);
    if (!checked.ok) return rejected(cells, line, columns, spec.invalidCode as RowRejectionCode, `${ref!.name} ${checked.reason}`);
    row[field] = checked.value;
  }
  return { kind: "row", row: row as unknown as RosterRow };
}

function rawCell(cells: readonly string[], ref: ColumnRef | undefined): string {
  return ref === undefined ? "" : (cells[ref.index] ?? "");
}

function rejected(cells: readonly string[], line: number, columns: RosterColumns, errorCode: RowRejectionCode, errorMessage: string): RosterRecord {
  return { kind: "rejected", rejection: rejectionOf(line, errorCode, errorMessage, (field) => rawCell(cells, columns[field])) };
}

/** The rejection keeps the raw values (trimmed, capped, control characters escaped) for the results file. */
function rejectionOf(line: number, errorCode: RowRejectionCode, errorMessage: string, raw: (field: RosterField) => string): RowRejection {
  // Cap before trimming: a cell can be megabytes long.
  const shown = (field: RosterField): string => forDisplay(cleanCell(raw(field).slice(0, 4096)));
  return {
    line,
    customerId: shown("customerId"),
    userId: shown("userId"),
    userPrincipalName: shown("userPrincipalName"),
    sku: shown("sku"),
    action: shown("action"),
    errorCode,
    errorMessage,
  };
}
