// The plan of a plain customer over the compact roster is planCustomer's, request for request: on
// seeded random customers (users repeated anywhere in the file, SKUs named by id, part number or
// name, two license groups, removals, duplicates, conflicts, unknown SKUs, rows already done) it
// either gives the same rows in the same order and the same seat lines, or declines, and it
// declines only where planCustomer refuses a row.
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../dist/emulator/faults.js";
import { SkuCatalog } from "../../dist/catalog/sku-catalog.js";
import { planCustomer } from "../../dist/plan/plan-customer.js";
import { planPlainCustomer } from "../../dist/plan/plain-customer-plan.js";
import { TypedArrayRoster } from "../../dist/pipeline/compact-roster.js";
import { eachPlannedOutcome, plannedOutcome } from "../../dist/pipeline/row-outcomes.js";
import type { RosterRow, RowOutcome } from "../../dist/model.js";
import { guid, SKU, subscribedSkus } from "../support/state-builder.js";

const CUSTOMER = guid(0xc0000001, 0);

function catalog(): SkuCatalog {
  return new SkuCatalog(subscribedSkus({ powerBiPro: 30, e3: 5, minecraft: 2 }));
}

const CATALOG = catalog();

const NAMES = [SKU.powerBiPro, "POWER_BI_PRO", "power bi pro", SKU.e3, "ENTERPRISEPACK", "Office 365 Enterprise E3", "CFQ7TTC0K5DR/0002", SKU.minecraft];

function customerRows(seed: number): RosterRow[] {
  const next = seededRandom(seed);
  const users = 1 + Math.floor(next() * 40);
  const count = 1 + Math.floor(next() * 120);
  const clean = next() < 0.5; // half the customers: every user names each SKU at most once
  const rows: RosterRow[] = [];
  const named = new Set<string>();
  for (let k = 0; k < count; k++) {
    const user = guid(0xa0000001, Math.floor(next() * users));
    let sku = next() < 0.02 ? "NO_SUCH_SKU" : NAMES[Math.floor(next() * NAMES.length)]!;
    const key = (name: string): string => {
      const match = CATALOG.match(name);
      return `${user} ${match.ok ? match.value.skuId : name}`;
    };
    if (clean && named.has(key(sku))) continue;
    if (clean && sku === "NO_SUCH_SKU") sku = NAMES[0]!;
    if (clean && named.has(key(sku))) continue;
    named.add(key(sku));
    rows.push({ line: 2 + k, customerId: CUSTOMER, userId: user, sku, excludedPlans: [], action: next() < 0.2 ? "remove" : "assign" });
  }
  return rows;
}

function rosterOf(rows: readonly RosterRow[]): TypedArrayRoster {
  const roster = new TypedArrayRoster();
  for (const row of rows) roster.add(row);
  roster.trim();
  return roster;
}

describe("planPlainCustomer", () => {
  it("plans what planCustomer plans, in its order, or declines where planCustomer refuses a row", () => {
    let planned = 0;
    let declined = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const rows = customerRows(seed);
      const done = new Set(rows.filter((_, k) => (seed % 3 === 0 ? k % 7 === 3 : false)).map((row) => row.line));
      const skuCatalog = catalog();
      const expected = planCustomer({ customerId: CUSTOMER, rows: rows.filter((row) => !done.has(row.line)), skus: skuCatalog });
      const plainRows = rosterOf(rows).plainRowsOf(CUSTOMER);
      expect(plainRows, `seed ${seed}`).toBeDefined();
      const plain = planPlainCustomer(CUSTOMER, plainRows!, skuCatalog, (index) => !done.has(plainRows!.lineAt(index)));
      if (plain === undefined) {
        expect(expected.refused.length, `seed ${seed}: declined though nothing is refused`).toBeGreaterThan(0);
        declined++;
        continue;
      }
      expect(expected.refused, `seed ${seed}`).toEqual([]);
      expect(plain.requestCount, `seed ${seed}`).toBe(expected.requests.length);
      expect(plain.seatRows, `seed ${seed}`).toEqual(expected.seatRows);
      const outcomes: RowOutcome[] = [];
      eachPlannedOutcome(CUSTOMER, plain, "corr", (outcome) => outcomes.push({ ...outcome, finishedAt: "" }));
      const wanted = expected.requests.flatMap((request) => request.rows.map((row) => ({ ...plannedOutcome(row, "corr"), finishedAt: "" })));
      expect(outcomes, `seed ${seed}`).toEqual(wanted);
      planned++;
    }
    // Both branches are exercised.
    expect(planned).toBeGreaterThan(100);
    expect(declined).toBeGreaterThan(50);
  });

  it("plans a customer of many blocks of rows (users spread over the whole file) as planCustomer does", () => {
    const rows: RosterRow[] = [];
    for (let k = 0; k < 20_000; k++) {
      const user = guid(0xa0000001, (k * 7919) % 9_000); // a user's rows thousands of lines apart
      rows.push({ line: 2 + k, customerId: CUSTOMER, userId: user, sku: NAMES[(k * 3) % NAMES.length]!, excludedPlans: [], action: k % 5 ? "assign" : "remove" });
    }
    const roster = rosterOf(rows);
    expect(roster.rowsOf(CUSTOMER)).toEqual(rows);
    // Each user keeps the first row naming each SKU (the rest would be duplicates or conflicts).
    const seen = new Set<string>();
    const kept = rows.filter((row) => {
      const match = CATALOG.match(row.sku);
      const key = `${row.userId} ${match.ok ? match.value.skuId : row.sku}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    const keptRoster = rosterOf(kept);
    const plainRows = keptRoster.plainRowsOf(CUSTOMER)!;
    const plain = planPlainCustomer(CUSTOMER, plainRows, CATALOG, () => true);
    const expected = planCustomer({ customerId: CUSTOMER, rows: kept, skus: CATALOG });
    expect(expected.refused).toEqual([]);
    expect(plain).toBeDefined();
    const outcomes: number[] = [];
    eachPlannedOutcome(CUSTOMER, plain!, "corr", (outcome) => outcomes.push(outcome.line));
    expect(outcomes).toEqual(expected.requests.flatMap((request) => request.rows.map((row) => row.line)));
    expect(plain!.seatRows).toEqual(expected.seatRows);
    // With the duplicates in, it declines.
    expect(planPlainCustomer(CUSTOMER, roster.plainRowsOf(CUSTOMER)!, CATALOG, () => true)).toBeUndefined();
  });

  it("is not offered a customer with a row kept as read (a principal name, excluded plans, usage location)", () => {
    const base = { customerId: CUSTOMER, sku: "POWER_BI_PRO", excludedPlans: [] as string[], action: "assign" as const };
    for (const odd of [{ userId: undefined, userPrincipalName: "x@y.example" }, { excludedPlans: ["TEAMS1"] }, { usageLocation: "GB" }, { userId: "A0000001-0000-4000-8000-000000000001" }]) {
      const roster = rosterOf([{ ...base, line: 2, userId: guid(0xa0000001, 1) }, { ...base, line: 3, userId: guid(0xa0000001, 2), ...odd }]);
      expect(roster.plainRowsOf(CUSTOMER)).toBeUndefined();
    }
  });
});
