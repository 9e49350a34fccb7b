import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scanRecords } from "../../dist/results/record-scanner.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "scanner-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function scan(content: string, chunkBytes: number) {
  const path = join(dir, `scan-${chunkBytes}.csv`);
  await writeFile(path, content);
  const handle = await open(path, "r");
  const records: { line: number | undefined; start: number; text: string }[] = [];
  const result = await scanRecords(handle, ({ line, start, bytes }) => records.push({ line, start, text: bytes.toString("utf8") }), chunkBytes);
  await handle.close();
  return { records, result };
}

describe("record scanner", () => {
  const content = 'line,x\n2,"a\nb ""quoted"" ,\n"\n3,plain\n10,"é\r\n"\n4,"torn\n';
  it.each([3, 7, 64, 1 << 20])("splits records at line feeds outside quotes, across chunks of %i bytes", async (chunkBytes) => {
    const { records, result } = await scan(content, chunkBytes);
    expect(records.map((r) => r.text)).toEqual(["line,x\n", '2,"a\nb ""quoted"" ,\n"\n', "3,plain\n", '10,"é\r\n"\n']);
    expect(records.map((r) => r.line)).toEqual([undefined, 2, 3, 10]);
    const bytes = Buffer.from(content);
    for (const record of records) expect(bytes.subarray(record.start, record.start + Buffer.byteLength(record.text)).toString()).toBe(record.text);
    expect(result.size).toBe(bytes.length);
    expect(result.completeEnd).toBe(bytes.indexOf('4,"torn'));
  });
});
