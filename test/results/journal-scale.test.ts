import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// 200k entries stand for the 1,000,000 of the contract: holding one object per entry would take
// well over the child's 64 MB heap, while the typed-array index needs ~3 MB. The child records
// the entries out of order (blocks interleaved backwards, every 10th line twice: failed, then
// assigned), then finalizes while sampling its heap.
const LINES = 200_000;
const HEAP_LIMIT_MB = 64;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "journal-scale-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("finalize at scale", () => {
  it("compacts a large, out-of-order journal in bounded memory", async () => {
    const path = join(dir, "results.csv");
    const journalModule = fileURLToPath(new URL("../../dist/results/journal.js", import.meta.url));
    const script = `
      const { openResultsJournal } = await import(${JSON.stringify(journalModule)});
      const opened = await openResultsJournal({ path: ${JSON.stringify(path)}, rosterFingerprint: "sha256:test", resume: false });
      const outcome = (line, status) => ({ line, customerId: "0c6f1a2b-1111-4222-8333-944455556666", userId: "1d7e2b3c-2222-4333-8444-a55566667777",
        userPrincipalName: "", sku: "SPE_E3", skuId: "05e9a617-0261-4cee-bb44-138d3ef5d965", licenseGroup: "group1", action: "assign",
        status, attempts: 1, finishedAt: "2026-01-02T03:04:05.000Z" });
      const lines = ${LINES}, block = 1000;
      for (let start = lines + 2 - block; start >= 2; start -= block)
        for (let line = start; line < start + block; line += 1) opened.journal.record(outcome(line, line % 10 === 0 ? "failed" : "assigned"));
      for (let line = 10; line < lines + 2; line += 10) opened.journal.record(outcome(line, "assigned"));
      globalThis.gc();
      const used = () => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };
      const before = used();
      let peak = before;
      const sampler = setInterval(() => { peak = Math.max(peak, used()); }, 2);
      const result = await opened.journal.finalize();
      clearInterval(sampler);
      peak = Math.max(peak, used());
      process.stdout.write(JSON.stringify({ rows: result.rows, grewBytes: peak - before }));
    `;
    const child = spawnSync(process.execPath, [`--max-old-space-size=${HEAP_LIMIT_MB}`, "--expose-gc", "--input-type=module", "-e", script], {
      encoding: "utf8",
    });
    expect(child.status, child.stderr).toBe(0);
    const report = JSON.parse(child.stdout) as { rows: number; grewBytes: number };
    expect(report.rows).toBe(LINES);
    // Index, places and the read/write buffers: a few MB whatever the journal's order.
    expect(report.grewBytes).toBeLessThan(32 * 1024 * 1024);

    // Every line once, in order, all assigned.
    const text = await readFile(path, "utf8");
    const records = text.split("\n");
    expect(records.at(-1)).toBe("");
    const data = records.slice(1, -1);
    expect(data).toHaveLength(LINES);
    let expected = 2;
    for (const record of data) {
      const line = Number(record.slice(0, record.indexOf(",")));
      if (line !== expected || !record.includes(",assigned,")) throw new Error(`unexpected record ${record} (wanted line ${expected})`);
      expected += 1;
    }
  });
});
