// One data row's cells -> a RosterRow or a RowRejection (model.ts). Checks run in a fixed order
// (shape, size, encoding, then each field in column order) and the first failure is reported, with
// a message naming the column as the file spells it.
import type { RosterRecord, RowRejection, RosterRow } from "../model.js";
import type { ColumnRef, RosterColumns } from "./roster-columns.js";
import {
  FIELD_MAX_LENGTH,
  REPLACEMENT_CHARACTER,
  checkAction,
  checkExcludedPlans,
  checkGuid,
  checkSku,
  checkUserPrincipalName,
  cleanCell,
  forDisplay,
} from "./field-rules.js";

/** The row-level codes this stage produces (results CSV `errorCode`, status `invalid`). */
export type RowRejectionCode =
  | "COLUMN_COUNT"
  | "FIELD_TOO_LONG"
  | "INVALID_ENCODING"
  | "MISSING_CUSTOMER"
  | "INVALID_CUSTOMER_ID"
  | "MISSING_USER"
  | "INVALID_USER_ID"
  | "INVALID_USER_PRINCIPAL_NAME"
  | "MISSING_SKU"
  | "INVALID_SKU"
  | "INVALID_EXCLUDED_PLAN"
  | "INVALID_ACTION";

type FieldName = "customerId" | "userId" | "userPrincipalName" | "sku" | "excludedPlans" | "action";
const FIELDS: readonly FieldName[] = ["customerId", "userId", "userPrincipalName", "sku", "excludedPlans", "action"];

export function validateRow(cells: readonly string[], line: number, columns: RosterColumns): RosterRecord {
  const raw = (ref: ColumnRef | undefined): string => (ref === undefined ? "" : (cells[ref.index] ?? ""));
  const reject = (errorCode: RowRejectionCode, errorMessage: string): RosterRecord => ({
    kind: "rejected",
    rejection: rejectionOf(line, errorCode, errorMessage, (field) => raw(columns[field])),
  });

  if (cells.length > columns.width) {
    const extra = cells.slice(columns.width).filter((cell) => cell.trim() !== "");
    if (extra.length > 0) {
      return reject(
        "COLUMN_COUNT",
        `the row has ${cells.length} cells but the header has ${columns.width} columns (extra: "${forDisplay(cleanCell(extra[0] ?? ""))}"); ` +
          `quote a value that holds the delimiter "${columns.delimiter === "\t" ? "\\t" : columns.delimiter}"`,
      );
    }
  }
  for (const field of FIELDS) {
    const ref = columns[field];
    const cell = raw(ref);
    const max = field === "excludedPlans" ? FIELD_MAX_LENGTH.excludedPlans : FIELD_MAX_LENGTH.default;
    if (ref !== undefined && cell.length > max) {
      return reject("FIELD_TOO_LONG", `${ref.name} is ${cell.length} characters long; at most ${max} are read`);
    }
  }
  for (const field of FIELDS) {
    const ref = columns[field];
    if (ref !== undefined && raw(ref).includes(REPLACEMENT_CHARACTER)) {
      return reject("INVALID_ENCODING", `${ref.name} holds bytes that are not UTF-8 (a file saved as ANSI / Latin-1?): save the roster as "CSV UTF-8"`);
    }
  }

  const value = (field: FieldName): string => cleanCell(raw(columns[field]));

  const customerRaw = value("customerId");
  if (customerRaw === "") return reject("MISSING_CUSTOMER", `${columns.customerId.name} is empty`);
  const customerId = checkGuid(customerRaw);
  if (!customerId.ok) return reject("INVALID_CUSTOMER_ID", `${columns.customerId.name} ${customerId.reason}`);

  const row: RosterRow = { line, customerId: customerId.value, sku: "", excludedPlans: [], action: "assign" };
  const userIdRaw = value("userId");
  const upnRaw = value("userPrincipalName");
  if (userIdRaw === "" && upnRaw === "") {
    const names = [columns.userId?.name, columns.userPrincipalName?.name].filter((name) => name !== undefined);
    return reject("MISSING_USER", `no user: ${names.join(" and ")} ${names.length > 1 ? "are both" : "is"} empty`);
  }
  if (userIdRaw !== "" && columns.userId !== undefined) {
    const userId = checkGuid(userIdRaw);
    if (!userId.ok) return reject("INVALID_USER_ID", `${columns.userId.name} ${userId.reason}`);
    row.userId = userId.value;
  }
  if (upnRaw !== "" && columns.userPrincipalName !== undefined) {
    const upn = checkUserPrincipalName(upnRaw);
    if (!upn.ok) return reject("INVALID_USER_PRINCIPAL_NAME", `${columns.userPrincipalName.name} ${upn.reason}`);
    row.userPrincipalName = upn.value;
  }

  const skuRaw = value("sku");
  if (skuRaw === "") return reject("MISSING_SKU", `${columns.sku.name} is empty`);
  const sku = checkSku(skuRaw);
  if (!sku.ok) return reject("INVALID_SKU", `${columns.sku.name} ${sku.reason}`);
  row.sku = sku.value;

  if (columns.excludedPlans !== undefined) {
    const plans = checkExcludedPlans(value("excludedPlans"));
    if (!plans.ok) return reject("INVALID_EXCLUDED_PLAN", `${columns.excludedPlans.name} ${plans.reason}`);
    row.excludedPlans = plans.value;
  }
  if (columns.action !== undefined) {
    const action = checkAction(value("action"));
    if (!action.ok) return reject("INVALID_ACTION", `${columns.action.name} ${action.reason}`);
    row.action = action.value;
  }
  return { kind: "row", row };
}

/** The rejection keeps the raw values (trimmed, capped, control characters escaped) for the results file. */
function rejectionOf(line: number, errorCode: RowRejectionCode, errorMessage: string, raw: (field: FieldName) => string): RowRejection {
  // Cap before trimming: a cell can be megabytes long.
  const shown = (field: FieldName): string => forDisplay(cleanCell(raw(field).slice(0, 4096)));
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
