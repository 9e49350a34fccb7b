// End to end: --resume proves identity, not just line numbers. The fingerprint comes from the very
// bytes parsed; the sidecar is written only once the results file is open with its header; a done
// line counts only if it recorded this very row (customer, user, SKU, action).
import { afterEach, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { chmod, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { control, startTestEmulator, type RunningEmulator } from "../support/emulator.js";
import { readResults } from "../support/cli.js";
import { customer, roster, state } from "../support/state-builder.js";
import { cliArgs, heldLicenses, licenseUpdatesReceived, tokenEnv, workspace, type Workspace } from "../support/resilience-e2e.js";
import { NOBODY, runCliWith } from "../support/results-e2e.js";

let emulator: RunningEmulator | undefined;
let ws: Workspace | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
  if (ws) await rm(ws.dir, { recursive: true, force: true });
  ws = undefined;
});

const c1 = customer(1, 6, { powerBiPro: 10 });
/** Roster A names users 1-3, roster B users 4-6: the same line numbers, other rows. */
const rosterA = roster(c1.users.slice(0, 3).map((u) => [c1.id, u.id, "Power BI Pro", "assign"]));
const rosterB = roster(c1.users.slice(3).map((u) => [c1.id, u.id, "Power BI Pro", "assign"]));
const fingerprintOf = (text: string): string => `sha256:${createHash("sha256").update(text).digest("hex")}`;

async function sidecarFingerprint(output: string): Promise<string> {
  return JSON.parse(await readFile(`${output}.run.json`, "utf8")).fingerprint as string;
}

/** Which of roster B's users hold the SKU in the emulator. */
async function bUsersLicensed(em: RunningEmulator): Promise<number> {
  const held = await heldLicenses(em);
  return c1.users.slice(3).filter((u) => [...held.keys()].some((key) => key.startsWith(`${c1.id}|${u.id}|`))).length;
}

async function setUp(): Promise<{ em: RunningEmulator; ws: Workspace; b: string }> {
  emulator = await startTestEmulator({ state: state([c1]) });
  ws = await workspace(rosterA);
  const b = join(ws.dir, "b.csv");
  await writeFile(b, rosterB);
  return { em: emulator, ws, b };
}

describe("resume proves identity", () => {
  it("a fresh run for roster B that cannot open A's results file (EACCES) leaves A's fingerprint: a resume with B skips none of B's rows", async () => {
    const { em, ws, b } = await setUp();
    const first = await runCliWith(cliArgs("run", em, ws), { env: tokenEnv() });
    expect(first.code, first.stderr).toBe(0);

    // As another user: the folder is writable, A's results file (root's, 0644) is not.
    await chmod(ws.dir, 0o777);
    const denied = await runCliWith(["run", "--input", b, "--output", ws.output, "--base-url", em.url, "--no-progress"], { env: tokenEnv(), user: NOBODY });
    expect(denied.code, denied.stderr).toBe(2);
    expect(denied.stderr).toMatch(/EACCES/);
    expect(await sidecarFingerprint(ws.output)).toBe(fingerprintOf(rosterA));

    await control(em, "reset", {});
    const resumed = await runCliWith(["run", "--input", b, "--output", ws.output, "--base-url", em.url, "--resume", "--no-progress"], { env: tokenEnv() });
    // B's rows are never taken for A's: the resume is refused and nothing is skipped or sent.
    expect(resumed.code, resumed.stderr).toBe(2);
    expect(resumed.stderr).toContain("differs from it");
    expect(await licenseUpdatesReceived(em)).toBe(0);
  });

  it("a roster renamed in while the first read is under way: the results carry the fingerprint of the bytes parsed", async () => {
    const { em, ws, b } = await setUp();
    await rm(ws.input);
    expect(spawnSync("mkfifo", [ws.input]).status).toBe(0);
    const run = runCliWith(cliArgs("run", em, ws), { env: tokenEnv() });
    // Roster A streams in through the pipe; B is renamed over its name before the read ends.
    const writer = createWriteStream(ws.input);
    await new Promise<void>((resolve) => writer.write(rosterA, () => resolve()));
    await rename(b, ws.input);
    await new Promise<void>((resolve) => writer.end(() => resolve()));
    const first = await run;
    expect(first.code, first.stderr).toBe(0);
    expect((await readResults(ws.output)).map((row) => row.userId)).toEqual(c1.users.slice(0, 3).map((u) => u.id));
    expect(await sidecarFingerprint(ws.output)).toBe(fingerprintOf(rosterA));

    // The name now holds B: a resume with it must not skip B's rows as A's.
    await control(em, "reset", {});
    const resumed = await runCliWith(cliArgs("run", em, ws, ["--resume"]), { env: tokenEnv() });
    expect(resumed.code, resumed.stderr).toBe(2);
    expect(await licenseUpdatesReceived(em)).toBe(0);
  });

  it("a done line counts only for the row it recorded: B's rows under a sidecar that names B all run", async () => {
    const { em, ws, b } = await setUp();
    const first = await runCliWith(cliArgs("run", em, ws), { env: tokenEnv() });
    expect(first.code, first.stderr).toBe(0);
    // However the sidecar came to name B (an older runner, a copy), the lines are A's.
    const sidecar = JSON.parse(await readFile(`${ws.output}.run.json`, "utf8"));
    await writeFile(`${ws.output}.run.json`, JSON.stringify({ ...sidecar, fingerprint: fingerprintOf(rosterB), roster: b }));

    const resumed = await runCliWith(["run", "--input", b, "--output", ws.output, "--base-url", em.url, "--resume", "--log-format", "json", "--no-progress"], { env: tokenEnv() });
    expect(resumed.code, resumed.stderr).toBe(0);
    const rows = await readResults(ws.output);
    expect(rows.map((row) => [row.userId, row.status])).toEqual(c1.users.slice(3).map((u) => [u.id, "assigned"]));
    expect(await bUsersLicensed(em)).toBe(3);
  });
});
