import { describe, expect, it } from "vitest";
import { RefusalMemory } from "../../dist/execute/refusal-memory.js";
import type { ResolvedRow } from "../../dist/model.js";
import { customerId, resetLines, row, SKU_A, SKU_B, userId } from "../support/execute-fixtures.js";

const settled = (memory: RefusalMemory, rows: ResolvedRow[]) => {
  const decided: [number, string][] = [];
  const toSend = memory.settle(rows, (r, d) => decided.push([r.line, d.message]));
  return { toSend: toSend.map((r) => r.line), decided };
};

describe("refusal memory", () => {
  it("a refused customer fails all its rows; other customers are sent", () => {
    resetLines();
    const memory = new RefusalMemory();
    memory.remember({ kind: "customer", customerId: customerId(1), decided: { errorCode: "900150", message: "customer" } });
    const rows = [row(customerId(1), userId(1), SKU_A), row(customerId(2), userId(1), SKU_A)];
    expect(settled(memory, rows)).toEqual({ toSend: [3], decided: [[2, "customer"]] });
  });

  it("a missing user fails that user's rows of that customer only", () => {
    resetLines();
    const memory = new RefusalMemory();
    memory.remember({ kind: "user", customerId: customerId(1), userId: userId(1), decided: { errorCode: "60002", message: "user" } });
    const rows = [row(customerId(1), userId(1), SKU_B), row(customerId(1), userId(2), SKU_A), row(customerId(2), userId(1), SKU_A)];
    expect(settled(memory, rows)).toEqual({ toSend: [3, 4], decided: [[2, "user"]] });
  });

  it("an exhausted SKU fails later assignments of it, not its removals; the first decision is kept", () => {
    resetLines();
    const memory = new RefusalMemory();
    memory.remember({ kind: "sku", customerId: customerId(1), skuId: SKU_A.toUpperCase(), decided: { errorCode: "60012", message: "first" } });
    memory.remember({ kind: "sku", customerId: customerId(1), skuId: SKU_A, decided: { errorCode: "60012", message: "second" } });
    const rows = [row(customerId(1), userId(1), SKU_A), row(customerId(1), userId(2), SKU_A, "remove"), row(customerId(1), userId(3), SKU_B)];
    expect(settled(memory, rows)).toEqual({ toSend: [3, 4], decided: [[2, "first"]] });
  });
});
