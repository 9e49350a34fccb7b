// End to end: jobs/merge-shard-results.mjs on the results of real shard runs (the demo roster
// against the embedded emulator, --shard K/3, one request at a time). It rebuilds the full run's
// file with its byte-order mark, and refuses with exit 2 and a clear message a missing shard, a
// duplicate shard, shards of different rosters, a missing sidecar, and shards of another N.
import { spawn } from "node:child_process";
import { copyFile, readFile, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { shardOf } from "../../dist/plan/shard.js";
import { cleanEnv, readResults, REPO, runCli } from "../support/cli.js";
import { workdir } from "../support/jobs-e2e.js";

const SHARDS = 3;
const DEMO_CUSTOMERS = ["0cb71128-b604-5c47-b6e7-59988e7a307a", "19d81637-3458-50c9-bb39-1f9c6462605d", "e5a8dca1-c37f-5b7e-b8d5-e4bdc2120c74"];

function merge(shards: number, output: string, inputs: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO, "jobs", "merge-shard-results.mjs"), "--shards", String(shards), "--output", output, ...inputs], { env: cleanEnv() });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

/** One run of the roster on a fresh embedded emulator; a shard when `shard` is given. */
async function runRoster(dir: string, input: string, output: string, shard?: string): Promise<string> {
  const args = ["run", "--emulator", "--input", input, "--output", output, "--concurrency", "1", "--no-progress", "--log-format", "json"];
  const run = await runCli(shard ? [...args, "--shard", shard] : args, { cwd: dir });
  expect([0, 3], run.stderr).toContain(run.code);
  return output;
}

const essence = (row: Record<string, string>) => `${row.line}|${row.status}|${row.httpStatus}|${row.errorCode}`;

let dir: string;
let full: string;
let shardFiles: string[];

beforeAll(async () => {
  dir = await workdir();
  const input = join(dir, "roster.csv");
  await copyFile(join(REPO, "fixtures", "demo", "roster.csv"), input);
  full = await runRoster(dir, input, join(dir, "full.csv"));
  shardFiles = [];
  for (let k = 1; k <= SHARDS; k += 1) shardFiles.push(await runRoster(dir, input, join(dir, `results-shard-${k}.csv`), `${k}/${SHARDS}`));
}, 180_000);

describe("merge-shard-results", () => {
  it("rebuilds the full run's results from all N shards, byte-order mark included", async () => {
    // The demo's customers fall into shards 2 and 3 of 3: shard 1 is a header-only file, and counts.
    expect(new Set(DEMO_CUSTOMERS.map((id) => shardOf(id, SHARDS)))).toEqual(new Set([2, 3]));
    const merged = join(dir, "merged.csv");
    const result = await merge(SHARDS, merged, shardFiles);
    expect(result.code, result.stderr).toBe(0);
    const bytes = await readFile(merged);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const [mergedRows, fullRows] = await Promise.all([readResults(merged), readResults(full)]);
    expect(mergedRows).toHaveLength(30);
    expect(mergedRows.map(essence)).toEqual(fullRows.map(essence));
  });

  it("refuses a missing shard", async () => {
    // Shard 2 (Contoso, 18 of the 30 rows) left out; the header-only shard 1 cannot stand for it.
    const withoutRows = await merge(SHARDS, join(dir, "missing.csv"), [shardFiles[0]!, shardFiles[2]!]);
    expect(withoutRows.code).toBe(2);
    expect(withoutRows.stderr).toContain("missing shard: 2 file(s) given for --shards 3; no file holds the rows of shard 1, 2 of 3 (1 of the files given hold no rows");
    const emptyOneLeftOut = await merge(SHARDS, join(dir, "missing2.csv"), [shardFiles[1]!, shardFiles[2]!]);
    expect(emptyOneLeftOut.code).toBe(2);
    expect(emptyOneLeftOut.stderr).toContain("no file holds the rows of shard 1 of 3");
    expect(existsSync(join(dir, "missing.csv")) || existsSync(join(dir, "missing2.csv"))).toBe(false); // nothing written
  });

  it("refuses a duplicate shard, given twice or copied under another name", async () => {
    const copy = join(dir, "copy-of-shard-3.csv");
    await copyFile(shardFiles[2]!, copy);
    await copyFile(`${shardFiles[2]!}.run.json`, `${copy}.run.json`);
    const copied = await merge(SHARDS, join(dir, "dup.csv"), [shardFiles[1]!, shardFiles[2]!, copy]);
    expect(copied.code).toBe(2);
    expect(copied.stderr).toContain(`shard 3 of 3 is given twice: ${shardFiles[2]} and ${copy}`);
    const twice = await merge(SHARDS, join(dir, "dup2.csv"), [shardFiles[1]!, shardFiles[1]!, shardFiles[2]!]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain("shard 2 of 3 is given twice");
  });

  it("refuses shards of different rosters, by their sidecars' fingerprints", async () => {
    // Another roster: the same rows less the last one, so its shard 3 still holds the same customers.
    const other = join(dir, "other-roster.csv");
    const text = await readFile(join(REPO, "fixtures", "demo", "roster.csv"), "utf8");
    await writeFile(other, text.replace(/\r?\n[^\n]*\r?\n?$/, "\n"));
    const otherShard = await runRoster(dir, other, join(dir, "other-shard-3.csv"), `3/${SHARDS}`);
    const result = await merge(SHARDS, join(dir, "mixed.csv"), [shardFiles[0]!, shardFiles[1]!, otherShard]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/shards of different rosters: .* was written for roster sha256:[0-9a-f]{64}, .*other-shard-3\.csv for sha256:[0-9a-f]{64}/);
  });

  it("refuses a shard without its sidecar, and shards of another N", async () => {
    const bare = join(dir, "bare-shard-2.csv");
    await copyFile(shardFiles[1]!, bare);
    const noSidecar = await merge(SHARDS, join(dir, "bare.csv"), [shardFiles[0]!, bare, shardFiles[2]!]);
    expect(noSidecar.code).toBe(2);
    expect(noSidecar.stderr).toContain(`${bare}.run.json is missing`);

    // Shard 3 of 3 holds Fabrikam and Northwind, which are shards 2 and 1 of 2.
    const otherN = await merge(2, join(dir, "n2.csv"), [shardFiles[1]!, shardFiles[2]!]);
    expect(otherN.code).toBe(2);
    expect(otherN.stderr).toMatch(/holds rows of shard \d .* and of shard \d .* of 2: not one shard of --shards 2/);
  });

  it("requires --shards, so a missing shard cannot go unnoticed", async () => {
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [join(REPO, "jobs", "merge-shard-results.mjs"), "--output", join(dir, "x.csv"), ...shardFiles], { env: cleanEnv() });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.on("close", (code) => resolve({ code, stderr }));
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--shards N is required");
  });
});
