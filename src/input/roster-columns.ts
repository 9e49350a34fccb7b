// The roster's header: which input column feeds each roster field (README, "The roster"), by
// name and alias, and the refusal of a first line that cannot be a header.
import type { RosterDelimiter } from "./roster-source.js";
import { RosterFileError } from "./roster-file-error.js";
import { cleanCell, forDisplay, isGuidLike } from "./field-rules.js";
import { ROSTER_FIELDS, ROSTER_FIELD_NAMES, describeNames, normaliseName, specOf, type RosterField } from "./roster-fields.js";

export type { RosterField };

/** One header cell: its 0-based position and its name as the file spells it. */
export interface ColumnRef {
  index: number;
  name: string;
}

/** Fields every header has a column for (required, with no other field to stand in). */
type AlwaysThere = { [F in RosterField]: (typeof ROSTER_FIELDS)[F] extends { required: { or: string } } ? never : (typeof ROSTER_FIELDS)[F] extends { required: unknown } ? F : never }[RosterField];

export type RosterColumns = {
  /** The delimiter chosen from the header line. */
  delimiter: RosterDelimiter;
  /** The physical line of the header (1 unless blank lines come first). */
  headerLine: number;
  /** How many cells the header has. */
  width: number;
  /** Named columns the roster has that feed no field (kept for the record, otherwise ignored). */
  unknown: ColumnRef[];
} & { [F in AlwaysThere]: ColumnRef } & { [F in Exclude<RosterField, AlwaysThere>]?: ColumnRef };

const FIELD_BY_NAME = new Map<string, RosterField>(ROSTER_FIELD_NAMES.flatMap((field) => ROSTER_FIELDS[field].names.map((name) => [normaliseName(name), field] as const)));

export const ACCEPTED_COLUMNS = ROSTER_FIELD_NAMES.map((field) => (specOf(field).required ? "" : "optional ") + describeNames(field)).join(", ");

export function normaliseColumnName(name: string): string {
  return normaliseName(cleanCell(name));
}

/** Maps the header cells to roster fields; throws RosterFileError when they cannot make a roster. */
export function mapRosterColumns(cells: readonly string[], headerLine: number, delimiter: RosterDelimiter): RosterColumns {
  const found: Partial<Record<RosterField, ColumnRef>> = {};
  const unknown: ColumnRef[] = [];
  const seen = new Map<string, ColumnRef>();
  let looksLikeData = false;

  cells.forEach((cell, index) => {
    const name = cleanCell(cell);
    if (name === "") return; // Excel leaves trailing empty header cells
    if (isGuidLike(name) || name.includes("@")) looksLikeData = true;
    const ref = { index, name };
    const normalised = normaliseColumnName(name);
    const field = FIELD_BY_NAME.get(normalised);
    const twin = field !== undefined ? found[field] : seen.get(normalised);
    if (twin !== undefined && !looksLikeData) {
      throw new RosterFileError(
        "DUPLICATE_COLUMN",
        `the header on line ${headerLine} has two columns for the same thing: ${JSON.stringify(twin.name)} (column ${twin.index + 1}) and ${JSON.stringify(name)} (column ${index + 1}); keep one`,
        headerLine,
      );
    }
    seen.set(normalised, ref);
    if (field !== undefined) found[field] = ref;
    else unknown.push(ref);
  });

  const recognised = Object.keys(found).length;
  if (looksLikeData || recognised === 0) {
    throw new RosterFileError(
      "NO_HEADER",
      `line ${headerLine} is not a header line${looksLikeData ? " (it holds ids or addresses, so it looks like data)" : " (none of its cells names a roster column)"}: ` +
        `the roster needs a first line naming its columns, e.g. customerId,userId,sku. Accepted columns: ${ACCEPTED_COLUMNS}`,
      headerLine,
    );
  }
  for (const field of ROSTER_FIELD_NAMES) {
    const required = specOf(field).required;
    if (!required || found[field] !== undefined) continue;
    const or = required.or as RosterField | undefined;
    if (or !== undefined && found[or] !== undefined) continue;
    const names = [field, ...(or ? [or] : [])].flatMap((f) => specOf(f).names);
    throw missing(required.noColumnCode, `${required.what} column (${names.slice(0, -1).join(", ")} or ${names.at(-1)})`, cells, headerLine);
  }
  return { ...found, delimiter, headerLine, width: cells.length, unknown } as RosterColumns;
}

function missing(code: "NO_CUSTOMER_COLUMN" | "NO_USER_COLUMN" | "NO_SKU_COLUMN", what: string, cells: readonly string[], headerLine: number): RosterFileError {
  const names = cells.map(cleanCell).filter((name) => name !== "").slice(0, 20).map(forDisplay);
  return new RosterFileError(
    code,
    `the header on line ${headerLine} has no ${what}; it has: ${names.map((name) => JSON.stringify(name)).join(", ")}. Accepted columns: ${ACCEPTED_COLUMNS}`,
    headerLine,
  );
}
