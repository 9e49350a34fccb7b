// Undo's decision for one results row: what reverses it, or why it is left out.
import { describe, expect, it } from "vitest";
import { undoDecision, type ResultsRecord } from "../../dist/results/undo-roster.js";

const base: ResultsRecord = { line: "7", customerId: "c", userId: "u", userPrincipalName: "", sku: "E3", skuId: "sku-id", action: "assign", status: "assigned", httpStatus: "201" };

describe("undoDecision", () => {
  it("removes a new assignment and puts back the plans of an updated one, never removing a license held before", () => {
    expect(undoDecision({ ...base, heldBefore: "no" }, false)).toEqual({ kind: "undo", row: { customerId: "c", userId: "u", userPrincipalName: "", sku: "sku-id", action: "remove", excludedPlans: [], originalLine: 7 } });
    const updated = undoDecision({ ...base, heldBefore: "yes", previousExcludedPlans: "p1;p2" }, false);
    expect(updated.kind === "undo" && [updated.row.action, updated.row.excludedPlans]).toEqual(["assign", ["p1", "p2"]]);
  });

  it("assigns a removed SKU back with the plans it had, or with every plan and a warning when they are not known", () => {
    const known = undoDecision({ ...base, action: "remove", status: "removed", heldBefore: "yes", previousExcludedPlans: "p1" }, false);
    expect(known.kind === "undo" && [known.row.action, known.row.excludedPlans, known.warning]).toEqual(["assign", ["p1"], undefined]);
    const assumed = undoDecision({ ...base, action: "remove", status: "removed" }, true);
    expect(assumed.kind === "undo" && [assumed.row.action, assumed.row.excludedPlans]).toEqual(["assign", []]);
    expect(assumed.kind === "undo" && assumed.warning).toMatch(/line 7: the plans the user had before are not known/);
  });

  it("cannot undo a change without --diff's columns unless told to assume it was new", () => {
    expect(undoDecision(base, false)).toEqual({ kind: "unknown-before" });
    expect(undoDecision(base, true).kind).toBe("undo");
  });

  it("leaves out rows that changed nothing, and undoes a row --resume kept from an earlier invocation", () => {
    for (const status of ["unchanged", "failed", "invalid", "planned", "aborted"]) expect(undoDecision({ ...base, status, heldBefore: "no" }, false).kind).toBe("left-out");
    expect(undoDecision({ ...base, status: "skipped", httpStatus: "", heldBefore: "no" }, false).kind).toBe("left-out");
    expect(undoDecision({ ...base, status: "skipped", heldBefore: "no" }, false).kind).toBe("undo");
  });
});
