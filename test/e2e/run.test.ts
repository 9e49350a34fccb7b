// End to end: the built CLI against the emulator on loopback, as a user runs it.
import { afterEach, describe, expect, it } from "vitest";
import { mkdtemp, writeFile, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanEnv, readResults, runCli, type ResultRow } from "../support/cli.js";
import { control, requestLog, startTestEmulator, type RunningEmulator } from "../support/emulator.js";
import { expectRetriesAfterRetryAfter } from "../support/retries-in-log.js";
import { customer, roster, SKU, state, TOKEN } from "../support/state-builder.js";

let emulator: RunningEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function workdir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "lr-e2e-"));
}

async function runAgainst(em: RunningEmulator, rosterCsv: string, extra: string[] = []) {
  const dir = await workdir();
  const input = join(dir, "roster.csv");
  const output = join(dir, "results.csv");
  await writeFile(input, rosterCsv);
  const run = await runCli(["run", "--input", input, "--output", output, "--base-url", em.url, "--log-format", "json", "--no-progress", ...extra], {
    env: cleanEnv({ PARTNER_CENTER_ACCESS_TOKEN: TOKEN }),
  });
  const results = await readResults(output).catch(() => [] as ResultRow[]);
  return { run, results, dir, input, output };
}

function byLine(results: ResultRow[]): Map<number, ResultRow> {
  return new Map(results.map((r) => [Number(r.line), r]));
}

