// The roster's header: which input column feeds each roster field (product.md "The roster"), by
// name and alias, and the refusal of a first line that cannot be a header.
import type { RosterDelimiter } from "./roster-source.js";
import { RosterFileError } from "./roster-file-error.js";
import { cleanCell, forDisplay, isGuidLike } from "./field-rules.js";

export type RosterField = "customerId" | "userId" | "userPrincipalName" | "sku" | "excludedPlans" | "action";

/** One header cell: its 0-based position and its name as the file spells it. */
export interface ColumnRef {
  index: number;
  name: string;
}

export interface RosterColumns {
  /** The delimiter chosen from the header line. */
  delimiter: RosterDelimiter;
  /** The physical line of the header (1 unless blank lines come first). */
  headerLine: number;
  /** How many cells the header has. */
  width: number;
  customerId: ColumnRef;
  sku: ColumnRef;
  userId?: ColumnRef;
  userPrincipalName?: ColumnRef;
  excludedPlans?: ColumnRef;
  action?: ColumnRef;
  /** Named columns the roster has that feed no field (kept for the record, otherwise ignored). */
  unknown: ColumnRef[];
}

/** Names and aliases, normalised (lower case, no spaces, `-` or `_`). */
const ALIASES: Record<RosterField, readonly string[]> = {
  customerId: ["customerid", "customer", "customertenantid", "tenantid"],
  userId: ["userid", "user", "userobjectid", "objectid"],
  userPrincipalName: ["userprincipalname", "upn"],
  sku: ["sku", "skuid", "skupartnumber", "skuname", "product", "license"],
  excludedPlans: ["excludedplans", "disabledplans"],
  action: ["action"],
};

const FIELD_BY_NAME = new Map<string, RosterField>(
  (Object.entries(ALIASES) as [RosterField, readonly string[]][]).flatMap(([field, names]) => names.map((name) => [name, field] as const)),
);

export const ACCEPTED_COLUMNS =
  "customerId (or customer, customerTenantId, tenantId), userId (or user, userObjectId, objectId) and/or " +
  "userPrincipalName (or upn), sku (or skuId, skuPartNumber, skuName, product, license), " +
  "optional excludedPlans (or disabledPlans) and action";

export function normaliseColumnName(name: string): string {
  return cleanCell(name).toLowerCase().replace(/[\s_-]+/g, "");
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
  const { customerId, sku } = found;
  if (customerId === undefined) {
    throw missing("NO_CUSTOMER_COLUMN", "customer column (customerId, customer, customerTenantId or tenantId)", cells, headerLine);
  }
  if (found.userId === undefined && found.userPrincipalName === undefined) {
    throw missing("NO_USER_COLUMN", "user column (userId, user, userObjectId, objectId, or userPrincipalName / upn)", cells, headerLine);
  }
  if (sku === undefined) {
    throw missing("NO_SKU_COLUMN", "SKU column (sku, skuId, skuPartNumber, skuName, product or license)", cells, headerLine);
  }
  return { ...found, customerId, sku, delimiter, headerLine, width: cells.length, unknown };
}

function missing(code: "NO_CUSTOMER_COLUMN" | "NO_USER_COLUMN" | "NO_SKU_COLUMN", what: string, cells: readonly string[], headerLine: number): RosterFileError {
  const names = cells.map(cleanCell).filter((name) => name !== "").slice(0, 20).map(forDisplay);
  return new RosterFileError(
    code,
    `the header on line ${headerLine} has no ${what}; it has: ${names.map((name) => JSON.stringify(name)).join(", ")}. Accepted columns: ${ACCEPTED_COLUMNS}`,
    headerLine,
  );
}
