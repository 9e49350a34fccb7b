// A partner user without its GDAP role gets 403 900150 from every customer: once five customers
// answered so (more than a run has in flight at its start) and nothing succeeded, the run stops (exit 4) with one message saying what to fix.
// One customer's 900150 among customers that work stays that customer's.
import { afterEach, describe, expect, it } from "vitest";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanEnv, readResults, runCli } from "../support/cli.js";
import { control, startTestEmulator, type RunningEmulator } from "../support/emulator.js";
import { humanStderr } from "../support/auth-e2e.js";
import { customer, roster, state, TOKEN } from "../support/state-builder.js";

let emulator: RunningEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function run(customers: ReturnType<typeof customer>[]) {
  emulator = await startTestEmulator({ state: state(customers) });
  const dir = await mkdtemp(join(tmpdir(), "lr-e2e-role-"));
  const input = join(dir, "roster.csv");
  const output = join(dir, "results.csv");
  await writeFile(input, roster(customers.flatMap((c) => c.users.map((u) => [c.id, u.id, "Power BI Pro", "assign"]))));
  const cli = await runCli(["run", "--input", input, "--output", output, "--base-url", emulator.url, "--log-format", "json", "--no-progress", "--concurrency", "2"], {
    env: cleanEnv({ PARTNER_CENTER_ACCESS_TOKEN: TOKEN }),
  });
  return { cli, results: await readResults(output) };
}

describe("900150 from every customer", () => {
  it("stops the run with PARTNER_ROLE_MISSING, saying which role the user lacks", async () => {
    const customers = Array.from({ length: 12 }, (_, i) => customer(i + 1, 2, { powerBiPro: 10 }, { access: "missing-gdap-role" }));
    const { cli, results } = await run(customers);
    expect(cli.code, cli.stderr).toBe(4);
    expect(humanStderr(cli.stderr)).toContain("GDAP role");
    expect(results).toHaveLength(24);
    expect(results.some((r) => r.status === "aborted" && r.errorCode === "PARTNER_ROLE_MISSING")).toBe(true);
    const counters = await control(emulator!, "counters");
    expect(counters.requests.byEndpoint.licenseUpdates ?? 0).toBe(0);
    expect(counters.requests.byEndpoint.subscribedSkus).toBeLessThan(12);
  });

  it("stays per customer when other customers work", async () => {
    // Four refusing customers read ahead while the first (which works) is still being answered.
    const refusing = { access: "missing-gdap-role" as const };
    const customers = [customer(1, 2, { powerBiPro: 10 }), ...[2, 3, 4, 5].map((i) => customer(i, 2, { powerBiPro: 10 }, refusing)), customer(6, 2, { powerBiPro: 10 }), customer(7, 2, { powerBiPro: 10 }, refusing)];
    const { cli, results } = await run(customers);
    expect(cli.code, cli.stderr).toBe(3);
    expect(results.filter((r) => r.status === "assigned")).toHaveLength(4);
    expect(results.filter((r) => r.status === "failed" && r.errorCode === "900150")).toHaveLength(10);
  });
});
