// End to end: the usageLocation column and --usage-location set a user's usage location (PATCH)
// before its licenses, only when it has none or another; an invalid code is refused before any
// call; a refused PATCH fails that user's rows with their own code; a user left without one gets
// advice to add the column.
import { afterEach, describe, expect, it } from "vitest";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanEnv, readResults, runCli, type ResultRow } from "../support/cli.js";
import { control, requestLog, startTestEmulator, type RunningEmulator } from "../support/emulator.js";
import { customer, roster, state, TOKEN } from "../support/state-builder.js";

let emulator: RunningEmulator | undefined;
let proxy: Server | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  proxy = undefined;
  await emulator?.close();
  emulator = undefined;
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function runAgainst(baseUrl: string, rosterCsv: string, extra: string[] = []) {
  const dir = await mkdtemp(join(tmpdir(), "lr-usage-"));
  dirs.push(dir);
  const input = join(dir, "roster.csv");
  const output = join(dir, "results.csv");
  const summaryJson = join(dir, "summary.json");
  await writeFile(input, rosterCsv);
  const run = await runCli(["run", "--input", input, "--output", output, "--summary-json", summaryJson, "--base-url", baseUrl, "--log-format", "json", "--no-progress", ...extra], {
    env: cleanEnv({ PARTNER_CENTER_ACCESS_TOKEN: TOKEN }),
  });
  const results = (await readResults(output).catch(() => [] as ResultRow[])).sort((a, b) => Number(a.line) - Number(b.line));
  const summary = JSON.parse(await readFile(summaryJson, "utf8").catch(() => "null"));
  return { run, results, summary };
}

/** Forwards to the emulator, but answers every user PATCH 403 900150 (a partner user without the GDAP role to update users). */
async function refusingPatches(target: string): Promise<string> {
  const upstream = new URL(target);
  proxy = createServer((req, res) => {
    if (req.method === "PATCH") {
      req.resume();
      res.writeHead(403, { "content-type": "application/json" });
      res.end(JSON.stringify({ code: 900150, description: "The supplied role does not have the rights to perform the requested operation", data: [], source: "PartnerFD" }));
      return;
    }
    const forward = httpRequest({ hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => proxy!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(proxy!.address() as AddressInfo).port}`;
}

describe("usage locations", () => {
  it("sets the usage location of users without one or with another (one PATCH each), never of users whose location matches", async () => {
    const c = customer(1, 6, { e3: 10 });
    c.users[0]!.usageLocation = null;
    c.users[1]!.usageLocation = null;
    c.users[2]!.usageLocation = "DE"; // another: changed
    c.users[4]!.usageLocation = null; // gets --usage-location
    emulator = await startTestEmulator({ state: state([c]) });
    const csv = roster(
      [
        [c.id, c.users[0]!.id, "ENTERPRISEPACK", "us"],
        [c.id, c.users[1]!.id, "ENTERPRISEPACK", "GB"],
        [c.id, c.users[2]!.id, "ENTERPRISEPACK", "US"],
        [c.id, c.users[3]!.id, "ENTERPRISEPACK", "US"], // already US: no PATCH
        [c.id, c.users[4]!.id, "ENTERPRISEPACK", ""],
        [c.id, c.users[5]!.id, "ENTERPRISEPACK", ""], // already US = the default: no PATCH
      ],
      "customerId,userId,sku,usage location",
    );
    const { run, results } = await runAgainst(emulator.url, csv, ["--usage-location", "us"]);
    expect(run.code, run.stderr).toBe(0);
    expect(results.map((r) => r.status)).toEqual(Array(6).fill("assigned"));

    const counters = await control(emulator, "counters");
    expect(counters.requests.byEndpoint.userUpdate).toBe(4);
    const log = await requestLog(emulator);
    const patched = log.filter((e) => e.endpoint === "userUpdate").map((e) => e.userId);
    expect(new Set(patched)).toEqual(new Set([0, 1, 2, 4].map((n) => c.users[n]!.id)));
    // Each PATCH came before its user's license update.
    for (const userId of patched) {
      const order = log.filter((e) => e.userId === userId).map((e) => e.endpoint);
      expect(order).toEqual(["userUpdate", "licenseUpdates"]);
    }
    const live = await control(emulator, `state?customerId=${c.id}`);
    expect(live.customers[0].users.map((u: { usageLocation: string }) => u.usageLocation)).toEqual(["US", "GB", "US", "US", "US", "US"]);
  });

  it("refuses an invalid country code before any call", async () => {
    const c = customer(1, 2, { e3: 10 });
    emulator = await startTestEmulator({ state: state([c]) });
    const csv = roster([[c.id, c.users[0]!.id, "ENTERPRISEPACK", "XX"], [c.id, c.users[1]!.id, "ENTERPRISEPACK", "US"]], "customerId,userId,sku,country");
    const { run, results } = await runAgainst(emulator.url, csv);
    expect(run.code).toBe(3);
    expect([results[0]!.status, results[0]!.errorCode]).toEqual(["invalid", "INVALID_USAGE_LOCATION"]);
    expect(results[1]!.status).toBe("assigned");
    expect((await control(emulator, "counters")).requests.byEndpoint.userUpdate ?? 0).toBe(0);
    const usage = await runAgainst(emulator.url, csv, ["--usage-location", "Narnia"]);
    expect(usage.run.code).toBe(2);
    expect(usage.run.stderr).toMatch(/--usage-location Narnia/);
  });

  it("fails the rows of a user whose PATCH is refused with their own code, and sends the others", async () => {
    const c = customer(1, 2, { e3: 10, powerBiPro: 10 });
    c.users[0]!.usageLocation = null;
    emulator = await startTestEmulator({ state: state([c]) });
    const base = await refusingPatches(emulator.url);
    const csv = roster(
      [
        [c.id, c.users[0]!.id, "ENTERPRISEPACK", "US"],
        [c.id, c.users[0]!.id, "Power BI Pro", "US"],
        [c.id, c.users[1]!.id, "ENTERPRISEPACK", "US"],
      ],
      "customerId,userId,sku,usageLocation",
    );
    const { run, results, summary } = await runAgainst(base, csv);
    expect(run.code).toBe(3);
    expect(results.map((r) => [r.status, r.errorCode])).toEqual([
      ["failed", "USAGE_LOCATION_NOT_SET"],
      ["failed", "USAGE_LOCATION_NOT_SET"],
      ["assigned", ""],
    ]);
    expect(results[0]!.errorMessage).toMatch(/usage location could not be set \(403 900150\)/);
    const error = summary.errors.find((e: { errorCode: string }) => e.errorCode === "USAGE_LOCATION_NOT_SET");
    expect(error.advice).toMatch(/User Administrator or Directory Writers/);
    expect((await control(emulator, "counters")).requests.byEndpoint.licenseUpdates).toBe(1);
  });

  it("advises adding the usageLocation column when a user without one cannot be licensed", async () => {
    const c = customer(1, 1, { e3: 10 });
    c.users[0]!.usageLocation = null;
    emulator = await startTestEmulator({ state: state([c]) });
    const { run, results, summary } = await runAgainst(emulator.url, roster([[c.id, c.users[0]!.id, "ENTERPRISEPACK"]], "customerId,userId,sku"));
    expect(run.code).toBe(3);
    expect(results[0]!.status).toBe("failed");
    expect(summary.errors[0].advice).toMatch(/add a usageLocation column/);
    expect(run.stderr).toMatch(/add a usageLocation column/);
  });
});
