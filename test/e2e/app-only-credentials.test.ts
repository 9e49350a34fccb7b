// An app-only token refused with 403 "This resource can't be accessed by application credentials"
// on every read: the run stops (exit 4) after at most the calls in flight, with one message saying
// what to fix, and no write is ever sent.
import { afterEach, describe, expect, it } from "vitest";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanEnv, readResults, runCli } from "../support/cli.js";
import { control, startTestEmulator, type RunningEmulator } from "../support/emulator.js";
import { humanStderr } from "../support/auth-e2e.js";
import { customer, roster, state } from "../support/state-builder.js";

const APP_ONLY = "eyJ0eXAi.e2e-app-only-403-token.sig";
let emulator: RunningEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

describe("app-only credentials", () => {
  it("403 on reads from two customers stops the run with exit 4, no write sent, lookups bounded by those in flight", async () => {
    const customers = Array.from({ length: 12 }, (_, i) => customer(i + 1, 2, { powerBiPro: 10 }));
    emulator = await startTestEmulator({ state: { ...state(customers), accessTokens: [{ token: APP_ONLY, kind: "app-only-403" }] } });
    const dir = await mkdtemp(join(tmpdir(), "lr-e2e-apponly-"));
    const input = join(dir, "roster.csv");
    const output = join(dir, "results.csv");
    await writeFile(input, roster(customers.flatMap((c) => c.users.map((u) => [c.id, u.id, "Power BI Pro", "assign"]))));
    const cli = await runCli(["run", "--input", input, "--output", output, "--base-url", emulator.url, "--log-format", "json", "--no-progress"], {
      env: cleanEnv({ PARTNER_CENTER_ACCESS_TOKEN: APP_ONLY }),
    });

    expect(cli.code, cli.stderr).toBe(4);
    const human = humanStderr(cli.stderr);
    expect(human).toContain("application (app-only) credentials");
    expect(human).toContain("App+User");
    const results = await readResults(output);
    expect(results).toHaveLength(24);
    expect(results.some((r) => r.status === "assigned")).toBe(false);
    expect(results.filter((r) => r.status === "aborted").every((r) => r.errorCode === "APP_CREDENTIALS_REFUSED")).toBe(true);
    const counters = await control(emulator, "counters");
    expect(counters.requests.byEndpoint.licenseUpdates ?? 0).toBe(0);
    // The first customer and the lookups read ahead of it (4): no more.
    expect(counters.requests.byEndpoint.subscribedSkus).toBeLessThanOrEqual(5);
    expect(counters.requests.total).toBeLessThan(12);
  });
});
