// The compact roster gives back every row exactly as the reader made it, whatever fields it sets.
import { describe, expect, it } from "vitest";
import { TypedArrayRoster } from "../../dist/pipeline/compact-roster.js";
import type { RosterRow } from "../../dist/model.js";

const A = "c0000001-0000-4000-8000-000000000000";
const B = "c0000002-0000-4000-8000-000000000000";
const user = (n: number): string => `a0000001-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;

function row(line: number, customerId: string, extra: Partial<RosterRow> = {}): RosterRow {
  return { line, customerId, userId: user(line), sku: line % 2 ? "ENTERPRISEPACK" : "Power BI Pro", excludedPlans: [], action: line % 3 ? "assign" : "remove", ...extra };
}

describe("TypedArrayRoster", () => {
  it("returns each customer's rows in file order, plain and unusual ones alike, with every field", () => {
    const rows: RosterRow[] = [];
    for (let line = 2; line < 300; line++) rows.push(row(line, line % 4 ? A : B));
    rows.push(row(300, A, { usageLocation: "GB" }));
    rows.push(row(301, A, { userId: undefined, userPrincipalName: "x@y.example" }));
    rows.push(row(302, B, { excludedPlans: ["TEAMS1"] }));
    rows.push(row(303, B, { userId: "not-a-lower-case-guid" }));
    const roster = new TypedArrayRoster();
    for (const r of rows) roster.add(r);

    expect(roster.customers).toEqual([A, B]);
    expect(roster.rowCount).toBe(rows.length);
    for (const customerId of [A, B]) {
      const mine = rows.filter((r) => r.customerId === customerId);
      expect(roster.rowsOf(customerId)).toEqual(mine);
      expect([...roster.linesOf(customerId)]).toEqual(mine.map((r) => r.line));
    }
    expect(roster.usesPrincipalNames(A)).toBe(true);
    expect(roster.usesPrincipalNames(B)).toBe(false);
    expect(roster.rowsOf("c0000009-0000-4000-8000-000000000000")).toEqual([]);
  });
});
