// The reader as a stream: large rosters in bounded memory and time, a huge field, stdin-style
// sources in tiny chunks, unreadable sources, and an early stop that releases the file.
import { createReadStream } from "node:fs";
import { mkdtemp, rm, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRoster, type RosterColumns } from "../../dist/input/roster-reader.js";
// @ts-expect-error: a plain .mjs script with no type declarations
import * as corpus from "../../fixtures/rosters/generate.mjs";
import { readAll, rejected, row } from "../support/read-all.js";

const { CUSTOMER_A, CUSTOMER_B, USER_1, USER_2, USER_3 } = corpus as Record<string, string>;
const smallRosters = corpus.smallRosters as Record<string, Buffer>;
const writeHugeFieldRoster = corpus.writeHugeFieldRoster as (path: string) => Promise<void>;
const writeManyRowsRoster = corpus.writeManyRowsRoster as (path: string, rows: number) => Promise<void>;
const MANY_ROWS = 100_000;

let dir: string;
let hugeFieldPath: string;
let manyRowsPath: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "roster-"));
  hugeFieldPath = join(dir, "huge-field.csv");
  manyRowsPath = join(dir, "many-rows.csv");
  await writeHugeFieldRoster(hugeFieldPath);
  await writeManyRowsRoster(manyRowsPath, MANY_ROWS);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A stdin-like source: the bytes in chunks of `size` (splitting BOMs, CRLFs and UTF-8 sequences). */
function chunked(bytes: Buffer, size: number): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return Readable.from(chunks);
}

describe("a huge field", () => {
  it("a 2 MB sku is FIELD_TOO_LONG for its row, capped for display, and the rows after it read", async () => {
    const { records, error } = await readAll({ path: hugeFieldPath });
    expect(error).toBeUndefined();
    expect(records).toEqual([
      rejected(2, "FIELD_TOO_LONG", `sku is ${2 * 1024 * 1024} characters long`, { customerId: CUSTOMER_A, userId: USER_1, sku: `${"A".repeat(120)}…` }),
      row(3, { customerId: CUSTOMER_A, userId: USER_2, sku: "O365_BUSINESS_ESSENTIALS" }),
      row(4, { customerId: CUSTOMER_B, userId: USER_3, sku: "POWER_BI_PRO" }),
    ]);
  });

  it("a row over maxRecordSize stops the file with RECORD_TOO_LARGE naming its line", async () => {
    const { records, error } = await readAll({ path: hugeFieldPath }, { maxRecordSize: 1024 * 1024 });
    expect(records).toEqual([]);
    expect(error?.code).toBe("RECORD_TOO_LARGE");
    expect(error?.line).toBe(2);
    expect(error?.message).toContain("line 2");
  });

  it("an unterminated quote in front of a large rest of file is reported, not buffered without bound", async () => {
    const rest = Buffer.alloc(3 * 1024 * 1024, `${CUSTOMER_A},${USER_1},E3\n`);
    const bytes = Buffer.concat([Buffer.from(`customerId,userId,sku\n${CUSTOMER_A},${USER_1},"E3\n`), rest]);
    const { error } = await readAll({ stream: chunked(bytes, 64 * 1024), name: "-" }, { maxRecordSize: 1024 * 1024 });
    expect(error?.code).toBe("RECORD_TOO_LARGE");
    expect(error?.line).toBe(2);
    expect(error?.message).toMatch(/quote that is never closed/);
  });
});