describe("run, end to end against the emulator", () => {
  it("assigns a user's group1 SKUs in one request, group2 in another, and fetches SKUs once per customer", async () => {
    const c1 = customer(1, 12, { powerBiPro: 50, e3: 50, minecraft: 50 });
    const c2 = customer(2, 5, { powerBiPro: 50 });
    emulator = await startTestEmulator({ state: state([c1, c2]) });
    const rows: string[][] = [];
    for (const user of c1.users) {
      rows.push([c1.id, user.id, "Power BI Pro", "assign"]); // by name
      rows.push([c1.id, user.id, "enterprisepack", "assign"]); // by part number, any case
      rows.push([c1.id, user.id, SKU.minecraft, "assign"]); // by id, group2
    }
    for (const user of c2.users) rows.push([c2.id, user.id, "POWER_BI_PRO", ""]);
    const { run, results } = await runAgainst(emulator, roster(rows), ["--concurrency", "6"]);

    expect(run.code, run.stderr).toBe(0);
    expect(results).toHaveLength(rows.length);
    expect(results.every((r) => r.status === "assigned" && r.httpStatus === "201")).toBe(true);
    // lines are the input's: header is line 1
    expect(results.map((r) => Number(r.line)).sort((a, b) => a - b)).toEqual(rows.map((_, i) => i + 2));

    const counters = await control(emulator, "counters");
    expect(counters.requests.byCustomer[c1.id].subscribedSkus).toBe(1);
    expect(counters.requests.byCustomer[c2.id].subscribedSkus).toBe(1);
    // one request per (user, license group): 12 users x 2 groups + 5 users x 1 group
    expect(counters.requests.byEndpoint.licenseUpdates).toBe(12 * 2 + 5);

    const lines = byLine(results);
    for (let u = 0; u < c1.users.length; u++) {
      const [pbi, e3, minecraft] = [0, 1, 2].map((k) => lines.get(2 + u * 3 + k)!);
      expect(pbi.requestId).toBe(e3.requestId); // one request carries the user's group1 SKUs
      expect(minecraft.requestId).not.toBe(pbi.requestId); // never mixed with group2
      expect(minecraft.licenseGroup).toBe("group2");
      expect(pbi.skuId).toBe(SKU.powerBiPro);
    }
    const current = await control(emulator, "state");
    const c1Now = current.customers.find((c: { id: string }) => c.id === c1.id);
    const consumed = (id: string) => c1Now.subscribedSkus.find((s: any) => s.productSku.id === id).consumedUnits;
    expect([consumed(SKU.powerBiPro), consumed(SKU.e3), consumed(SKU.minecraft)]).toEqual([12, 12, 12]);
  });

  it("records 60012 when seats run out mid-roster, assigns the rest, and the seat counts match the results", async () => {
    const c1 = customer(1, 10, { powerBiPro: 100, e3: 4 });
    emulator = await startTestEmulator({ state: state([c1]) });
    const rows: string[][] = [];
    for (const user of c1.users) {
      rows.push([c1.id, user.id, SKU.powerBiPro, "assign"]);
      rows.push([c1.id, user.id, SKU.e3, "assign"]);
    }
    const { run, results } = await runAgainst(emulator, roster(rows), ["--concurrency", "3"]);

    expect(run.code, run.stderr).toBe(3); // finished, some rows failed
    expect(results).toHaveLength(20);
    const e3 = results.filter((r) => r.skuId === SKU.e3);
    const pbi = results.filter((r) => r.skuId === SKU.powerBiPro);
    expect(pbi.every((r) => r.status === "assigned")).toBe(true); // a 60012 on E3 never costs Power BI
    expect(e3.filter((r) => r.status === "assigned")).toHaveLength(4);
    const refused = e3.filter((r) => r.status === "failed");
    expect(refused).toHaveLength(6);
    expect(refused.every((r) => r.errorCode === "60012")).toBe(true);
    expect(refused.some((r) => r.httpStatus === "400" && /run out of licenses/.test(r.errorMessage!))).toBe(true);

    const current = await control(emulator, "state");
    const skus = current.customers[0].subscribedSkus;
    const now = (id: string) => skus.find((s: any) => s.productSku.id === id);
    expect(now(SKU.e3).consumedUnits).toBe(4);
    expect(now(SKU.e3).availableUnits).toBe(0);
    expect(now(SKU.powerBiPro).consumedUnits).toBe(10);
  });

  it("never retries before Retry-After under throttling, and every row still completes", async () => {
    const c1 = customer(1, 30, { powerBiPro: 100 });
    emulator = await startTestEmulator({ state: state([c1]), rateLimit: { perCustomer: { ratePerSecond: 10, burst: 5 } } });
    const rows = c1.users.map((u) => [c1.id, u.id, "Power BI Pro", "assign"]);
    const { run, results } = await runAgainst(emulator, roster(rows), ["--concurrency", "8"]);

    expect(run.code, run.stderr).toBe(0);
    expect(results.filter((r) => r.status === "assigned")).toHaveLength(30);
    expectRetriesAfterRetryAfter(await requestLog(emulator));
  });

  it("keeps to --max-rate calls per second for the whole partner (a shard's share)", async () => {
    const customers = [customer(1, 10, { powerBiPro: 20 }), customer(2, 10, { powerBiPro: 20 })];
    emulator = await startTestEmulator({ state: state(customers) });
    const rows = customers.flatMap((c) => c.users.map((u) => [c.id, u.id, "Power BI Pro", "assign"]));
    const { run, results } = await runAgainst(emulator, roster(rows), ["--concurrency", "8", "--max-rate", "10"]);

    expect(run.code, run.stderr).toBe(0);
    expect(results.filter((r) => r.status === "assigned")).toHaveLength(20);
    const arrivals = (await requestLog(emulator))
      .filter((e) => e.endpoint === "licenseUpdates")
      .map((e) => e.arrivalMs)
      .sort((a, b) => a - b);
    // 20 starts 100 ms apart: about 1.9 s, never more than 10 (+1 for timer jitter) in any second.
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThanOrEqual(1_700);
    for (const start of arrivals) expect(arrivals.filter((t) => t >= start && t < start + 1_000).length).toBeLessThanOrEqual(11);
  });

  it("fails a customer without a GDAP role and lets the others proceed; plan sends no write", async () => {
    const ok = customer(1, 3, { powerBiPro: 10 });
    const blocked = customer(2, 3, { powerBiPro: 10 }, { access: "missing-gdap-role" });
    emulator = await startTestEmulator({ state: state([ok, blocked]) });
    const rows = [...ok.users.map((u) => [ok.id, u.id, "Power BI Pro"]), ...blocked.users.map((u) => [blocked.id, u.id, "Power BI Pro"])];
    const csv = roster(rows, "customerId,userId,sku");

    const dir = await workdir();
    const input = join(dir, "roster.csv");
    await writeFile(input, csv);
    const plan = await runCli(["plan", "--input", input, "--output", join(dir, "plan.csv"), "--base-url", emulator.url, "--no-progress"], {
      env: cleanEnv({ PARTNER_CENTER_ACCESS_TOKEN: TOKEN }),
    });
    const planned = await readResults(join(dir, "plan.csv"));
    expect(planned.filter((r) => r.status === "planned")).toHaveLength(3);
    expect(plan.code).toBe(3); // the blocked customer's rows are failed
    expect((await control(emulator, "counters")).requests.byEndpoint.licenseUpdates ?? 0).toBe(0);

    const { run, results } = await runAgainst(emulator, csv);
    expect(run.code).toBe(3);
    const lines = byLine(results);
    for (const n of [2, 3, 4]) expect(lines.get(n)!.status).toBe("assigned");
    for (const n of [5, 6, 7]) {
      expect(lines.get(n)!.status).toBe("failed");
      expect(lines.get(n)!.errorCode).toBe("900150");
      expect(lines.get(n)!.httpStatus).toBe("403");
    }
  });

  it("runs the demo job on the embedded emulator with no credentials", async () => {
    const dir = await workdir();
    const output = join(dir, "demo.results.csv");
    const summaryJson = join(dir, "demo.summary.json");
    const run = await runCli(["run", "--job", "jobs/demo.json", "--output", output, "--summary-json", summaryJson, "--no-progress", "--log-format", "pretty"]);
    expect(run.code, run.stderr).toBe(3); // the demo roster holds rows that fail by design (fixtures/demo/EXPECTED.md)
    const results = await readResults(output);
    const rosterLines = (await readFile("fixtures/demo/roster.csv", "utf8")).split(/\r?\n/).filter((l) => l.trim() !== "").length - 1;
    expect(results).toHaveLength(rosterLines);
    expect(results.some((r) => r.status === "assigned")).toBe(true);
    const summary = JSON.parse(await readFile(summaryJson, "utf8"));
    expect(summary).toBeTypeOf("object");
    expect(run.stderr).toMatch(/results/i);
  });
});

