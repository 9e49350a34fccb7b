// End to end: --output, --summary-json and $GITHUB_STEP_SUMMARY are checked writable before the
// first call: an unusable one exits 2 with nothing sent, instead of being found after every row.
import { afterEach, describe, expect, it } from "vitest";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { control, startTestEmulator, type RunningEmulator } from "../support/emulator.js";
import { cleanEnv, readableStderr } from "../support/cli.js";
import { customer, roster, state, TOKEN } from "../support/state-builder.js";
import { cliArgs, tokenEnv, workspace, type Workspace } from "../support/resilience-e2e.js";
import { runCliWith } from "../support/results-e2e.js";

let emulator: RunningEmulator | undefined;
let ws: Workspace | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
  if (ws) await rm(ws.dir, { recursive: true, force: true });
  ws = undefined;
});

describe("outputs are checked writable before the first call", () => {
  it("refuses an unwritable --summary-json, GITHUB_STEP_SUMMARY or --output with exit 2 and nothing sent", async () => {
    const c1 = customer(1, 2, { powerBiPro: 5 });
    emulator = await startTestEmulator({ state: state([c1]) });
    ws = await workspace(roster(c1.users.map((u) => [c1.id, u.id, "Power BI Pro", "assign"])));
    const folder = join(ws.dir, "a-folder");
    await mkdir(folder);
    const cases: { name: string; extra: string[]; env?: NodeJS.ProcessEnv; says: RegExp }[] = [
      { name: "--summary-json in a missing folder", extra: ["--summary-json", join(ws.dir, "missing", "summary.json")], says: /--summary-json ".*summary.json" cannot be written \(ENOENT\)/ },
      { name: "--summary-json naming a folder", extra: ["--summary-json", folder], says: /--summary-json ".*a-folder" cannot be written \(EISDIR\)/ },
      {
        name: "GITHUB_STEP_SUMMARY naming a folder",
        extra: [],
        env: cleanEnv({ PARTNER_CENTER_ACCESS_TOKEN: TOKEN, GITHUB_STEP_SUMMARY: folder }),
        says: /GITHUB_STEP_SUMMARY ".*a-folder" cannot be written \(EISDIR\)/,
      },
    ];
    for (const c of cases) {
      const run = await runCliWith(cliArgs("run", emulator, ws, c.extra), { env: c.env ?? tokenEnv() });
      expect(run.code, `${c.name}: ${run.stderr}`).toBe(2);
      expect(readableStderr(run.stderr), c.name).toMatch(c.says);
      expect(run.stderr, c.name).not.toMatch(/\n\s+at /);
    }
    const intoFolder = await runCliWith(["run", "--input", ws.input, "--output", folder, "--base-url", emulator.url, "--no-progress"], { env: tokenEnv() });
    expect(intoFolder.code, intoFolder.stderr).toBe(2);
    expect(readableStderr(intoFolder.stderr)).toMatch(/--output ".*a-folder" cannot be written \(EISDIR\)/);
    expect((await control(emulator, "counters")).requests.total).toBe(0);
  });
});
