// Unit tests of config: job file validation and the merge of job file, flags and environment.
import { describe, expect, it } from "vitest";
import { parseShard, resolveRunConfig, validateJobFile } from "../../dist/config.js";

const base = { command: "run" as const, env: {}, stderrIsTTY: false };

describe("validateJobFile", () => {
  it("refuses secret-looking keys by name, before anything else", () => {
    const result = validateJobFile({ input: "a.csv", clientSecret: "s3cr3t-value" }, "jobs/x.json");
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toContain("clientSecret");
      expect(result.error).not.toContain("s3cr3t-value");
    }
  });

  it("refuses unknown keys and bad values, naming them", () => {
    const unknown = validateJobFile({ concurency: 4 }, "j.json");
    expect(!unknown.ok && unknown.error).toContain('"concurency"');
    const bad = validateJobFile({ concurrency: 0 }, "j.json");
    expect(!bad.ok && bad.error).toContain('key "concurrency"');
    expect(validateJobFile({ input: "r.csv", shard: "2/4", maxRate: 12.5 }, "j.json").ok).toBe(true);
  });
});

describe("resolveRunConfig", () => {
  it("lets flags win over the job file and fills defaults", () => {
    const result = resolveRunConfig({ ...base, job: { input: "r.csv", output: "a.csv", concurrency: 1 }, flags: { output: "b.csv" } });
    expect(result.ok && result.value).toMatchObject({ input: "r.csv", output: "b.csv", concurrency: 1, maxAttempts: 6, dryRun: false, logFormat: "json" });
  });

  it("takes the base URL from the environment unless a flag or job file gives one", () => {
    const fromEnv = resolveRunConfig({ ...base, env: { PARTNER_CENTER_BASE_URL: "http://127.0.0.1:9/" }, flags: { input: "r.csv" } });
    expect(fromEnv.ok && fromEnv.value.baseUrl).toBe("http://127.0.0.1:9");
    const fromFlag = resolveRunConfig({ ...base, env: { PARTNER_CENTER_BASE_URL: "http://x" }, flags: { input: "r.csv", baseUrl: "https://y" } });
    expect(fromFlag.ok && fromFlag.value.baseUrl).toBe("https://y");
  });

  it("defaults the output next to the roster; plan is a dry run with its own file", () => {
    const run = resolveRunConfig({ ...base, flags: { input: "r.csv" } });
    expect(run.ok && [run.value.output, run.value.dryRun]).toEqual(["r.csv.results.csv", false]);
    const plan = resolveRunConfig({ ...base, command: "plan", flags: { input: "r.csv" } });
    expect(plan.ok && [plan.value.output, plan.value.dryRun]).toEqual(["r.csv.plan.csv", true]);
    const dryRun = resolveRunConfig({ ...base, flags: { input: "r.csv", dryRun: true } });
    expect(dryRun.ok && dryRun.value.output).toBe("r.csv.plan.csv");
  });

  it("refuses what cannot work: no roster, stdin without --output, --resume on stdin, the roster as output", () => {
    const errors = [
      resolveRunConfig({ ...base, flags: {} }),
      resolveRunConfig({ ...base, flags: { input: "-" } }),
      resolveRunConfig({ ...base, flags: { input: "-", output: "o.csv", resume: true } }),
      resolveRunConfig({ ...base, flags: { input: "r.csv", output: "r.csv" } }),
      resolveRunConfig({ ...base, flags: { input: "r.csv", concurrency: 0 } }),
    ].map((r) => (r.ok ? "ok" : r.error));
    expect(errors.every((e) => e !== "ok")).toBe(true);
    expect(errors[2]).toMatch(/--resume/);
  });
});

describe("parseShard", () => {
  it("reads K/N with 1 <= K <= N", () => {
    expect(parseShard("2/4")).toEqual({ ok: true, value: { index: 2, count: 4 } });
    for (const bad of ["0/3", "4/3", "2", "a/b"]) expect(parseShard(bad).ok).toBe(false);
  });
});
