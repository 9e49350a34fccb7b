// End to end: --diff reads what users already hold and sends only what changes; the seat check
// counts only new seats; --fail-on keeps one customer's failed lookups from failing a plan; summaries
// name customers by their company name.
import { afterEach, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanEnv, readableStderr, readResults, runCli, type ResultRow } from "../support/cli.js";
import { control, startTestEmulator, type RunningEmulator } from "../support/emulator.js";
import { customer, roster, SKU, state, TOKEN } from "../support/state-builder.js";

const TEAMS = "57ff2da0-773e-42df-b2af-ffb7a2317929";

let emulator: RunningEmulator | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function runAgainst(em: RunningEmulator, command: "run" | "plan", rosterCsv: string, extra: string[] = []) {
  const dir = await mkdtemp(join(tmpdir(), "lr-diff-"));
  dirs.push(dir);
  const input = join(dir, "roster.csv");
  const output = join(dir, "results.csv");
  const summaryJson = join(dir, "summary.json");
  await writeFile(input, rosterCsv);
  const run = await runCli(
    [command, "--input", input, "--output", output, "--summary-json", summaryJson, "--base-url", em.url, "--log-format", "json", "--no-progress", ...extra],
    { env: cleanEnv({ PARTNER_CENTER_ACCESS_TOKEN: TOKEN }) },
  );
  const results = await readResults(output).catch(() => [] as ResultRow[]);
  const summary = JSON.parse(await readFile(summaryJson, "utf8").catch(() => "null"));
  return { run, results, summary };
}

function statuses(results: ResultRow[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) counts[r.status!] = (counts[r.status!] ?? 0) + 1;
  return counts;
}

describe("run --diff", () => {
  it("with 80% of the roster in place, reads each user's licenses and writes only the other 20%", async () => {
    const c = customer(1, 10, { e3: 10, powerBiPro: 10 });
    // Users 1-8 hold E3 already (user 8 with Teams excluded, as the roster asks); users 9-10 hold nothing.
    c.users.forEach((user, n) => {
      if (n < 8) user.licenses = [{ skuId: SKU.e3, ...(n === 7 ? { excludedPlans: [TEAMS] } : {}) }];
    });
    emulator = await startTestEmulator({ state: state([c]) });
    const rows = c.users.map((user, n) => [c.id, user.id, "ENTERPRISEPACK", "assign", n === 7 ? "TEAMS1" : ""]);
    const { run, results, summary } = await runAgainst(emulator, "run", roster(rows, "customerId,userId,sku,action,excludedPlans"), ["--diff"]);

    expect(run.code, run.stderr).toBe(0);
    expect(statuses(results)).toEqual({ unchanged: 8, assigned: 2 });
    expect(results.filter((r) => r.status === "assigned").map((r) => Number(r.line)).sort()).toEqual([10, 11]);
    for (const r of results.filter((x) => x.status === "unchanged")) expect([r.httpStatus, r.attempts, r.requestId]).toEqual(["", "0", ""]);

    const counters = await control(emulator, "counters");
    expect(counters.requests.byEndpoint.userLicenses).toBe(10);
    expect(counters.requests.byEndpoint.licenseUpdates).toBe(2);
    const perCustomer = counters.requests.byCustomer[c.id];
    expect(summary.requests.reads).toBe(perCustomer.subscribedSkus + perCustomer.customer + perCustomer.userLicenses);
    expect(summary.rows.byStatus.unchanged).toBe(8);
  });

  it("sends a held SKU with other excluded plans as an update, and leaves a removal of a SKU not held unchanged", async () => {
    const c = customer(1, 3, { e3: 3, powerBiPro: 3 });
    c.users[0]!.licenses = [{ skuId: SKU.e3, excludedPlans: [TEAMS] }];
    c.users[1]!.licenses = [{ skuId: SKU.powerBiPro }];
    emulator = await startTestEmulator({ state: state([c]) });
    const csv = roster(
      [
        [c.id, c.users[0]!.id, "ENTERPRISEPACK", "assign", ""], // held without Teams: now every plan
        [c.id, c.users[1]!.id, "Power BI Pro", "remove", ""], // held: removed
        [c.id, c.users[2]!.id, "Power BI Pro", "remove", ""], // not held: unchanged
      ],
      "customerId,userId,sku,action,excludedPlans",
    );
    const { run, results } = await runAgainst(emulator, "run", csv, ["--diff"]);
    expect(run.code, run.stderr).toBe(0);
    expect(results.sort((a, b) => Number(a.line) - Number(b.line)).map((r) => r.status)).toEqual(["assigned", "removed", "unchanged"]);

    const live = await control(emulator, `state?customerId=${c.id}`);
    const users = live.customers[0].users;
    expect(users[0].licenses).toEqual([{ skuId: SKU.e3, excludedPlans: [] }]);
    expect(users[1].licenses).toEqual([]);
    const e3 = live.customers[0].subscribedSkus.find((s: { productSku: { id: string } }) => s.productSku.id === SKU.e3);
    expect(e3.consumedUnits).toBe(1); // the update took no second seat
    expect((await control(emulator, "counters")).requests.byEndpoint.licenseUpdates).toBe(2);
  });
});

