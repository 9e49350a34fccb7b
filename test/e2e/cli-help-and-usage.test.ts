// End to end: help, version and usage errors follow CLI conventions. -h and --help on every
// command, with examples and the environment variables; the defaults each command really uses;
// "did you mean" for a typo; a bad number named with its flag; JSON logs that stay JSON.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { OPTION_KEYS, flagName } from "../../dist/config.js";
import { REPO, runCli } from "../support/cli.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe("help", () => {
  it("answers -h and --help alike on every command, with examples, the environment and exit 0", async () => {
    for (const command of ["run", "plan", "demo", "emulate"]) {
      const short = await runCli([command, "-h"]);
      const long = await runCli([command, "--help"]);
      expect(short.code, short.stderr).toBe(0);
      expect(short.stdout).toBe(long.stdout);
      expect(short.stdout, command).toContain("Examples:");
    }
    const run = await runCli(["run", "--help"]);
    expect(run.stdout).toContain("PARTNER_CENTER_ACCESS_TOKEN");
    expect(run.stdout).toContain("PARTNER_CENTER_REFRESH_TOKEN");
    expect(run.stdout).toContain("Exit codes:");
    const top = await runCli(["-h"]);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/run .*plan .*demo .*emulate/s);
    expect(top.stdout).toContain("Examples:");
    expect(top.stdout).toContain("PARTNER_CENTER_ACCESS_TOKEN");
  });

  it("lists every option of the config table under run --help", async () => {
    const help = (await runCli(["run", "--help"])).stdout;
    for (const key of OPTION_KEYS) expect(help, key).toContain(flagName(key));
  });

  it("states each command's own default output", async () => {
    const plan = (await runCli(["plan", "--help"])).stdout;
    const run = (await runCli(["run", "--help"])).stdout;
    const outputLine = (help: string) => help.split("\n").find((line) => line.includes("--output"));
    expect(outputLine(plan)).toContain("<input>.plan.csv");
    expect(outputLine(plan)).not.toContain("results.csv");
    expect(outputLine(run)).toContain("<input>.results.csv");
  });

  it("prints this package's version, from any working directory", async () => {
    const manifest = JSON.parse(await readFile(join(REPO, "package.json"), "utf8"));
    const elsewhere = await mkdtemp(join(tmpdir(), "lr-version-"));
    dirs.push(elsewhere);
    for (const flag of ["--version", "-V"]) {
      const version = await runCli([flag], { cwd: elsewhere });
      expect(version.code).toBe(0);
      expect(version.stdout.trim()).toBe(manifest.version);
    }
  });
});

describe("usage errors (exit 2, nothing sent)", () => {
  it("names the flag and the value of a bad number, never NaN", async () => {
    for (const [args, message] of [
      [["run", "--input", "r.csv", "--concurrency", "abc"], "--concurrency abc: expected a whole number from 1 to 256"],
      [["plan", "--input", "r.csv", "--max-attempts", "0"], "--max-attempts 0: expected a whole number from 1 to 20"],
      [["run", "--input", "r.csv", "--max-rate", "fast"], "--max-rate fast: expected a positive number"],
      [["emulate", "--port", "abc"], "--port abc: expected a number"],
    ] as const) {
      const result = await runCli([...args]);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stderr).not.toContain("NaN");
    }
  });

  it("suggests the flag or command a typo meant", async () => {
    const flag = await runCli(["run", "--input", "r.csv", "--concurency", "4"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("did you mean --concurrency?");
    const command = await runCli(["pln", "--input", "r.csv"]);
    expect(command.code).toBe(2);
    expect(command.stderr).toMatch(/did you mean plan\?/i);
    const unknown = await runCli(["run", "--input", "r.csv", "--zzzzzzzz"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown argument: zzzzzzzz");
    expect(unknown.stderr).not.toContain("did you mean");
  });
});

describe("--log-format json", () => {
  it("keeps every stderr line JSON, the summary and a usage error included", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lr-json-"));
    dirs.push(dir);
    const run = await runCli(["demo", "--log-format", "json", "--no-progress"], { cwd: dir });
    expect(run.code, run.stderr).toBe(3); // the demo roster holds rows that fail by design
    const lines = run.stderr.split("\n").filter((line) => line !== "");
    const records = lines.map((line) => JSON.parse(line) as { msg: string; summary?: { rows: { total: number } } });
    const summary = records.find((record) => record.msg === "run summary");
    expect(summary?.summary?.rows.total).toBe(30);

    const pretty = await runCli(["demo", "--log-format", "pretty", "--no-progress", "--output", "p.csv", "--summary-json", "p.json"], { cwd: dir });
    expect(pretty.code).toBe(3);
    expect(pretty.stderr).toContain("Seat check:"); // the human summary is for pretty mode

    const usage = await runCli(["run", "--log-format", "json", "--concurrency", "0", "--input", "r.csv"], { cwd: dir });
    expect(usage.code).toBe(2);
    const [record, ...more] = usage.stderr.split("\n").filter((line) => line !== "");
    expect(more).toEqual([]);
    expect(JSON.parse(record!)).toMatchObject({ level: 50, msg: "--concurrency 0: expected a whole number from 1 to 256" });

    const typo = await runCli(["run", "--log-format", "json", "--concurency", "4", "--input", "r.csv"], { cwd: dir });
    expect(typo.code).toBe(2);
    const typoLines = typo.stderr.split("\n").filter((line) => line !== "");
    expect(typoLines).toHaveLength(1);
    expect(JSON.parse(typoLines[0]!).msg).toContain("did you mean --concurrency?");
  });
});
