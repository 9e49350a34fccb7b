// The roster's fields, one entry each: the column's names, the longest cell read, how a cell is
// checked, and the codes of a missing column, a missing value and an invalid one. The header
// mapping (roster-columns.ts), the validator (row-validator.ts), the compact roster
// (pipeline/compact-roster.ts) and the row type (RosterRow in model.ts) are derived from this
// table: a new column is one entry here plus its tests.
import {
  FIELD_MAX_LENGTH,
  checkAction,
  checkExcludedPlans,
  checkGuid,
  checkSku,
  checkUsageLocation,
  checkUserPrincipalName,
  type FieldCheck,
} from "./field-rules.js";

export interface RosterFieldSpec<T, Code extends string = string> {
  /** The column's names as people write them, its own name first; matched normalised (see normaliseColumnName). */
  names: readonly string[];
  /** Longest cell read; longer ones are FIELD_TOO_LONG. */
  maxLength: number;
  /** The check of a non-empty (trimmed) cell. */
  check: (cell: string) => FieldCheck<T>;
  /** The code of a value the check refuses. */
  invalidCode: Code;
  /** The value of an empty cell or an absent column; without one the field is left out of the row. */
  empty?: T;
  /** A field every row needs: the codes of a header without the column and of an empty cell. `or`: another field that may stand in. */
  required?: { noColumnCode: "NO_CUSTOMER_COLUMN" | "NO_USER_COLUMN" | "NO_SKU_COLUMN"; missingCode: Code; or?: string; what: string };
}

/** Keeps each entry's literal shape (its codes, whether it has a default), which the types below read. */
function field<T, const S extends RosterFieldSpec<T>>(spec: S & RosterFieldSpec<T>): S {
  return spec;
}

/** In column-check order: a row's first failing field (in this order) is the one reported. */
export const ROSTER_FIELDS = {
  customerId: field({
    names: ["customerId", "customer", "customerTenantId", "tenantId"],
    maxLength: FIELD_MAX_LENGTH.default,
    check: checkGuid,
    invalidCode: "INVALID_CUSTOMER_ID",
    required: { noColumnCode: "NO_CUSTOMER_COLUMN", missingCode: "MISSING_CUSTOMER", what: "customer" },
  }),
  userId: field({
    names: ["userId", "user", "userObjectId", "objectId"],
    maxLength: FIELD_MAX_LENGTH.default,
    check: checkGuid,
    invalidCode: "INVALID_USER_ID",
    required: { noColumnCode: "NO_USER_COLUMN", missingCode: "MISSING_USER", or: "userPrincipalName", what: "user" },
  }),
  userPrincipalName: field({
    names: ["userPrincipalName", "upn"],
    maxLength: FIELD_MAX_LENGTH.default,
    check: checkUserPrincipalName,
    invalidCode: "INVALID_USER_PRINCIPAL_NAME",
  }),
  sku: field({
    names: ["sku", "skuId", "skuPartNumber", "skuName", "product", "license"],
    maxLength: FIELD_MAX_LENGTH.default,
    check: checkSku,
    invalidCode: "INVALID_SKU",
    required: { noColumnCode: "NO_SKU_COLUMN", missingCode: "MISSING_SKU", what: "SKU" },
  }),
  excludedPlans: field({
    names: ["excludedPlans", "disabledPlans"],
    maxLength: FIELD_MAX_LENGTH.excludedPlans,
    check: checkExcludedPlans,
    invalidCode: "INVALID_EXCLUDED_PLAN",
    empty: Object.freeze([]) as unknown as string[],
  }),
  action: field({
    names: ["action"],
    maxLength: FIELD_MAX_LENGTH.default,
    check: checkAction,
    invalidCode: "INVALID_ACTION",
    empty: "assign",
  }),
  usageLocation: field({
    names: ["usageLocation", "usage location", "country"],
    maxLength: FIELD_MAX_LENGTH.default,
    check: checkUsageLocation,
    invalidCode: "INVALID_USAGE_LOCATION",
  }),
} as const;

export type RosterField = keyof typeof ROSTER_FIELDS;

/** One field's entry, seen through the common shape. */
export function specOf(field: RosterField): RosterFieldSpec<unknown> {
  return ROSTER_FIELDS[field];
}
export const ROSTER_FIELD_NAMES = Object.keys(ROSTER_FIELDS) as RosterField[];

type Spec<F extends RosterField> = (typeof ROSTER_FIELDS)[F];
type ValueOf<F extends RosterField> = Spec<F> extends { check: (cell: string) => FieldCheck<infer T> } ? T : never;
type WithDefault = { [F in RosterField]: Spec<F> extends { empty: unknown } ? F : never }[RosterField];
type Required_ = { [F in RosterField]: Spec<F> extends { required: { or: string } } ? never : Spec<F> extends { required: unknown } ? F : never }[RosterField];

/** A validated row's values, derived from the table: required and defaulted fields always set, the rest optional. */
export type RosterValues = { [F in WithDefault | Required_]: ValueOf<F> } & { [F in Exclude<RosterField, WithDefault | Required_>]?: ValueOf<F> };

/** The runner's codes for a row this stage refuses (results `errorCode`, status `invalid`). */
export type FieldRejectionCode = { [F in RosterField]: Spec<F>["invalidCode"] | (Spec<F> extends { required: { missingCode: infer M } } ? M : never) }[RosterField];

/** Normalised form of a header cell: lower case, no spaces, `-` or `_`. */
export function normaliseName(name: string): string {
  return name.toLowerCase().replace(/[\s_-]+/g, "");
}

/** How a field's column is described: its name, then its other names. */
export function describeNames(field: RosterField): string {
  const [own, ...others] = ROSTER_FIELDS[field].names;
  return others.length === 0 ? own! : `${own} (or ${others.join(", ")})`;
}
