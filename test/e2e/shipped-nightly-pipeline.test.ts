// End to end: the shipped cron script (jobs/nightly-onboarding.sh with jobs/nightly-onboarding.json)
// as a partner's crontab runs it, against the emulator. One customer without its GDAP role must
// not stop the night for the others: the plan step gates on roster errors and seat shortfalls
// only (--fail-on invalid,shortfall), and the run that follows licenses every other customer.
// The job file's --diff means users who already hold their SKU get no write.
import { spawn } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CLI, cleanEnv, readResults, REPO } from "../support/cli.js";
import { control, startTestEmulator, type RunningEmulator } from "../support/emulator.js";
import { customer, roster, SKU, state, TOKEN } from "../support/state-builder.js";

let emulator: RunningEmulator | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

function runScript(cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("sh", [join(REPO, "jobs/nightly-onboarding.sh")], { cwd, env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

describe("the shipped nightly pipeline", () => {
  it("licenses every other customer when one lacks its GDAP role, and sends no write for licenses already in place", async () => {
    const granted = customer(1, 4, { powerBiPro: 10 });
    const blocked = customer(2, 2, { powerBiPro: 10 }, { access: "missing-gdap-role" });
    const held = granted.users[0]!;
    held.licenses = [{ skuId: SKU.powerBiPro }];
    emulator = await startTestEmulator({ state: state([granted, blocked]) });

    const dir = await mkdtemp(join(tmpdir(), "lr-nightly-"));
    dirs.push(dir);
    await mkdir(join(dir, "jobs"));
    await mkdir(join(dir, "rosters"));
    await copyFile(join(REPO, "jobs/nightly-onboarding.json"), join(dir, "jobs/nightly-onboarding.json"));
    const rows = [...granted.users, ...blocked.users].map((u, i) => [i < granted.users.length ? granted.id : blocked.id, u.id, "Power BI Pro"]);
    await writeFile(join(dir, "rosters/nightly-onboarding.csv"), roster(rows, "customerId,userId,sku"));

    const env = cleanEnv({
      PARTNER_CENTER_ACCESS_TOKEN: TOKEN,
      PARTNER_CENTER_BASE_URL: emulator.url,
      LICENSE_RUNNER_CLI: CLI,
      HOME: dir,
    });
    const night = await runScript(dir, env);

    // The run went ahead; it exits 3 because the blocked customer's rows failed.
    expect(night.code, night.stderr.slice(-2000)).toBe(3);
    const [folder] = await readdir(join(dir, "results/nightly-onboarding"));
    const results = await readResults(join(dir, "results/nightly-onboarding", folder!, "results.csv"));
    const byUser = new Map(results.map((r) => [r.userId, r]));
    expect(byUser.get(held.id)?.status).toBe("unchanged");
    for (const user of granted.users.slice(1)) expect(byUser.get(user.id)?.status).toBe("assigned");
    for (const user of blocked.users) expect(byUser.get(user.id)).toMatchObject({ status: "failed", errorCode: "900150" });
    const counters = await control(emulator, "counters");
    expect(counters.requests.byEndpoint.licenseUpdates).toBe(granted.users.length - 1);
  });
});
