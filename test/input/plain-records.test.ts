// The reader's fast path for plain lines against csv-parse, the parser of record: on every file of
// a hostile corpus (the committed one, hand-made edge cases, and seeded random files built from
// the pieces that trip CSV readers), fed whole and in chunks of many sizes, the reader gives the
// very records, rejections, summary and file error that csv-parse alone gives.
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script with no type declarations
import * as corpus from "../../fixtures/rosters/generate.mjs";
import { splitPlainLines } from "../../dist/input/plain-records.js";
import { parseRosterCells, RosterFileError, type ParsedRecord } from "../../dist/input/roster-reader.js";
import { readAll, type RosterReadOutcome } from "../support/read-all.js";

const smallRosters = corpus.smallRosters as Record<string, Buffer>;
const { CUSTOMER_A, USER_1, USER_2 } = corpus as Record<string, string>;

function chunked(bytes: Buffer, size: number): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return Readable.from(chunks, { objectMode: false });
}

/** What a reader outcome is, as data: records, summary, and the error's code, line and message. */
function plainOutcome(outcome: RosterReadOutcome): { records: unknown[]; summary?: unknown; error?: { code: string; line?: number | undefined; message: string } | undefined } {
  const { error, ...rest } = outcome;
  return { ...rest, error: error ? { code: error.code, line: error.line, message: error.message } : undefined };
}

/**
 * The same outcome; on a file error (the file is refused whole, nothing is sent) the rows read
 * before it may be more than csv-parse's stream let through before it discarded its buffer, but
 * they are the same rows, all before the error's line.
 */
function expectSame(fast: ReturnType<typeof plainOutcome>, reference: ReturnType<typeof plainOutcome>, what: string): void {
  if (reference.error === undefined) {
    expect(fast, what).toEqual(reference);
    return;
  }
  expect(fast.error, what).toEqual(reference.error);
  expect(fast.records.slice(0, reference.records.length), what).toEqual(reference.records);
  for (const record of fast.records as { row?: { line: number }; rejection?: { line: number } }[]) {
    expect((record.row ?? record.rejection)!.line, what).toBeLessThan(reference.error.line ?? Infinity);
  }
}

/** The records as parsed (cells and line), then the file error's code and line if one ended them. */
async function cellsOf(stream: Readable, name: string, options: { csvParseOnly?: boolean; maxRecordSize?: number | undefined }): Promise<{ records: ParsedRecord[]; error?: string }> {
  const records: ParsedRecord[] = [];
  try {
    // Cells and line only (the fast path also says its cells are ASCII).
    for await (const batch of parseRosterCells({ stream, name }, options)) records.push(...batch.map(({ cells, line }) => ({ cells, line })));
    return { records };
  } catch (error) {
    if (!(error instanceof RosterFileError)) throw error;
    return { records, error: `${error.code} at ${error.line}: ${error.message}` };
  }
}

async function expectSameAsCsvParse(name: string, bytes: Buffer, maxRecordSize?: number, sizes = [1, 2, 3, 5, 7, 16, 64, 1000]): Promise<void> {
  for (const size of [...sizes, bytes.length || 1]) {
    const referenceCells = await cellsOf(chunked(bytes, size), name, { csvParseOnly: true, maxRecordSize });
    const fastCells = await cellsOf(chunked(bytes, size), name, { maxRecordSize });
    expect(fastCells.error, `${name} in chunks of ${size}: the error`).toEqual(referenceCells.error);
    if (referenceCells.error === undefined) expect(fastCells.records, `${name} in chunks of ${size}: cells`).toEqual(referenceCells.records);
    else expect(fastCells.records.slice(0, referenceCells.records.length), `${name} in chunks of ${size}: cells`).toEqual(referenceCells.records);
    // The same chunks for both: how much of the file's head is seen before parsing is not the parser's.
    const reference = plainOutcome(await readAll({ stream: chunked(bytes, size), name }, { csvParseOnly: true, maxRecordSize }));
    const fast = plainOutcome(await readAll({ stream: chunked(bytes, size), name }, { maxRecordSize }));
    expectSame(fast, reference, `${name} in chunks of ${size}`);
  }
}