describe(`${MANY_ROWS} rows`, () => {
  it("stream through in file order, fast", async () => {
    const started = performance.now();
    let count = 0;
    let lastLine = 1;
    let rejections = 0;
    const reader = readRoster({ path: manyRowsPath });
    let next = await reader.next();
    for (; !next.done; next = await reader.next()) {
      count++;
      if (next.value.kind === "rejected") rejections++;
      else {
        expect(next.value.row.line).toBe(lastLine + 1);
        lastLine = next.value.row.line;
      }
    }
    const elapsed = performance.now() - started;
    expect(count).toBe(MANY_ROWS);
    expect(rejections).toBe(0);
    expect(lastLine).toBe(MANY_ROWS + 1);
    expect(next.value.dataRows).toBe(MANY_ROWS);
    expect(elapsed).toBeLessThan(5000);
  });

  it("are read from the source only as fast as the caller consumes them (bounded memory)", async () => {
    const fileSize = (await readFile(manyRowsPath)).length;
    let bytesPulled = 0;
    const counting = new PassThrough();
    counting.on("data", (chunk: Buffer) => {
      bytesPulled += chunk.length;
    });
    const source = createReadStream(manyRowsPath).pipe(counting);
    const reader = readRoster({ stream: source, name: "-" });
    for (let i = 0; i < 10; i++) await reader.next();
    // Give the streams every chance to read ahead, then check they did not read the file.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(bytesPulled).toBeLessThan(fileSize / 4);
    await reader.return(undefined as never);
  });
});

describe("a stream source (stdin)", () => {
  it.each(["crlf.csv", "bom.csv", "quoted.csv", "semicolon.csv", "latin1.csv", "mixed-line-endings.csv", "aliases.csv", "unterminated-quote.csv"])(
    "%s in 1-byte chunks reads exactly as the file does",
    async (name) => {
      const bytes = smallRosters[name] as Buffer;
      const fromFile = await readAll({ path: join("fixtures/rosters", name) });
      const fromStream = await readAll({ stream: chunked(bytes, 1), name: "-" });
      expect(fromStream.records).toEqual(fromFile.records);
      expect(fromStream.summary).toEqual(fromFile.summary);
      expect(fromStream.error?.code).toBe(fromFile.error?.code);
      expect(fromStream.error?.line).toBe(fromFile.error?.line);
    },
  );

  it("names the source as given (- for stdin) in file errors", async () => {
    const { error } = await readAll({ stream: Readable.from([]), name: "-" });
    expect(error?.code).toBe("EMPTY_FILE");
    expect(error?.message).toContain('"-"');
  });

  it("accepts string chunks", async () => {
    const { records } = await readAll({ stream: Readable.from([`customerId,userId,sku\n${CUSTOMER_A},`, `${USER_1},E3\n`]), name: "-" });
    expect(records).toEqual([row(2, { customerId: CUSTOMER_A, userId: USER_1, sku: "E3" })]);
  });
});

describe("unreadable sources", () => {
  it("a missing file", async () => {
    const { error } = await readAll({ path: join(dir, "nope.csv") });
    expect(error?.code).toBe("UNREADABLE");
    expect(error?.message).toContain("no such file");
  });

  it("a directory", async () => {
    const { error } = await readAll({ path: dir });
    expect(error?.code).toBe("UNREADABLE");
  });

  it("a stream that fails mid-way", async () => {
    const failing = new Readable({ read() {} });
    failing.push(`customerId,userId,sku\n${CUSTOMER_A},${USER_1},E3\n`);
    setImmediate(() => failing.destroy(Object.assign(new Error("connection reset"), { code: "ECONNRESET" })));
    const { records, error } = await readAll({ stream: failing, name: "-" });
    expect(records.length).toBeLessThanOrEqual(1);
    expect(error?.code).toBe("UNREADABLE");
    expect(error?.message).toContain("ECONNRESET");
  });
});

describe("the caller's side", () => {
  it("onColumns sees the header mapping before the first row", async () => {
    const seen: string[] = [];
    const reader = readRoster(
      { path: "fixtures/rosters/duplicate-rows.csv" },
      { onColumns: (columns: RosterColumns) => seen.push(`columns:${columns.sku.name}`) },
    );
    for await (const record of reader) seen.push(`row:${record.kind === "row" ? record.row.line : "?"}`);
    expect(seen).toEqual(["columns:sku", "row:2", "row:3"]);
  });

  it("stopping early closes the source", async () => {
    const source = createReadStream(manyRowsPath);
    const reader = readRoster({ stream: source, name: "-" });
    for await (const record of reader) {
      expect(record.kind).toBe("row");
      break;
    }
    expect(source.destroyed).toBe(true);
  });
});
