import { describe, expect, it } from "vitest";
import { RunSummary } from "../../dist/results/summary.js";
import type { RowOutcome, RowStatus } from "../../dist/model.js";
import { CONTOSO, E3, FABRIKAM, sampleSummary } from "../support/sample-summary.js";

function outcome(line: number, customerId: string, sku: string, skuId: string, status: RowStatus, extra: Partial<RowOutcome> = {}): RowOutcome {
  return { line, customerId, userId: "u", userPrincipalName: "", sku, skuId, licenseGroup: "group1", action: "assign", status, attempts: 1, finishedAt: "2026-01-02T03:04:05.000Z", ...extra };
}

describe("run summary", () => {
  it("counts by status, customer, SKU and error code", () => {
    const document = sampleSummary().toJSON();
    expect(document.rows).toEqual({ total: 7, byStatus: { assigned: 2, removed: 0, skipped: 1, unchanged: 0, planned: 0, failed: 3, invalid: 1, aborted: 0 } });
    expect(document.customers.map((c) => [c.customerId, c.total, c.byStatus.assigned, c.byStatus.failed, c.byStatus.invalid])).toEqual([
      [CONTOSO, 3, 2, 1, 0],
      [FABRIKAM, 4, 0, 2, 1],
    ]);
    // One SKU written two ways counts once under its id; an unresolved SKU counts as written.
    expect(document.skus.map((s) => [s.sku, s.skuId, s.total])).toEqual([
      ["SPE_E3", E3, 6],
      ["VISIO", "", 1],
    ]);
    expect(document.errors.map((e) => [e.errorCode, e.count, e.httpStatus])).toEqual([
      ["900150", 2, 403],
      ["60012", 1, 400],
      ["UNKNOWN_SKU", 1, null],
    ]);
    expect(document.errors[0]!.advice).toMatch(/GDAP/);
    expect(document.requests).toEqual({ sent: 9, throttled: 3, reads: 0 });
    expect(document.durationMs).toBe(125_000);
    expect(document.stop).toEqual({ reason: "completed" });
    expect(document.mode).toBe("run");
    expect(document.shortfall).toBe(1);
    expect(document.seatCheck).toHaveLength(1);
    expect(JSON.parse(JSON.stringify(sampleSummary()))).toEqual(document);
  });

  it("labels a resolved SKU with its product name, however the roster wrote it", () => {
    const summary = new RunSummary({ startedAt: 0 });
    summary.add(outcome(2, CONTOSO, E3, E3, "skipped")); // resumed from the file: only the SKU as written
    summary.add(outcome(3, CONTOSO, E3.toUpperCase(), E3, "assigned", { skuName: "Microsoft 365 E3" }));
    summary.add(outcome(4, CONTOSO, "SPE_E3", E3, "assigned", { skuName: "Microsoft 365 E3" }));
    expect(summary.toJSON().skus.map((s) => [s.sku, s.skuId, s.total])).toEqual([["Microsoft 365 E3", E3, 3]]);
  });

  it("reports how a run stopped, and plan mode", () => {
    const summary = new RunSummary({ startedAt: new Date(0), dryRun: true });
    summary.add(outcome(2, CONTOSO, "SPE_E3", E3, "aborted", { errorCode: "RUN_STOPPED" }));
    summary.finish({ finishedAt: 1000, stoppedBy: { kind: "run-fatal", errorCode: "900316", httpStatus: 400, message: "Partner token is not allowed" } });
    const document = summary.toJSON();
    expect(document.mode).toBe("plan");
    expect(document.stop).toEqual({ reason: "run-fatal", errorCode: "900316", httpStatus: 400, message: "Partner token is not allowed" });
    summary.finish({ finishedAt: 1000, stoppedBy: { kind: "interrupted" } });
    expect(summary.toJSON().stop).toEqual({ reason: "interrupted" });
  });

  it("gives the progress counts and the status counts", () => {
    const summary = sampleSummary();
    expect(summary.progressCounts()).toEqual({ done: 7, assigned: 2, removed: 0, failed: 3, invalid: 1, throttled: 3 });
    expect(summary.byStatus().failed).toBe(3);
  });
});
