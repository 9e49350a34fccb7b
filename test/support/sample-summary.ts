// A run summary with a bit of everything, shared by the summary and renderer tests.
import { RunSummary } from "../../dist/results/summary.js";
import type { RowOutcome, RowStatus } from "../../dist/model.js";

export const CONTOSO = "0c6f1a2b-1111-4222-8333-944455556666";
export const FABRIKAM = "7a1b2c3d-4444-4555-8666-977788889999";
export const E3 = "05e9a617-0261-4cee-bb44-138d3ef5d965";

function outcome(line: number, customerId: string, sku: string, skuId: string, status: RowStatus, extra: Partial<RowOutcome> = {}): RowOutcome {
  return { line, customerId, userId: "u", userPrincipalName: "", sku, skuId, licenseGroup: "group1", action: "assign", status, attempts: 1, finishedAt: "2026-01-02T03:04:05.000Z", ...extra };
}

export function sampleSummary(): RunSummary {
  const summary = new RunSummary({ startedAt: Date.parse("2026-01-02T03:00:00.000Z") });
  summary.add(outcome(2, CONTOSO, "SPE_E3", E3, "assigned", { httpStatus: 201 }));
  summary.add(outcome(3, CONTOSO, "Microsoft 365 E3", E3, "assigned", { httpStatus: 201 }));
  summary.add(outcome(4, CONTOSO, "SPE_E3", E3, "failed", { httpStatus: 400, errorCode: "60012", errorMessage: "no licenses left" }));
  summary.add(outcome(5, FABRIKAM, "SPE_E3", E3, "failed", { httpStatus: 403, errorCode: "900150", errorMessage: "role | missing" }));
  summary.add(outcome(6, FABRIKAM, "SPE_E3", E3, "failed", { httpStatus: 403, errorCode: "900150", errorMessage: "role | missing" }));
  summary.add(outcome(7, FABRIKAM, "VISIO", "", "invalid", { errorCode: "UNKNOWN_SKU", errorMessage: "no subscribed SKU matches" }));
  summary.add(outcome(8, FABRIKAM, "SPE_E3", E3, "skipped"));
  summary.addThrottled();
  summary.addThrottled(2);
  summary.addRequests(9);
  summary.finish({
    finishedAt: Date.parse("2026-01-02T03:02:05.000Z"),
    seatCheck: [{ customerId: CONTOSO, sku: "Microsoft 365 E3", skuId: E3, licenseGroup: "group1", toAssign: 3, toRemove: 0, available: 2, shortfall: 1 }],
  });
  return summary;
}
