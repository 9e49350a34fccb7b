// End to end: the roster is never written. Any output (results, summary, sidecar, lock, fallback)
// that resolves to the roster's file, however it is spelled, is refused with exit 2 before
// anything is sent; a symlinked --output is written through and stays a link.
import { afterEach, describe, expect, it } from "vitest";
import { link, lstat, mkdir, readFile, readlink, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { control, startTestEmulator, type RunningEmulator } from "../support/emulator.js";
import { cleanEnv, readableStderr, readResults } from "../support/cli.js";
import { customer, roster, state, TOKEN } from "../support/state-builder.js";
import { tokenEnv, workspace, type Workspace } from "../support/resilience-e2e.js";
import { runCliWith } from "../support/results-e2e.js";

let emulator: RunningEmulator | undefined;
let ws: Workspace | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
  if (ws) await rm(ws.dir, { recursive: true, force: true });
  ws = undefined;
});

async function setUp(): Promise<{ em: RunningEmulator; ws: Workspace; text: string }> {
  const c1 = customer(1, 2, { powerBiPro: 5 });
  emulator = await startTestEmulator({ state: state([c1]) });
  const text = roster(c1.users.map((u) => [c1.id, u.id, "Power BI Pro", "assign"]));
  ws = await workspace(text);
  await mkdir(join(ws.dir, "sub"));
  return { em: emulator, ws, text };
}

function args(em: RunningEmulator, input: string, extra: string[]): string[] {
  return ["run", "--input", input, "--base-url", em.url, "--log-format", "json", "--no-progress", ...extra];
}

describe("the roster is never written", () => {
  it("refuses every spelling of the roster as an output: exit 2, nothing sent, the roster unchanged", async () => {
    const { em, ws, text } = await setUp();
    await symlink(ws.input, join(ws.dir, "link.csv"));
    await link(ws.input, join(ws.dir, "hard.csv"));
    await link(ws.input, join(ws.dir, "other.csv.run.json"));
    await link(ws.input, join(ws.dir, "locked.csv.lock"));
    const spellings: { name: string; extra: string[]; env?: NodeJS.ProcessEnv }[] = [
      { name: "./roster.csv", extra: ["--output", "./roster.csv"] },
      { name: "absolute path", extra: ["--output", ws.input] },
      { name: "sub/../roster.csv", extra: ["--output", "sub/../roster.csv"] },
      { name: "a symlink to it", extra: ["--output", "link.csv"] },
      { name: "a hard link to it", extra: ["--output", "hard.csv"] },
      { name: "the sidecar", extra: ["--output", "other.csv"] },
      { name: "the lock", extra: ["--output", "locked.csv"] },
      { name: "--summary-json", extra: ["--output", "results.csv", "--summary-json", "./sub/../roster.csv"] },
      { name: "GITHUB_STEP_SUMMARY", extra: ["--output", "results.csv"], env: cleanEnv({ PARTNER_CENTER_ACCESS_TOKEN: TOKEN, GITHUB_STEP_SUMMARY: join(ws.dir, "link.csv") }) },
    ];
    for (const spelling of spellings) {
      const run = await runCliWith(args(em, "roster.csv", spelling.extra), { env: spelling.env ?? tokenEnv(), cwd: ws.dir });
      expect(run.code, `${spelling.name}: ${run.stderr}`).toBe(2);
      expect(readableStderr(run.stderr), spelling.name).toMatch(/is the roster "roster.csv" itself: the roster is never written/);
      expect(await readFile(ws.input, "utf8"), spelling.name).toBe(text);
    }
    expect((await control(em, "counters")).requests.total).toBe(0);
  });

  it("writes through a symlinked --output: the target holds the results, the link stays a link", async () => {
    const { em, ws } = await setUp();
    const target = join(ws.dir, "sub", "target.csv");
    const linkPath = join(ws.dir, "results-link.csv");
    await symlink(target, linkPath);
    const run = await runCliWith(args(em, ws.input, ["--output", linkPath]), { env: tokenEnv() });
    expect(run.code, run.stderr).toBe(0);
    expect((await lstat(linkPath)).isSymbolicLink()).toBe(true);
    expect(await readlink(linkPath)).toBe(target);
    expect((await readResults(target)).map((row) => row.status)).toEqual(["assigned", "assigned"]);
  });
});
