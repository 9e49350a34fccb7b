// --pacing-state from the user's side: a first run learns a customer's allowance against the
// emulator's limiter and saves it; a second run against a fresh emulator with the same limit starts
// from it and is throttled less. The emulator's counters say how often each was refused.
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cliAgainst, workdir } from "../support/jobs-e2e.js";
import { control, startTestEmulator, type RunningEmulator } from "../support/emulator.js";
import { customer, roster, SKU, state } from "../support/state-builder.js";

const emulators: RunningEmulator[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(emulators.splice(0).map((em) => em.close()));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const USERS = 30;
const tenant = customer(1, USERS, { powerBiPro: USERS });
const csv = roster(tenant.users.map((u) => [tenant.id, u.id, SKU.powerBiPro]));

async function runOnce(pacingState: string): Promise<{ code: number | null; throttled: number; assigned: number }> {
  // 20 calls a second with no burst: a cold start meets it with a 429 at its second request.
  const em = await startTestEmulator({ state: state([customer(1, USERS, { powerBiPro: USERS })]), latencyMs: 20, rateLimit: { perCustomer: { ratePerSecond: 20, burst: 1 } } });
  emulators.push(em);
  const dir = await workdir();
  dirs.push(dir);
  const { run, results } = await cliAgainst(em, csv, { dir, args: ["--pacing-state", pacingState, "--no-progress"] });
  const counters = await control<{ throttled: { total: number } }>(em, "counters");
  return { code: run.code, throttled: counters.throttled.total, assigned: results.filter((r) => r.status === "assigned").length };
}

describe("--pacing-state", () => {
  it("saves what a run learned and starts the next run from it: fewer 429s", async () => {
    const dir = await workdir();
    dirs.push(dir);
    const path = join(dir, "pacing.json");
    const cold = await runOnce(path);
    expect(cold).toMatchObject({ code: 0, assigned: USERS });
    expect(cold.throttled).toBeGreaterThanOrEqual(1);
    const saved = JSON.parse(await readFile(path, "utf8")) as { version: number; customers: Record<string, number> };
    expect(saved.version).toBe(1);
    expect(saved.customers[tenant.id]).toBeGreaterThan(0);
    expect(saved.customers[tenant.id]).toBeLessThanOrEqual(25);

    const warm = await runOnce(path);
    expect(warm).toMatchObject({ code: 0, assigned: USERS });
    expect(warm.throttled).toBeLessThan(cold.throttled);
  });

  it("customers whose few rows never leave slow start keep what their first 429 admitted, and the next run's slow start begins there: fewer 429s", async () => {
    const dir = await workdir();
    dirs.push(dir);
    const path = join(dir, "pacing.json");
    // Ten customers of six users each against 10 calls a second with a burst of 5 (as the benchmark's cell).
    const tenants = Array.from({ length: 10 }, (_, i) => customer(i + 1, 6, { powerBiPro: 6 }));
    const rows = roster(tenants.flatMap((t) => t.users.map((u) => [t.id, u.id, SKU.powerBiPro])));
    const runShort = async () => {
      const em = await startTestEmulator({ state: state(tenants), latencyMs: 50, rateLimit: { perCustomer: { ratePerSecond: 10, burst: 5 } } });
      emulators.push(em);
      const runDir = await workdir();
      dirs.push(runDir);
      const { run, results } = await cliAgainst(em, rows, { dir: runDir, args: ["--pacing-state", path, "--no-progress"] });
      const counters = await control<{ throttled: { total: number } }>(em, "counters");
      return { code: run.code, throttled: counters.throttled.total, assigned: results.filter((r) => r.status === "assigned").length };
    };
    const cold = await runShort();
    expect(cold).toMatchObject({ code: 0, assigned: 60 });
    expect(cold.throttled).toBeGreaterThanOrEqual(5);
    const saved = JSON.parse(await readFile(path, "utf8")) as { slowStart?: Record<string, number>; customers: Record<string, number> };
    const inSlowStart = tenants.filter((t) => saved.slowStart?.[t.id] !== undefined && saved.customers[t.id] === undefined);
    expect(inSlowStart.length).toBeGreaterThanOrEqual(5);

    const warm = await runShort();
    expect(warm).toMatchObject({ code: 0, assigned: 60 });
    expect(warm.throttled).toBeLessThan(cold.throttled / 2);
  });

  it("a file that is not a pacing state is no error: the run starts cold and replaces it", async () => {
    const dir = await workdir();
    dirs.push(dir);
    const path = join(dir, "pacing.json");
    await import("node:fs/promises").then((fs) => fs.writeFile(path, "not json", "utf8"));
    const run = await runOnce(path);
    expect(run).toMatchObject({ code: 0, assigned: USERS });
    expect(JSON.parse(await readFile(path, "utf8"))).toMatchObject({ version: 1 });
  });
});