describe("plan: true seat math", () => {
  it("with --diff, re-listed holders need no seat and the shortfall is exactly the missing new seats; without it the count is an upper bound", async () => {
    const c = customer(1, 5, { powerBiPro: 3, e3: 2 });
    for (const user of c.users.slice(0, 3)) user.licenses = [{ skuId: SKU.powerBiPro }]; // every Power BI seat is taken by users 1-3
    emulator = await startTestEmulator({ state: state([c]) });
    const rows = [
      ...c.users.slice(0, 3).map((user) => [c.id, user.id, "Power BI Pro"]), // the holders, re-listed
      ...c.users.map((user) => [c.id, user.id, "ENTERPRISEPACK"]), // 5 new E3 seats, 2 available
    ];
    const csv = roster(rows, "customerId,userId,sku");

    const diffed = await runAgainst(emulator, "plan", csv, ["--diff"]);
    expect(diffed.run.code, diffed.run.stderr).toBe(3);
    const seats = Object.fromEntries(diffed.summary.seatCheck.map((s: { sku: string }) => [s.sku, s]));
    expect(seats["Power BI Pro"]).toBeUndefined(); // every row of it is in place: nothing to count
    expect(seats["Office 365 Enterprise E3"]).toMatchObject({ toAssign: 5, available: 2, shortfall: 3, exact: true });
    expect(diffed.summary.shortfall).toBe(3);
    expect(statuses(diffed.results)).toEqual({ unchanged: 3, planned: 5 });
    expect(readableStderr(diffed.run.stderr)).toMatch(/Seat counts are exact/);

    const holdersOnly = roster(rows.slice(0, 3), "customerId,userId,sku");
    const fine = await runAgainst(emulator, "plan", holdersOnly, ["--diff"]);
    expect(fine.run.code, fine.run.stderr).toBe(0);
    expect(fine.summary.shortfall).toBe(0);

    const bound = await runAgainst(emulator, "plan", holdersOnly);
    expect(bound.run.code).toBe(3);
    expect(bound.summary.seatCheck[0]).toMatchObject({ toAssign: 3, shortfall: 3 });
    expect(bound.summary.seatCheck[0].exact).toBeUndefined();
    expect(readableStderr(bound.run.stderr)).toMatch(/Seat counts are upper bounds/);
    expect((await control(emulator, "counters")).requests.byEndpoint.licenseUpdates ?? 0).toBe(0);
  });
});

describe("plan --fail-on", () => {
  it("reports a customer whose lookups fail but, with --fail-on invalid,shortfall, does not fail the plan for the others", async () => {
    const blocked = customer(1, 2, { e3: 5 }, { access: "missing-gdap-role" });
    const fine = customer(2, 2, { e3: 5 });
    emulator = await startTestEmulator({ state: state([blocked, fine]) });
    const csv = roster([...blocked.users, ...fine.users].map((user, n) => [n < 2 ? blocked.id : fine.id, user.id, "ENTERPRISEPACK"]), "customerId,userId,sku");

    const strict = await runAgainst(emulator, "plan", csv);
    expect(strict.run.code).toBe(3);
    const lenient = await runAgainst(emulator, "plan", csv, ["--fail-on", "invalid,shortfall"]);
    expect(lenient.run.code, lenient.run.stderr).toBe(0);
    expect(statuses(lenient.results)).toEqual({ failed: 2, planned: 2 });
    expect(lenient.results.filter((r) => r.status === "failed").every((r) => r.customerId === blocked.id && r.errorCode === "900150")).toBe(true);

    const invalid = roster([[fine.id, fine.users[0]!.id, "Visio Plan 2"]], "customerId,userId,sku");
    expect((await runAgainst(emulator, "plan", invalid, ["--fail-on", "invalid,shortfall"])).run.code).toBe(3);
    const usage = await runAgainst(emulator, "plan", csv, ["--fail-on", "everything"]);
    expect(usage.run.code).toBe(2);
    expect(readableStderr(usage.run.stderr)).toMatch(/--fail-on everything: expected/);
  });
});

describe("customer names", () => {
  it("names each customer by its company name in the summary and the seat check; a failed read leaves the id", async () => {
    const named = customer(1, 1, { e3: 1 }, { companyName: "Contoso Pharmaceuticals" });
    const blocked = customer(2, 1, { e3: 1 }, { access: "missing-gdap-role", companyName: "Fabrikam" });
    emulator = await startTestEmulator({ state: state([named, blocked]) });
    const csv = roster([named, blocked].map((c) => [c.id, c.users[0]!.id, "ENTERPRISEPACK"]), "customerId,userId,sku");
    const { run, summary } = await runAgainst(emulator, "plan", csv);
    expect(run.code).toBe(3);
    const byId = Object.fromEntries(summary.customers.map((entry: { customerId: string }) => [entry.customerId, entry]));
    expect(byId[named.id].customerName).toBe("Contoso Pharmaceuticals");
    expect(byId[blocked.id].customerName).toBeUndefined();
    expect(summary.seatCheck[0]).toMatchObject({ customerId: named.id, customerName: "Contoso Pharmaceuticals" });
    expect(readableStderr(run.stderr)).toContain(`${named.id} (Contoso Pharmaceuticals)`);
    expect(readableStderr(run.stderr)).not.toContain("Fabrikam");
    expect((await control(emulator, "counters")).requests.byCustomer[named.id].customer).toBe(1);
  });
});
