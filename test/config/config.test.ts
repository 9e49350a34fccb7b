// Unit tests of config: job file validation and the merge of job file, flags and environment.
import { describe, expect, it } from "vitest";
import { flagName, OPTION_KEYS, parseShard, resolveRunConfig, RUN_OPTIONS, validateFlags, validateJobFile } from "../../dist/config.js";

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

describe("one option table for job file and flags", () => {
  it("checks a flag with the job file's schema and names the flag and the value given", () => {
    const text = resolveRunConfig({ ...base, flags: { input: "r.csv", concurrency: "abc" } });
    expect(!text.ok && text.error).toBe("--concurrency abc: expected a whole number from 1 to 256");
    const fraction = resolveRunConfig({ ...base, flags: { input: "r.csv", maxAttempts: 2.5 } });
    expect(!fraction.ok && fraction.error).toBe("--max-attempts 2.5: expected a whole number from 1 to 20");
    const job = validateJobFile({ maxAttempts: 2.5 }, "j.json");
    expect(!job.ok && job.error).toBe('job file j.json: key "maxAttempts": expected a whole number from 1 to 20');
  });

  it("accepts in a job file exactly the keys it accepts as flags (a flag-only option never), and derives each flag's name", () => {
    for (const key of OPTION_KEYS) {
      const sample = RUN_OPTIONS[key].flag === "boolean" ? true : RUN_OPTIONS[key].flag === "number" ? (key === "timeoutMs" ? 2000 : 2) : key === "baseUrl" ? "https://x" : key === "shard" ? "1/2" : key === "logLevel" ? "warn" : key === "logFormat" ? "pretty" : key === "usageLocation" ? "US" : key === "failOn" ? "none" : "a.csv";
      expect(validateJobFile({ [key]: sample }, "j.json").ok, key).toBe(!("flagOnly" in RUN_OPTIONS[key]));
      expect(validateFlags({ [key]: sample }).ok, key).toBe(true);
    }
    expect(flagName("maxAttempts")).toBe("--max-attempts");
    expect(flagName("summaryJson")).toBe("--summary-json");
  });

  it("fills every option that has a default, and reads an option's environment variable before its default", () => {
    const result = resolveRunConfig({ ...base, flags: { input: "r.csv" } });
    expect(result.ok).toBe(true);
    for (const key of OPTION_KEYS) {
      const spec = RUN_OPTIONS[key] as { default?: unknown };
      if (spec.default !== undefined && key !== "baseUrl") expect(result.ok && result.value[key], key).toEqual(spec.default);
    }
    const badEnv = resolveRunConfig({ ...base, env: { PARTNER_CENTER_BASE_URL: "ftp://x" }, flags: { input: "r.csv" } });
    expect(!badEnv.ok && badEnv.error).toBe("PARTNER_CENTER_BASE_URL=ftp://x: expected an http(s) URL");
  });

  it("does not take a declared option for a secret, whatever its name", () => {
    // A secret-looking name that is not an option is still refused before the schema sees it.
    expect(validateJobFile({ accessToken: "x" }, "j.json")).toMatchObject({ ok: false });
    const declared = OPTION_KEYS.filter((key) => /token|secret/i.test(key));
    for (const key of declared) expect(validateJobFile({ [key]: "a-file" }, "j.json").ok, key).toBe(true);
  });
});
