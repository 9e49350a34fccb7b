// The data the pipeline passes from stage to stage: roster rows in, row outcomes out.
import type { LicenseGroupId, LicenseUpdate, LicenseWarning } from "./partner-center/types.js";
import type { RosterValues } from "./input/roster-fields.js";

export type RowAction = "assign" | "remove";

/**
 * A roster data row that passed validation. `line` is its line number in the file (header = 1).
 * Its fields come from the roster's field table (input/roster-fields.ts): customerId a lower-case
 * GUID; userId a lower-case GUID and/or userPrincipalName; sku as written (id, part number or
 * name); excludedPlans as written (ids or service names); action; usageLocation upper case.
 */
export type RosterRow = { line: number } & RosterValues;

/** A row refused before any call, with the runner's own upper-case code. */
export interface RowRejection {
  line: number;
  customerId: string;
  userId: string;
  userPrincipalName: string;
  sku: string;
  action: string;
  errorCode: string; // e.g. INVALID_CUSTOMER_ID, UNKNOWN_SKU, DUPLICATE_ROW
  errorMessage: string;
}

export type RosterRecord = { kind: "row"; row: RosterRow } | { kind: "rejected"; rejection: RowRejection };

/** A row whose SKU (and user) the catalog resolved. */
export interface ResolvedRow extends RosterRow {
  userId: string;
  skuId: string;
  skuName: string; // the product name the customer's catalog gives the SKU
  licenseGroup: LicenseGroupId;
  excludedPlanIds: string[];
}

/** One licenseupdates call: one customer, one user, one license group; every row it carries. */
export interface LicenseUpdateRequest {
  customerId: string;
  userId: string;
  licenseGroup: LicenseGroupId;
  rows: ResolvedRow[];
  update: LicenseUpdate;
}

export type RowStatus = "assigned" | "removed" | "failed" | "invalid" | "skipped" | "unchanged" | "planned" | "aborted";

/** The results CSV columns, in order (README, "The results CSV"), then the ones added after them. */
export const RESULT_COLUMNS = [
  "line",
  "customerId",
  "userId",
  "userPrincipalName",
  "sku",
  "skuId",
  "licenseGroup",
  "action",
  "status",
  "httpStatus",
  "errorCode",
  "errorMessage",
  "attempts",
  "requestId",
  "correlationId",
  "finishedAt",
  "licenseWarnings",
  "msCv",
  "heldBefore",
  "previousExcludedPlans",
] as const;

/** One line of the results CSV. */
export interface RowOutcome {
  line: number;
  customerId: string;
  userId: string;
  userPrincipalName: string;
  sku: string;
  skuId: string;
  licenseGroup: string;
  action: string;
  status: RowStatus;
  httpStatus?: number;
  errorCode?: string;
  errorMessage?: string;
  attempts: number;
  requestId?: string;
  correlationId?: string;
  finishedAt: string; // ISO 8601
  licenseWarnings?: LicenseWarning[];
  msCv?: string;
  /** With --diff: whether the user held the row's SKU before the run (what undo needs); absent: not known. */
  heldBefore?: boolean;
  /** With --diff, when the SKU was held: the plan ids its license left off before the run. */
  previousExcludedPlans?: string[];
  /** The resolved SKU's product name, for summaries (not a results column). */
  skuName?: string;
}

/** How far a failure reaches (README, "How failures reach"). */
export type FailureScope = "row" | "customer" | "run";

/** Why a call finally failed, after retries: what the results need and how far it reaches. */
export interface CallFailure {
  scope: FailureScope;
  httpStatus?: number;
  errorCode?: string;
  message: string;
  requestId?: string;
  attempts: number;
}

/** A call's final answer after retries: the body, or the failure. */
export type Fetched<T> = { ok: true; value: T; attempts: number; requestId: string } | { ok: false; failure: CallFailure };

/** `--shard K/N`: this process runs the customers hashing to shard `index` (1-based) of `count`. */
export interface Shard {
  index: number;
  count: number;
}

/** One line of the seat check of `plan`: a customer's SKU, rows to assign and remove, seats available now. */
export interface SeatCheckRow {
  customerId: string;
  /** The customer's company name, when it could be read. */
  customerName?: string;
  sku: string; // the SKU's name
  skuId: string;
  licenseGroup: string;
  /** Seats the assignments would newly consume: exactly with --diff; without it every assignment row, an upper bound. */
  toAssign: number;
  toRemove: number;
  available: number;
  /** Seats needed beyond those available now. Removals are not counted against it: requests run concurrently, so a removal may go after an assignment. */
  shortfall: number;
  /** True when the users' current licenses were read (--diff): toAssign and shortfall are exact, not upper bounds. */
  exact?: boolean;
}