const H = "customerId,userId,sku,action";
const ROW = `${CUSTOMER_A},${USER_1},E3,assign`;
const ROW2 = `${CUSTOMER_A},${USER_2},Power BI Pro,remove`;
const bytes = (...parts: (string | number[])[]): Buffer => Buffer.concat(parts.map((part) => (typeof part === "string" ? Buffer.from(part, "utf8") : Buffer.from(part))));

const EDGE_CASES: Record<string, Buffer> = {
  "lf": bytes(`${H}\n${ROW}\n${ROW2}\n`),
  "crlf": bytes(`${H}\r\n${ROW}\r\n${ROW2}\r\n`),
  "cr": bytes(`${H}\r${ROW}\r${ROW2}\r`),
  "mixed endings": bytes(`${H}\r\n${ROW}\n${ROW2}\r${ROW}\r\n\r\n\n\r${ROW2}`),
  "cr then lf in the next record": bytes(`${H}\n${ROW}\r\r\n${ROW2}\n\r`),
  "bom": bytes([0xef, 0xbb, 0xbf], `${H}\n${ROW}\n`),
  "bom then a quote": bytes([0xef, 0xbb, 0xbf], `"customerId",userId,sku\n${ROW}\n`),
  "bom only": bytes([0xef, 0xbb, 0xbf]),
  "short file": bytes("a\n"),
  "no final line break": bytes(`${H}\n${ROW}`),
  "final cr": bytes(`${H}\n${ROW}\r`),
  "blank and whitespace lines": bytes(`\n\n   \n${H}\n\n${ROW}\n \t \n,,,\n ; \n${ROW2}\n\n`),
  "trailing commas": bytes(`${H},\n${ROW},\n${ROW2},,,\n`),
  "ragged rows": bytes(`${H}\n${CUSTOMER_A}\n${CUSTOMER_A},${USER_1}\n${ROW},extra,more\n${ROW},, ,\n`),
  "leading and trailing whitespace": bytes(`${H}\n  ${CUSTOMER_A} ,\t${USER_1}\t,\u000b\u000cE3  , assign\n`),
  "leading whitespace then a quote": bytes(`${H}\n${CUSTOMER_A}, "${USER_1}"  ,E3,assign\n`),
  "quote in the middle of a cell": bytes(`${H}\n${ROW}\n${CUSTOMER_A},${USER_1},E"3,assign\n${ROW2}\n`),
  "quoted cell with line breaks": bytes(`${H}\n${ROW}\n${CUSTOMER_A},${USER_1},"E\r\n3",assign\n${ROW2}\n`),
  "quote on the last line": bytes(`${H}\n${ROW}\n${ROW2}\n"${CUSTOMER_A}",${USER_1},E3`),
  "unterminated quote": bytes(`${H}\n${ROW}\n${CUSTOMER_A},"${USER_1},E3\n${ROW2}\n`),
  "invalid utf-8": bytes(`${H}\n${ROW}\n${CUSTOMER_A},${USER_1},E`, [0xff, 0xfe, 0xc3], `3,assign\n`, [0xe2, 0x82], `,x\n${ROW2}\n`),
  "utf-8 names and spaces": bytes(`${H}\n${CUSTOMER_A},${USER_1},Offïce\u00a0365,assign\n${CUSTOMER_A},\u00a0${USER_2},\u3000E3,assign\n`),
  "nbsp at a cell's start only": bytes(`${H}\n${ROW}\n\u00a0${CUSTOMER_A},${USER_1},E3,assign\n`),
  "control characters": bytes(`${H}\n${CUSTOMER_A},${USER_1},E\u00013,assign\n${CUSTOMER_A},${USER_1},\u0000E3,assign\n`),
  "semicolons": bytes(`customerId;userId;sku\r\n${CUSTOMER_A};${USER_1};Microsoft 365 Business Standard, no Teams\r\n${CUSTOMER_A};${USER_2}; E3 ;\r\n`),
  "tabs": bytes(`customerId\tuserId\tsku\n${CUSTOMER_A}\t${USER_1}\t E3\n${CUSTOMER_A}\t\t${USER_2}\tE3\n`),
  "comment before the header": bytes(`# undone from results.csv\n${H}\n${ROW}\n`),
  "header only without line break": bytes(H),
  "long field": bytes(`${H}\n${CUSTOMER_A},${USER_1},${"E".repeat(5000)},assign\n${ROW2}\n`),
};

