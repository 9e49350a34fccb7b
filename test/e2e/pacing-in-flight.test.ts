// In-flight sizing from the user's side: at 500 ms answers a fixed 8 requests in flight would cap
// a run at 16 calls a second; with the default settings the runner reaches the customer's 20/s
// allowance and its summary says the allowance bound the run. The rate is read from the
// emulator's request log (when each write was admitted), not from the runner's own clock.
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cliAgainst, requestLog, workdir } from "../support/jobs-e2e.js";
import { startTestEmulator, type RunningEmulator } from "../support/emulator.js";
import { customer, roster, SKU, state } from "../support/state-builder.js";

const emulators: RunningEmulator[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(emulators.splice(0).map((em) => em.close()));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

// 16 s at the limit: a 429 just after discovery (a request paced right at the limit meeting an
// empty bucket, a few milliseconds' jitter) lowers the pace to 0.7 of itself, and CUBIC's climb back
// takes about 4 s; the second half must be steady state, not that climb.
const USERS = 320;

describe("requests in flight sized from latency and allowance", () => {
  it("at 0.5 s latency the default settings reach a 20/s allowance (more than 8 in flight could)", async () => {
    const tenant = customer(1, USERS, { powerBiPro: USERS });
    const em = await startTestEmulator({ state: state([tenant]), latencyMs: 500, rateLimit: { perCustomer: { ratePerSecond: 20 } } });
    emulators.push(em);
    const dir = await workdir();
    dirs.push(dir);
    const summaryPath = join(dir, "summary.json");
    const csv = roster(tenant.users.map((u) => [tenant.id, u.id, SKU.powerBiPro]));
    const { run, results } = await cliAgainst(em, csv, { dir, args: ["--no-progress", "--summary-json", summaryPath, "--log-format", "pretty"] });
    expect(run.code).toBe(0);
    expect(results.filter((r) => r.status === "assigned")).toHaveLength(USERS);

    const admitted = (await requestLog(em))
      .filter((e) => e.endpoint === "licenseUpdates" && e.status === 201)
      .map((e) => e.arrivalMs)
      .sort((a, b) => a - b);
    expect(admitted).toHaveLength(USERS);
    // The second half of the writes: the steady state, slow start and discovery left out.
    const half = admitted.slice(USERS / 2);
    const rate = ((half.length - 1) * 1000) / (half[half.length - 1]! - half[0]!);
    expect(rate).toBeGreaterThan(17);

    const summary = JSON.parse(await readFile(summaryPath, "utf8")) as { pacing?: { boundBy: string; concurrency: number; mostInFlight: number; latencyMs: number } };
    expect(summary.pacing).toMatchObject({ boundBy: "allowance", concurrency: 32 });
    expect(summary.pacing!.mostInFlight).toBeGreaterThan(8);
    expect(summary.pacing!.mostInFlight).toBeLessThanOrEqual(32);
    expect(summary.pacing!.latencyMs).toBeGreaterThanOrEqual(500);
    expect(run.stderr).toMatch(/Bound by the API's allowance \(paced\): at most \d+ of 32 requests in flight, \d+ ms a call\./);
  }, 60_000);
});
