// Undo: one results row -> the roster row that reverses what it changed, or why it is left out.
// Pure. An assignment of a SKU the user did not hold becomes its removal; an assignment that only
// changed the plans of a held SKU, and a removal of a held SKU, become an assignment with the
// excluded plans the user had before. A license held before the run is never removed. What the
// user held before is known only from a run with --diff (the heldBefore and
// previousExcludedPlans columns); without them the row is taken as new only with --assume-new.

/** The results columns undo reads (by name, so it works from the results file alone). */
export interface ResultsRecord {
  line: string;
  customerId: string;
  userId: string;
  userPrincipalName?: string;
  sku: string;
  skuId: string;
  action: string;
  status: string;
  httpStatus?: string;
  heldBefore?: string;
  previousExcludedPlans?: string;
}

/** One row of the undo roster (the roster format: it goes through plan and run like any other). */
export interface UndoRow {
  customerId: string;
  userId: string;
  userPrincipalName: string;
  sku: string; // the SKU id the run resolved
  action: "assign" | "remove";
  excludedPlans: string[];
  /** The results row's line: the roster line it reverses. */
  originalLine: number;
}

export type UndoDecision =
  | { kind: "undo"; row: UndoRow; /** Set when the plans the user had before are not known. */ warning?: string }
  | { kind: "left-out"; reason: "no-change" | "not-applied" }
  /** A change whose prior state the results do not record (a run without --diff). */
  | { kind: "unknown-before" };

/** Columns of the undo roster, in order; `originalLine` is ignored by the roster reader. */
export const UNDO_COLUMNS = ["customerId", "userId", "userPrincipalName", "sku", "action", "excludedPlans", "originalLine"] as const;

function changed(record: ResultsRecord): "assign" | "remove" | undefined {
  if (record.status === "assigned") return "assign";
  if (record.status === "removed") return "remove";
  // A row --resume kept from an earlier invocation that wrote this same file: its change stands
  // in this results file, with the answer that confirmed it.
  if (record.status === "skipped" && /^2\d\d$/.test(record.httpStatus ?? "")) return record.action === "remove" ? "remove" : record.action === "assign" ? "assign" : undefined;
  return undefined;
}

export function undoDecision(record: ResultsRecord, assumeNew: boolean): UndoDecision {
  const did = changed(record);
  if (!did) return { kind: "left-out", reason: record.status === "skipped" || record.status === "unchanged" || record.status === "planned" ? "no-change" : "not-applied" };
  const line = Number(record.line);
  const base = { customerId: record.customerId, userId: record.userId, userPrincipalName: record.userPrincipalName ?? "", sku: record.skuId || record.sku, originalLine: line };
  const held = record.heldBefore === "yes" ? true : record.heldBefore === "no" ? false : undefined;
  const previous = (record.previousExcludedPlans ?? "").split(";").filter((id) => id !== "");
  if (held === undefined && !assumeNew) return { kind: "unknown-before" };

  if (did === "assign") {
    if (held === true) return { kind: "undo", row: { ...base, action: "assign", excludedPlans: previous } }; // plans changed: put them back
    return { kind: "undo", row: { ...base, action: "remove", excludedPlans: [] } };
  }
  if (held === true) return { kind: "undo", row: { ...base, action: "assign", excludedPlans: previous } };
  if (held === false) return { kind: "left-out", reason: "no-change" }; // removed what was not there
  return {
    kind: "undo",
    row: { ...base, action: "assign", excludedPlans: [] },
    warning: `line ${line}: the plans the user had before are not known (a run without --diff); the SKU is assigned back with every plan`,
  };
}
