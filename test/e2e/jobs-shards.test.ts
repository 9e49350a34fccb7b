// End to end: --shard K/N. N shards of one roster, run one after another against one
// emulator, together give exactly the full run's results (each row once, each customer in one
// shard, each customer's SKUs fetched once), and jobs/merge-shard-results.mjs rebuilds the full
// run's results file from the shards' files.
import { afterEach, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { shardOf } from "../../dist/plan/shard.js";
import { control, startTestEmulator, type RunningEmulator } from "../support/emulator.js";
import { customer, roster, SKU, state } from "../support/state-builder.js";
import type { StateCustomer } from "../../dist/emulator/state-file.js";
import { byLine, cleanEnv, essence, readResults, REPO_ROOT, runCli, TOKEN, workdir, type ResultRow } from "../support/jobs-e2e.js";

const SHARDS = 3;
const emulators: RunningEmulator[] = [];
afterEach(async () => {
  await Promise.all(emulators.splice(0).map((e) => e.close()));
});

/** Customers 1..n until every shard of N has at least two of them. */
function customersCoveringShards(): StateCustomer[] {
  const list: StateCustomer[] = [];
  const perShard = new Map<number, number>();
  for (let index = 1; list.length < 40; index += 1) {
    const c = customer(index, 3, { powerBiPro: 10, e3: 2, minecraft: 10 }, index === 2 ? { access: "missing-gdap-role" } : {});
    list.push(c);
    const shard = shardOf(c.id, SHARDS);
    perShard.set(shard, (perShard.get(shard) ?? 0) + 1);
    if (list.length >= 6 && [...Array(SHARDS).keys()].every((k) => (perShard.get(k + 1) ?? 0) >= 2)) break;
  }
  return list;
}

const customerId = (index: number) => customer(index, 0, {}).id;

function rosterOf(customers: readonly StateCustomer[]): string {
  const rows: string[][] = [];
  for (const c of customers) {
    for (const [n, user] of c.users.entries()) {
      // Customer 3's id in upper case on some rows: still one customer, one shard, one SKU lookup.
      rows.push([c.id === customerId(3) && n === 1 ? c.id.toUpperCase() : c.id, user.id, "Power BI Pro", "assign"]);
      rows.push([c.id, user.id, "ENTERPRISEPACK", "assign"]); // 3 users, 2 seats: one 60012 per customer
      if (n === 0) rows.push([c.id, user.id, SKU.minecraft, "assign"]);
    }
    rows.push([c.id, c.users[0]!.id, "NO SUCH SKU", "assign"]); // invalid
  }
  rows.push(["not-a-customer-id", "also-not-a-user", "Power BI Pro", "assign"]); // rejected on reading
  // Interleave the customers, so a shard's rows are scattered over the roster.
  const interleaved = rows.map((row, i) => ({ row, key: (i * 7919) % rows.length })).sort((a, b) => a.key - b.key);
  return roster(interleaved.map((x) => x.row));
}

function merge(output: string, inputs: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["jobs/merge-shard-results.mjs", "--shards", String(SHARDS), "--output", output, ...inputs], { cwd: REPO_ROOT, env: cleanEnv() });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

function licensesOf(current: any): string[] {
  const held: string[] = [];
  for (const c of current.customers) {
    for (const u of c.users) for (const l of u.licenses) held.push(`${c.id}/${u.id}/${l.skuId}`);
  }
  return held.sort();
}

describe("sharding", () => {
  it("N shards together give exactly the full run's results, each row once, and merge back into the full run's file", async () => {
    const customers = customersCoveringShards();
    const dir = await workdir();
    const input = join(dir, "roster.csv");
    await writeFile(input, rosterOf(customers));
    const env = cleanEnv({ PARTNER_CENTER_ACCESS_TOKEN: TOKEN });
    // One request at a time: which of a customer's three E3 rows gets the 60012 must not depend on timing.
    const common = (em: RunningEmulator) => ["--input", input, "--base-url", em.url, "--log-format", "json", "--no-progress", "--concurrency", "1"];

    const fullEmulator = await startTestEmulator({ state: state(customers) });
    emulators.push(fullEmulator);
    const fullOutput = join(dir, "full.csv");
    const full = await runCli(["run", ...common(fullEmulator), "--output", fullOutput], { env });
    expect(full.code, full.stderr).toBe(3);
    const fullResults = await readResults(fullOutput);
    const statuses = new Set(fullResults.map((r) => r.status));
    expect([...statuses].sort()).toEqual(["assigned", "failed", "invalid"]); // a bit of everything

    // The shards, one after another, against one emulator: they touch disjoint customers.
    const shardEmulator = await startTestEmulator({ state: state(customers) });
    emulators.push(shardEmulator);
    const shardFiles: string[] = [];
    const shardResults: ResultRow[][] = [];
    for (let k = 1; k <= SHARDS; k += 1) {
      const output = join(dir, `results-shard-${k}.csv`);
      const run = await runCli(["run", ...common(shardEmulator), "--shard", `${k}/${SHARDS}`, "--output", output], { env });
      expect([0, 3], run.stderr).toContain(run.code);
      shardFiles.push(output);
      shardResults.push(await readResults(output));
    }

    // Every row once, with the full run's outcome.
    const all = shardResults.flat();
    expect(all).toHaveLength(fullResults.length);
    const fullByLine = byLine(fullResults);
    const seen = new Set<number>();
    for (const row of all) {
      const line = Number(row.line);
      expect(seen.has(line), `line ${line} in two shards`).toBe(false);
      seen.add(line);
      expect(essence(row)).toBe(essence(fullByLine.get(line)!));
    }

    // Each customer's rows in exactly one shard: the one its hash names.
    for (const c of customers) {
      const holding = shardResults.map((rows, k) => (rows.some((r) => r.customerId === c.id) ? k + 1 : 0)).filter((k) => k > 0);
      expect(holding, c.id).toEqual([shardOf(c.id, SHARDS)]);
      expect(shardResults[holding[0]! - 1]!.filter((r) => r.customerId === c.id)).toHaveLength(fullResults.filter((r) => r.customerId === c.id).length);
    }
    for (let k = 0; k < SHARDS; k += 1) expect(shardResults[k]!.length, `shard ${k + 1} is empty`).toBeGreaterThan(0);

    // Each customer's SKUs fetched once in total, and the same calls and end state as the full run.
    const [fullCounters, shardCounters] = await Promise.all([control(fullEmulator, "counters"), control(shardEmulator, "counters")]);
    for (const c of customers) expect(shardCounters.requests.byCustomer[c.id].subscribedSkus, c.id).toBe(1);
    expect(shardCounters.requests.byEndpoint).toEqual(fullCounters.requests.byEndpoint);
    expect(shardCounters.licensesAssigned).toBe(fullCounters.licensesAssigned);
    const [fullState, shardState] = await Promise.all([control(fullEmulator, "state"), control(shardEmulator, "state")]);
    expect(licensesOf(shardState)).toEqual(licensesOf(fullState));

    // The merge tool rebuilds the full run's file: same rows, in roster order, same columns.
    const merged = join(dir, "merged.csv");
    const result = await merge(merged, shardFiles);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`${fullResults.length} rows from ${SHARDS} shard files`);
    const mergedRows = await readResults(merged);
    expect(mergedRows.map(essence)).toEqual(fullResults.map(essence));
    expect(mergedRows.map((r) => Number(r.line))).toEqual([...mergedRows.map((r) => Number(r.line))].sort((a, b) => a - b));
    const header = (text: string) => text.replace(/^\uFEFF/, "").split(/\r?\n/)[0];
    expect(header(await readFile(merged, "utf8"))).toBe(header(await readFile(fullOutput, "utf8")));

    // A shard given twice is refused (test/e2e/merge-shard-results.test.ts has the other refusals).
    const twice = await merge(join(dir, "twice.csv"), [shardFiles[0]!, shardFiles[0]!, shardFiles[1]!]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/given twice/);
  });

  it("refuses a shard that is not K/N with 1 <= K <= N, with exit 2, before anything is sent", async () => {
    const c1 = customer(1, 1, { powerBiPro: 1 });
    const em = await startTestEmulator({ state: state([c1]) });
    emulators.push(em);
    const dir = await workdir();
    const input = join(dir, "roster.csv");
    await writeFile(input, roster([[c1.id, c1.users[0]!.id, "Power BI Pro"]], "customerId,userId,sku"));
    for (const spec of ["0/3", "4/3", "2", "a/b"]) {
      const run = await runCli(["run", "--input", input, "--base-url", em.url, "--shard", spec, "--no-progress"], {
        env: cleanEnv({ PARTNER_CENTER_ACCESS_TOKEN: TOKEN }),
      });
      expect(run.code, spec).toBe(2);
      expect(run.stderr).toContain(`--shard ${spec}`);
    }
    expect((await control(em, "counters")).requests.total).toBe(0);
  });
});