describe("plain lines read as csv-parse reads them", () => {
  it("every file of the committed corpus", async () => {
    for (const [name, file] of Object.entries(smallRosters)) await expectSameAsCsvParse(name, file);
  });

  it("line endings, BOM, blank lines, trailing commas, ragged rows, whitespace, quotes, bad UTF-8", async () => {
    for (const [name, file] of Object.entries(EDGE_CASES)) await expectSameAsCsvParse(name, file);
  });

  it("records over the size limit: the file is refused at the same line", async () => {
    const file = bytes(`${H}\n${ROW}\n${ROW2}\n${CUSTOMER_A},${USER_1},${"E".repeat(300)}\n${ROW}\n`);
    for (const limit of [40, 64, 80, 120, 200, 400]) await expectSameAsCsvParse(`limit ${limit}`, file, limit);
    const unterminated = bytes(`${H}\n${ROW}\n${CUSTOMER_A},${USER_1},${"E".repeat(300)}`);
    for (const limit of [40, 200, 400]) await expectSameAsCsvParse(`unterminated, limit ${limit}`, unterminated, limit);
  });

  it("seeded random files of tricky pieces", async () => {
    const pieces = [
      CUSTOMER_A, USER_1, USER_2, "E3", "Power BI Pro", "assign", "remove", "", " ", "  ", "\t", "\u000b", "\u000c", ",", ",", ",", ";",
      "\n", "\n", "\r\n", "\r", '"', '""', '"x"', "é", "\u00a0", "\u3000", "\ufeff", "#", "=1+2", [0xff], [0xc3], [0xe2, 0x82], [0x00],
    ];
    let seed = 18;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let file = 0; file < 300; file++) {
      const parts: (string | number[])[] = [random(4) === 0 ? [0xef, 0xbb, 0xbf] : "", random(3) === 0 ? "customerId;userId;sku\n" : `${H}\n`];
      const plainOnly = file % 2 === 0; // half the files without quotes or non-ASCII, so the fast path runs to their end
      for (let piece = random(120); piece > 0; piece--) {
        let next = pieces[random(pieces.length)]!;
        if (plainOnly) while (typeof next !== "string" || /["\u0080-\uffff]/.test(next)) next = pieces[random(pieces.length)]!;
        parts.push(next);
      }
      await expectSameAsCsvParse(`random file ${file}`, bytes(...parts), random(2) === 0 ? 64 : undefined, [1, 3 + random(60)]);
    }
  });
});

describe("the plain-line splitter", () => {
  it("takes whole plain lines and hands over at the first quote", () => {
    const split = splitPlainLines(Buffer.from('a,b\n c,d\r\ne,"f"\ng\n'), ",", 1000, false);
    expect(split.records).toEqual([["a", "b"], ["c", "d"]]);
    expect(split).toMatchObject({ next: 10, handOver: true });
  });

  it("carries a partial line, and a CR at the end of a chunk", () => {
    expect(splitPlainLines(Buffer.from("a,b\nc,"), ",", 1000, false)).toEqual({ records: [["a", "b"]], next: 4, handOver: false });
    expect(splitPlainLines(Buffer.from("a,b\r"), ",", 1000, false)).toEqual({ records: [], next: 0, handOver: false });
    expect(splitPlainLines(Buffer.from("a,b\r"), ",", 1000, true)).toEqual({ records: [["a", "b"]], next: 4, handOver: true });
  });
});
