// End to end: job files (refusals, flags over the job file), plan as a seat check, and the
// summaries a person and a pipeline read (--summary-json, $GITHUB_STEP_SUMMARY). The built CLI
// against the emulator on loopback.
import { afterEach, describe, expect, it } from "vitest";
import { access, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { control, startTestEmulator, type RunningEmulator } from "../support/emulator.js";
import { customer, roster, SKU, state } from "../support/state-builder.js";
import { byLine, cleanEnv, cliAgainst, mostInFlight, readResults, requestLog, REPO_ROOT, runCli, TOKEN, workdir, writeJob } from "../support/jobs-e2e.js";

let emulator: RunningEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

describe("job files", () => {
  it("refuses a secret-looking key with exit 2, names the key, never echoes its value, and sends nothing", async () => {
    const c1 = customer(1, 2, { powerBiPro: 10 });
    emulator = await startTestEmulator({ state: state([c1]) });
    const dir = await workdir();
    const input = join(dir, "roster.csv");
    const output = join(dir, "results.csv");
    await writeFile(input, roster(c1.users.map((u) => [c1.id, u.id, "Power BI Pro"])));
    const secretValue = "s3cr3t-value-that-must-not-leak";
    for (const key of ["clientSecret", "PARTNER_CENTER_REFRESH_TOKEN", "apiKey"]) {
      const job = await writeJob(dir, `secret-${key}.json`, { input, output, baseUrl: emulator.url, [key]: secretValue });
      const run = await runCli(["run", "--job", job, "--no-progress"], { env: cleanEnv({ PARTNER_CENTER_ACCESS_TOKEN: TOKEN }) });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(key);
      expect(run.stderr).toMatch(/secret-looking key.*environment/s); // refused as a secret, not merely as unknown
      expect(run.stderr).toContain(job); // the file is named too
      expect(run.stderr + run.stdout).not.toContain(secretValue);
    }
    expect((await control(emulator, "counters")).requests.total).toBe(0);
    expect(await exists(output)).toBe(false);
  });

  it("refuses an unknown key (a typo) and a bad value with exit 2 naming the key, and sends nothing", async () => {
    const c1 = customer(1, 2, { powerBiPro: 10 });
    emulator = await startTestEmulator({ state: state([c1]) });
    const dir = await workdir();
    const input = join(dir, "roster.csv");
    const output = join(dir, "results.csv");
    await writeFile(input, roster(c1.users.map((u) => [c1.id, u.id, "Power BI Pro"])));

    const typo = await writeJob(dir, "typo.json", { input, output, baseUrl: emulator.url, concurency: 4 });
    const typoRun = await runCli(["run", "--job", typo, "--no-progress"], { env: cleanEnv({ PARTNER_CENTER_ACCESS_TOKEN: TOKEN }) });
    expect(typoRun.code, typoRun.stderr).toBe(2);
    expect(typoRun.stderr).toMatch(/unknown key.*"concurency"/);

    const badValue = await writeJob(dir, "bad-value.json", { input, output, baseUrl: emulator.url, concurrency: 0 });
    const badRun = await runCli(["plan", "--job", badValue, "--no-progress"], { env: cleanEnv({ PARTNER_CENTER_ACCESS_TOKEN: TOKEN }) });
    expect(badRun.code, badRun.stderr).toBe(2);
    expect(badRun.stderr).toContain('"concurrency"');

    expect((await control(emulator, "counters")).requests.total).toBe(0);
    expect(await exists(output)).toBe(false);
  });

  it("runs a job file as written, and flags override it (output and concurrency)", async () => {
    const c1 = customer(1, 8, { powerBiPro: 20 });
    emulator = await startTestEmulator({ state: state([c1]), latencyMs: 25 });
    const dir = await workdir();
    const input = join(dir, "roster.csv");
    const outputA = join(dir, "a.results.csv");
    const outputB = join(dir, "b.results.csv");
    await writeFile(input, roster(c1.users.map((u) => [c1.id, u.id, "Power BI Pro", "assign"])));
    const job = await writeJob(dir, "job.json", {
      description: "test job",
      input,
      output: outputA,
      baseUrl: emulator.url,
      concurrency: 1,
      logFormat: "json",
      progress: false,
    });
    const env = cleanEnv({ PARTNER_CENTER_ACCESS_TOKEN: TOKEN });

    // As written: output A, one request at a time (the emulator's timestamps never overlap).
    const asWritten = await runCli(["run", "--job", job], { env });
    expect(asWritten.code, asWritten.stderr).toBe(0);
    expect((await readResults(outputA)).filter((r) => r.status === "assigned")).toHaveLength(8);
    expect(mostInFlight(await requestLog(emulator), "licenseUpdates")).toBe(1);

    // Flags win: output B, concurrency 4 (several in flight at once); A is left as it was.
    await control(emulator, "reset", {});
    const before = await readFile(outputA, "utf8");
    const overridden = await runCli(["run", "--job", job, "--output", outputB, "--concurrency", "4"], { env });
    expect(overridden.code, overridden.stderr).toBe(0);
    expect((await readResults(outputB)).filter((r) => r.status === "assigned")).toHaveLength(8);
    expect(await readFile(outputA, "utf8")).toBe(before);
    expect(mostInFlight(await requestLog(emulator), "licenseUpdates")).toBeGreaterThan(1);
  });

  it("lets a --no-… flag turn off a job file's true (resume, dryRun)", async () => {
    const c1 = customer(1, 3, { powerBiPro: 10 });
    emulator = await startTestEmulator({ state: state([c1]) });
    const dir = await workdir();
    const input = join(dir, "roster.csv");
    const output = join(dir, "results.csv");
    await writeFile(input, roster(c1.users.map((u) => [c1.id, u.id, "Power BI Pro"]), "customerId,userId,sku"));
    const env = cleanEnv({ PARTNER_CENTER_ACCESS_TOKEN: TOKEN });
    // A BOM, as an editor on Windows may save it.
    const job = join(dir, "job.json");
    await writeFile(job, `\uFEFF${JSON.stringify({ input, output, baseUrl: emulator.url, dryRun: true, progress: false })}`);

    const planned = await runCli(["run", "--job", job], { env });
    expect(planned.code, planned.stderr).toBe(0);
    expect((await readResults(output)).every((r) => r.status === "planned")).toBe(true);
    expect((await control(emulator, "counters")).requests.byEndpoint.licenseUpdates ?? 0).toBe(0);

    const ran = await runCli(["run", "--job", job, "--no-dry-run"], { env });
    expect(ran.code, ran.stderr).toBe(0);
    expect((await readResults(output)).every((r) => r.status === "assigned")).toBe(true);
    expect((await control(emulator, "counters")).requests.byEndpoint.licenseUpdates).toBe(3);

    // resume: true keeps the assigned rows (skipped, nothing sent); --no-resume runs them all again.
    const resumeJob = await writeJob(dir, "resume.json", { input, output, baseUrl: emulator.url, resume: true, progress: false });
    const resumed = await runCli(["run", "--job", resumeJob], { env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((await readResults(output)).every((r) => r.status === "skipped")).toBe(true);
    expect((await control(emulator, "counters")).requests.byEndpoint.licenseUpdates).toBe(3);
    const fresh = await runCli(["run", "--job", resumeJob, "--no-resume"], { env });
    expect(fresh.code, fresh.stderr).toBe(0);
    expect((await readResults(output)).every((r) => r.status === "assigned")).toBe(true); // already held: 201, no seat
    expect((await control(emulator, "counters")).requests.byEndpoint.licenseUpdates).toBe(6);
  });

  it("accepts every job file shipped in jobs/", async () => {
    const { readJobFile } = await import("../../dist/config.js");
    const names = (await readdir(join(REPO_ROOT, "jobs"))).filter((name) => name.endsWith(".json"));
    expect(names.length).toBeGreaterThanOrEqual(4);
    for (const name of names) {
      const job = await readJobFile(join(REPO_ROOT, "jobs", name));
      expect(job.ok ? "ok" : job.error, name).toBe("ok");
    }
  });
});

describe("plan as a seat check", () => {
  it("reports a shortfall on stderr and in --summary-json, exits 3, and sends no write", async () => {
    const c1 = customer(1, 6, { powerBiPro: 10, e3: 2 });
    // user 6 holds Power BI Pro already (and is removed from it)
    c1.users[5]!.licenses = [{ skuId: SKU.powerBiPro, excludedPlans: [] }];
    c1.subscribedSkus[0]!.consumedUnits = 1;
    emulator = await startTestEmulator({ state: state([c1]) });
    const rows = [
      ...c1.users.slice(0, 5).map((u) => [c1.id, u.id, "ENTERPRISEPACK", "assign"]),
      ...c1.users.slice(0, 3).map((u) => [c1.id, u.id, "Power BI Pro", "assign"]),
      [c1.id, c1.users[5]!.id, "Power BI Pro", "remove"],
    ];
    const dir = await workdir();
    const summaryJson = join(dir, "plan.summary.json");
    const { run, results } = await cliAgainst(emulator, roster(rows), { command: "plan", dir, args: ["--summary-json", summaryJson, "--no-progress", "--log-format", "pretty"] });

    expect(run.code, run.stderr).toBe(3);
    expect(results).toHaveLength(rows.length);
    expect(results.every((r) => r.status === "planned")).toBe(true);

    // The table: customer, SKU, group, assign, remove, available, shortfall.
    const tableLine = (skuName: string) => run.stderr.split("\n").find((l) => l.startsWith(c1.id) && l.includes(skuName));
    const e3Line = tableLine("Office 365 Enterprise E3");
    expect(e3Line, run.stderr).toBeDefined();
    expect(e3Line!.split(/\s{2,}/).slice(2)).toEqual(["group1", "5", "0", "2", "3 SHORT"]);
    const pbiLine = tableLine("Power BI Pro");
    expect(pbiLine!.split(/\s{2,}/).slice(2)).toEqual(["group1", "3", "1", "9", "0"]);
    expect(run.stderr).toMatch(/short of seats/);

    const counters = await control(emulator, "counters");
    expect(counters.requests.byEndpoint.licenseUpdates ?? 0).toBe(0);
    expect(counters.writesApplied).toBe(0);
    expect(counters.requests.byEndpoint.subscribedSkus).toBe(1);

    const summary = JSON.parse(await readFile(summaryJson, "utf8"));
    expect(summary.mode).toBe("plan");
    expect(summary.shortfall).toBe(3);
    expect(summary.rows.byStatus.planned).toBe(rows.length);
    const seat = (skuId: string) => summary.seatCheck.find((s: any) => s.skuId === skuId);
    expect(seat(SKU.e3)).toMatchObject({ customerId: c1.id, licenseGroup: "group1", toAssign: 5, toRemove: 0, available: 2, shortfall: 3 });
    expect(seat(SKU.powerBiPro)).toMatchObject({ customerId: c1.id, toAssign: 3, toRemove: 1, available: 9, shortfall: 0 });
  });

  it("exits 0 when every customer has the seats, and 3 for an invalid row alone", async () => {
    const c1 = customer(1, 3, { powerBiPro: 3 });
    emulator = await startTestEmulator({ state: state([c1]) });
    const rows = c1.users.map((u) => [c1.id, u.id, "Power BI Pro"]);
    const enough = await cliAgainst(emulator, roster(rows, "customerId,userId,sku"), { command: "plan", args: ["--no-progress", "--log-format", "pretty"] });
    expect(enough.run.code, enough.run.stderr).toBe(0);
    expect(enough.run.stderr).toMatch(/enough seats/);

    const withInvalid = await cliAgainst(emulator, roster([...rows, [c1.id, c1.users[0]!.id, "NO SUCH SKU"]], "customerId,userId,sku"), {
      command: "plan",
      args: ["--no-progress"],
    });
    expect(withInvalid.run.code, withInvalid.run.stderr).toBe(3);
    expect(byLine(withInvalid.results).get(5)).toMatchObject({ status: "invalid", errorCode: "UNKNOWN_SKU" });
    expect((await control(emulator, "counters")).requests.byEndpoint.licenseUpdates ?? 0).toBe(0);
  });
});

describe("summaries", () => {
  it("--summary-json and $GITHUB_STEP_SUMMARY carry the counts by status, customer, SKU and error code", async () => {
    const c1 = customer(1, 4, { e3: 2 });
    const c2 = customer(2, 3, { powerBiPro: 10 });
    emulator = await startTestEmulator({ state: state([c1, c2]) });
    const rows = [
      ...c1.users.map((u) => [c1.id, u.id, "ENTERPRISEPACK"]), // 2 assigned, 2 failed 60012
      ...c2.users.map((u) => [c2.id, u.id, "POWER_BI_PRO"]), // 3 assigned
      [c2.id, c2.users[0]!.id, "NO SUCH SKU"], // invalid UNKNOWN_SKU
      [c2.id, "not-a-guid", "POWER_BI_PRO"], // invalid INVALID_USER_ID
    ];
    const dir = await workdir();
    const summaryJson = join(dir, "summary.json");
    const stepSummary = join(dir, "step-summary.md");
    await writeFile(stepSummary, "# earlier step\n\n");
    const { run, results } = await cliAgainst(emulator, roster(rows, "customerId,userId,sku"), {
      dir,
      args: ["--summary-json", summaryJson, "--no-progress", "--concurrency", "2"],
      env: { GITHUB_STEP_SUMMARY: stepSummary },
    });
    expect(run.code, run.stderr).toBe(3);
    expect(results).toHaveLength(rows.length);

    const summary = JSON.parse(await readFile(summaryJson, "utf8"));
    expect(summary.mode).toBe("run");
    expect(summary.stop.reason).toBe("completed");
    expect(summary.rows).toEqual({ total: 9, byStatus: { assigned: 5, removed: 0, skipped: 0, unchanged: 0, planned: 0, failed: 2, invalid: 2, aborted: 0 } });
    const customerCounts = Object.fromEntries(summary.customers.map((c: any) => [c.customerId, [c.total, c.byStatus.assigned, c.byStatus.failed, c.byStatus.invalid]]));
    expect(customerCounts).toEqual({ [c1.id]: [4, 2, 2, 0], [c2.id]: [5, 3, 0, 2] });
    const e3 = summary.skus.find((s: any) => s.skuId === SKU.e3);
    expect([e3.sku, e3.total, e3.byStatus.assigned, e3.byStatus.failed]).toEqual(["Office 365 Enterprise E3", 4, 2, 2]);
    const pbi = summary.skus.find((s: any) => s.skuId === SKU.powerBiPro);
    expect([pbi.total, pbi.byStatus.assigned]).toEqual([3, 3]);
    // Rows whose SKU never resolved are counted under the SKU as written.
    const asWritten = summary.skus.filter((s: any) => s.skuId === "").map((s: any) => [s.sku, s.byStatus.invalid]);
    expect(asWritten.sort()).toEqual([["NO SUCH SKU", 1], ["POWER_BI_PRO", 1]]);
    const errors = Object.fromEntries(summary.errors.map((e: any) => [e.errorCode, e]));
    expect(Object.keys(errors).sort()).toEqual(["60012", "INVALID_USER_ID", "UNKNOWN_SKU"]);
    expect(errors["60012"]).toMatchObject({ count: 2, httpStatus: 400 });
    expect(errors["60012"].advice).toMatch(/buy more seats/i);
    expect(errors["60012"].example).toMatch(/run out of licenses/);
    expect(errors.UNKNOWN_SKU.count).toBe(1);
    expect(errors.INVALID_USER_ID.count).toBe(1);

    // The Markdown is appended (the earlier step's text stays) and carries the same counts.
    const markdown = await readFile(stepSummary, "utf8");
    expect(markdown.startsWith("# earlier step\n\n")).toBe(true);
    const lines = markdown.split("\n");
    expect(lines).toContain("| assigned | 5 |");
    expect(lines).toContain("| failed | 2 |");
    expect(lines).toContain("| invalid | 2 |");
    // by customer: rows, then one column per status that occurs (assigned, failed, invalid)
    expect(markdown).toContain("| customer | rows | assigned | failed | invalid |");
    expect(lines).toContain(`| ${c1.id} (Customer 1) | 4 | 2 | 2 | 0 |`);
    expect(lines).toContain(`| ${c2.id} (Customer 2) | 5 | 3 | 0 | 2 |`);
    // by SKU: the resolved SKU's product name (the roster wrote part numbers), its id, rows, then the statuses
    expect(lines).toContain(`| Office 365 Enterprise E3 | ${SKU.e3} | 4 | 2 | 2 | 0 |`);
    expect(lines).toContain(`| Power BI Pro | ${SKU.powerBiPro} | 3 | 3 | 0 | 0 |`);
    const errorRow = lines.find((l) => l.startsWith("| 60012 |"));
    expect(errorRow).toMatch(/^\| 60012 \| 2 \| 400 \| .*run out of licenses.* \| .*buy more seats/i);
    expect(lines.some((l) => l.startsWith("| UNKNOWN\\_SKU | 1 |"))).toBe(true);
  });
});
