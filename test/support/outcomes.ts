// A row outcome of one fixed customer and SKU, for tests of the results journal: line N's user
// id ends in N, so every line is its own row.
import type { RowOutcome, RowStatus } from "../../dist/model.js";

export function outcome(line: number, status: RowStatus, extra: Partial<RowOutcome> = {}): RowOutcome {
  return {
    line,
    customerId: "0c6f1a2b-1111-4222-8333-944455556666",
    userId: `00000000-0000-4000-8000-${String(line).padStart(12, "0")}`,
    userPrincipalName: "",
    sku: "O365_BUSINESS_PREMIUM",
    skuId: "f245ecc8-75af-4f8e-b61f-27d8114de5f3",
    licenseGroup: "group1",
    action: "assign",
    status,
    attempts: 1,
    finishedAt: "2026-01-02T03:04:05.000Z",
    ...extra,
  };
}
