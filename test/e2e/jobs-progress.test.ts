// End to end: progress while a run goes. Under a pseudo-terminal a live line is redrawn
// in place on stderr; without a terminal (CI, cron) pino "progress" info lines appear every few
// seconds instead; --no-progress turns both off.
import { afterEach, describe, expect, it } from "vitest";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startTestEmulator, type RunningEmulator } from "../support/emulator.js";
import { customer, roster, state } from "../support/state-builder.js";
import { cleanEnv, cliAgainst, readResults, runCliUnderPty, TOKEN, workdir } from "../support/jobs-e2e.js";

const emulators: RunningEmulator[] = [];
afterEach(async () => {
  await Promise.all(emulators.splice(0).map((e) => e.close()));
});

async function emulatorWith(users: number, latencyMs: number) {
  const c1 = customer(1, users, { powerBiPro: users });
  const em = await startTestEmulator({ state: state([c1]), latencyMs });
  emulators.push(em);
  return { em, csv: roster(c1.users.map((u) => [c1.id, u.id, "Power BI Pro"]), "customerId,userId,sku") };
}

const CLEAR_LINE = "\r\x1b[2K";
const PROGRESS_LINE = /(\d+)\/(\d+) rows \((\d+)%\) \| (\d+) assigned \| (\d+) failed \| (\d+) throttled \| (?:[\d.]+|--) rows\/s \| ETA /;

describe("progress", () => {
  it("draws a live line on a terminal, redrawn in place with \\r, counting rows; --no-progress draws none", async () => {
    const rows = 24;
    const { em, csv } = await emulatorWith(rows, 30);
    const dir = await workdir();
    const input = join(dir, "roster.csv");
    await writeFile(input, csv);
    const env = cleanEnv({ PARTNER_CENTER_ACCESS_TOKEN: TOKEN, TERM: "xterm" });
    const args = (output: string) => ["run", "--input", input, "--output", join(dir, output), "--base-url", em.url, "--concurrency", "2"];

    const [shown, hidden] = await Promise.all([
      runCliUnderPty(args("shown.csv"), env),
      runCliUnderPty([...args("hidden.csv"), "--no-progress"], env),
    ]);

    expect(shown.code, shown.output).toBe(0);
    const draws = shown.output.split(CLEAR_LINE).slice(1);
    const lines = draws.map((d) => PROGRESS_LINE.exec(d)).filter((m): m is RegExpExecArray => m !== null);
    expect(lines.length, shown.output).toBeGreaterThanOrEqual(2); // redrawn, not printed once
    for (const m of lines) expect(Number(m[2])).toBe(rows);
    const done = lines.map((m) => Number(m[1]));
    expect(done).toEqual([...done].sort((a, b) => a - b)); // counts only go up
    expect(done.at(-1)).toBeGreaterThan(done[0]!);
    for (const m of lines) expect(Number(m[4]) + Number(m[5])).toBe(Number(m[1])); // done = assigned + failed here
    // The live line is never a log line of its own: no newline inside a draw.
    for (const d of draws.filter((x) => PROGRESS_LINE.test(x))) expect(d.split(/\r?\n/)[0]).toMatch(PROGRESS_LINE);
    expect((await readResults(join(dir, "shown.csv"))).filter((r) => r.status === "assigned")).toHaveLength(rows);

    expect(hidden.code, hidden.output).toBe(0);
    expect(hidden.output).not.toContain(CLEAR_LINE);
    expect(hidden.output).not.toMatch(PROGRESS_LINE);
    expect((await readResults(join(dir, "hidden.csv"))).filter((r) => r.status === "assigned")).toHaveLength(rows);
  });

  it("logs plain pino progress lines when not on a terminal and the run is long enough; --no-progress logs none", async () => {
    // One call at a time, 450 ms each: 1 SKU lookup + 12 requests = at least 5.85 s, past the 5 s
    // log interval (a loaded machine only makes it longer).
    const rows = 12;
    const a = await emulatorWith(rows, 450);
    const b = await emulatorWith(rows, 450);
    const [withProgress, without] = await Promise.all([
      cliAgainst(a.em, a.csv, { args: ["--concurrency", "1"] }),
      cliAgainst(b.em, b.csv, { args: ["--concurrency", "1", "--no-progress"] }),
    ]);

    expect(withProgress.run.code, withProgress.run.stderr).toBe(0);
    expect(withProgress.run.stderr).not.toContain("\r"); // no redraws in a log file
    const logLines = withProgress.run.stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const progress = logLines.filter((l) => l.msg === "progress");
    expect(progress.length, withProgress.run.stderr).toBeGreaterThanOrEqual(1);
    for (const line of progress) {
      expect(line.level).toBe(30); // info
      expect(line.total).toBe(rows);
      expect(line.done).toBeGreaterThan(0);
      expect(line.done).toBeLessThanOrEqual(rows);
      expect(line).toHaveProperty("assigned");
      expect(line).toHaveProperty("failed");
      expect(line).toHaveProperty("throttled");
      expect(line).toHaveProperty("etaSeconds");
    }
    expect(withProgress.results).toHaveLength(rows);

    expect(without.run.code, without.run.stderr).toBe(0);
    expect(without.run.stderr).not.toMatch(/"msg":"progress"/);
    expect(without.run.stderr).not.toContain("\r");
    expect(without.results).toHaveLength(rows);
  });
});
