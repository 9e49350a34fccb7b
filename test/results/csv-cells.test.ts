import { describe, expect, it } from "vitest";
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { appendOutcomeLine, formatOutcomeLine, neutraliseCell, parseOutcomeLine, restoreCell, splitRecord, type LineBytes } from "../../dist/results/csv-cells.js";
import { RESULT_COLUMNS, type RowOutcome } from "../../dist/model.js";

const base: RowOutcome = {
  line: 7,
  customerId: "0c6f1a2b-1111-4222-8333-944455556666",
  userId: "1d7e2b3c-2222-4333-8444-a55566667777",
  userPrincipalName: "ada@contoso.example",
  sku: "Microsoft 365 E3",
  skuId: "05e9a617-0261-4cee-bb44-138d3ef5d965",
  licenseGroup: "group1",
  action: "assign",
  status: "failed",
  httpStatus: 400,
  errorCode: "60012",
  errorMessage: 'Out of "seats", really,\nsecond line\r\nthird',
  attempts: 3,
  requestId: "9a8b7c6d-0000-4000-8000-000000000001",
  correlationId: "9a8b7c6d-0000-4000-8000-000000000002",
  finishedAt: "2026-01-02T03:04:05.000Z",
  licenseWarnings: [{ code: "W1", message: "plan | disabled: yes", servicePlans: ["EXCHANGE_S_STANDARD"] }],
  msCv: "abc.1",
};

describe("results CSV cells", () => {
  it("writes the columns in RESULT_COLUMNS order and reads the same outcome back", () => {
    const line = formatOutcomeLine(base);
    expect(line.endsWith("\n")).toBe(true);
    const [cells] = parse(line) as string[][];
    expect(cells).toHaveLength(RESULT_COLUMNS.length);
    expect(cells![RESULT_COLUMNS.indexOf("line")]).toBe("7");
    expect(cells![RESULT_COLUMNS.indexOf("status")]).toBe("failed");
    expect(cells![RESULT_COLUMNS.indexOf("errorMessage")]).toBe(base.errorMessage);
    expect(JSON.parse(cells![RESULT_COLUMNS.indexOf("licenseWarnings")]!)).toEqual(base.licenseWarnings);
    const back = parseOutcomeLine(line);
    expect(back).toEqual({ ok: true, outcome: base });
  });

  it("leaves absent optional fields empty and absent again after the round trip", () => {
    const minimal: RowOutcome = { ...base, status: "assigned", httpStatus: 201 };
    delete minimal.errorCode;
    delete minimal.errorMessage;
    delete minimal.licenseWarnings;
    delete minimal.msCv;
    const back = parseOutcomeLine(formatOutcomeLine(minimal));
    expect(back).toEqual({ ok: true, outcome: minimal });
  });

  it("neutralises formula cells and undoes it on the way back", () => {
    const hostile: RowOutcome = {
      ...base,
      userPrincipalName: "=HYPERLINK(\"http://evil\")",
      sku: "+SUM(A1:A9)",
      skuId: "-2+3",
      licenseGroup: "@cmd",
      action: "\tassign",
      errorCode: "\r=1",
      errorMessage: "'already quoted",
    };
    const line = formatOutcomeLine(hostile);
    const [cells] = parse(line) as string[][];
    const cell = (name: (typeof RESULT_COLUMNS)[number]) => cells![RESULT_COLUMNS.indexOf(name)]!;
    expect(cell("userPrincipalName")).toBe("'=HYPERLINK(\"http://evil\")");
    expect(cell("sku")).toBe("'+SUM(A1:A9)");
    expect(cell("skuId")).toBe("'-2+3");
    expect(cell("licenseGroup")).toBe("'@cmd");
    expect(cell("action")).toBe("'\tassign");
    expect(cell("errorCode")).toBe("'\r=1");
    expect(cell("errorMessage")).toBe("''already quoted");
    // The runner's own numbers are written as they are.
    expect(cell("line")).toBe("7");
    expect(cell("httpStatus")).toBe("400");
    expect(cell("attempts")).toBe("3");
    // No cell a spreadsheet would evaluate.
    for (const value of cells!) expect(/^[=+\-@\t\r]/.test(value)).toBe(false);
    expect(parseOutcomeLine(line)).toEqual({ ok: true, outcome: hostile });
  });

  it("quotes a lone carriage return so line-based readers do not split on it", () => {
    const line = formatOutcomeLine({ ...base, errorMessage: "a\rb" });
    expect(line).toContain('"a\rb"');
  });

  it("neutraliseCell and restoreCell are inverse", () => {
    for (const value of ["", "plain", "=1", "+1", "-1", "@x", "\tx", "\rx", "'x", "''x", "a=b"]) {
      expect(restoreCell(neutraliseCell(value))).toBe(value);
    }
    expect(neutraliseCell("a=b")).toBe("a=b");
  });

  it("refuses records that are not results lines", () => {
    expect(parseOutcomeLine("not,a,results,line\n").ok).toBe(false);
    expect(parseOutcomeLine(formatOutcomeLine(base).replace(",failed,", ",exploded,")).ok).toBe(false);
    expect(parseOutcomeLine('7,"unterminated\n').ok).toBe(false);
  });

  it("splitRecord reads back what csv-stringify writes, as csv-parse does", () => {
    const alphabet = ['a', ',', '"', "\n", "\r", " ", "é", "=", "'"];
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let round = 0; round < 500; round += 1) {
      const cells = Array.from({ length: 1 + Math.floor(random() * 5) }, () =>
        Array.from({ length: Math.floor(random() * 6) }, () => alphabet[Math.floor(random() * alphabet.length)]).join(""),
      );
      const record = stringify([cells], { record_delimiter: "\n", quoted_match: /\r/ });
      expect(splitRecord(record)).toEqual(cells);
      expect(splitRecord(record)).toEqual((parse(record) as string[][])[0]);
    }
    expect(splitRecord('a,"b"x,c\n')).toBeUndefined();
    expect(splitRecord('a,b\nc,d\n')).toBeUndefined();
    expect(splitRecord('a,"b\n')).toBeUndefined();
  });
});

describe("the hand-written results line against csv-stringify", () => {
  // The reference: each column's cell by name (so an order slip in outcomeCells shows), written by
  // csv-stringify with the options the results file used to be written with.
  const text = (value: string | undefined): string => (value === undefined ? "" : neutraliseCell(value));
  const reference = (o: RowOutcome): string => {
    const byColumn: Record<(typeof RESULT_COLUMNS)[number], string> = {
      line: String(o.line),
      customerId: text(o.customerId),
      userId: text(o.userId),
      userPrincipalName: text(o.userPrincipalName),
      sku: text(o.sku),
      skuId: text(o.skuId),
      licenseGroup: text(o.licenseGroup),
      action: text(o.action),
      status: text(o.status),
      httpStatus: o.httpStatus === undefined ? "" : String(o.httpStatus),
      errorCode: text(o.errorCode),
      errorMessage: text(o.errorMessage),
      attempts: String(o.attempts),
      requestId: text(o.requestId),
      correlationId: text(o.correlationId),
      finishedAt: text(o.finishedAt),
      licenseWarnings: text(o.licenseWarnings && o.licenseWarnings.length > 0 ? JSON.stringify(o.licenseWarnings) : ""),
      msCv: text(o.msCv),
      heldBefore: o.heldBefore === undefined ? "" : o.heldBefore ? "yes" : "no",
      previousExcludedPlans: text(o.previousExcludedPlans?.join(";")),
    };
    return stringify([RESULT_COLUMNS.map((column) => byColumn[column])], { record_delimiter: "\n", quoted_match: /\r/ });
  };

  const hostile = [
    "", " ", "plain", ",", ",,", '"', '""', 'a"b', '"quoted"', "a,b", "a\nb", "a\rb", "a\r\nb", "\n", "\r", "\r\n",
    "=SUM(A1)", "+1", "-1", "@cmd", "\tlead", "\rlead", "'quoted lead", "''", "=", "'", " =not a lead", "trailing ",
    "\u00e9\u00e8 \u4e2d\u6587 \ud83d\ude00", "\ufeffbom", "\u0000nul", "a;b;c", "x\ty", '=HYPERLINK("http://x","y")', '"\n"', ',"\r',
    "\uff1dfull-width", "\\", "a\\\"b", "\u2028line separator",
  ];

  it("writes every hostile cell in every text column exactly as csv-stringify does", () => {
    const textColumns = ["customerId", "userId", "userPrincipalName", "sku", "skuId", "licenseGroup", "action", "status", "errorCode", "errorMessage", "requestId", "correlationId", "finishedAt", "msCv"] as const;
    let compared = 0;
    for (const column of textColumns) {
      for (const cell of hostile) {
        const outcome: RowOutcome = { ...base, [column]: cell };
        expect(formatOutcomeLine(outcome), `${column} = ${JSON.stringify(cell)}`).toBe(reference(outcome));
        compared += 1;
      }
    }
    for (const cell of hostile) {
      const outcome: RowOutcome = { ...base, heldBefore: true, previousExcludedPlans: [cell, cell], licenseWarnings: [{ code: cell, message: cell, servicePlans: [cell] }] };
      expect(formatOutcomeLine(outcome)).toBe(reference(outcome));
      compared += 1;
    }
    expect(compared).toBe((textColumns.length + 1) * hostile.length);
  });

  it("writes lines that repeat, alternate and change values as csv-stringify does, line after line", () => {
    // The formatter remembers each column's recent cells: a sequence of lines must not see a stale one.
    let seed = 7;
    const pick = (): string => hostile[(seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % 5 === 0 ? seed % hostile.length : seed % 3]!;
    for (let round = 0; round < 2000; round += 1) {
      const outcome: RowOutcome = { ...base, line: round + 2, customerId: pick(), userId: pick(), sku: pick(), skuId: pick(), status: "planned", errorMessage: pick(), finishedAt: pick() };
      expect(formatOutcomeLine(outcome), `round ${round}`).toBe(reference(outcome));
    }
  });

  // Outcomes without an answer, error, warning or --diff field (a plan's) are written from fewer pieces.
  const short: RowOutcome = { line: 7, customerId: base.customerId, userId: base.userId, userPrincipalName: "", sku: base.sku, skuId: base.skuId, licenseGroup: "group1", action: "assign", status: "planned", attempts: 0, finishedAt: base.finishedAt, correlationId: "9a8b7c6d-0000-4000-8000-000000000002", skuName: "Microsoft 365 E3" };

  it("writes a short outcome's hostile cells in every column exactly as csv-stringify does", () => {
    const columns = ["customerId", "userId", "userPrincipalName", "sku", "skuId", "licenseGroup", "action", "status", "correlationId", "finishedAt"] as const;
    for (const column of columns) {
      for (const cell of hostile) {
        const outcome: RowOutcome = { ...short, [column]: cell };
        expect(formatOutcomeLine(outcome), `${column} = ${JSON.stringify(cell)}`).toBe(reference(outcome));
      }
    }
    const { correlationId: _, ...withoutCorrelation } = short;
    expect(formatOutcomeLine(withoutCorrelation)).toBe(reference(withoutCorrelation));
  });

  it("writes short and full outcomes mixed, values repeating, alternating and changing, as csv-stringify does", () => {
    let seed = 11;
    const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const pick = (): string => hostile[next() % 4 === 0 ? next() % hostile.length : next() % 3]!;
    for (let round = 0; round < 3000; round += 1) {
      const common = { line: round + 2, customerId: pick(), userId: pick(), sku: pick(), skuId: pick(), licenseGroup: pick(), action: pick(), correlationId: pick(), finishedAt: pick() };
      const outcome: RowOutcome = next() % 3 === 0 ? { ...base, ...common } : { ...short, ...common, status: next() % 2 ? "planned" : "invalid" };
      expect(formatOutcomeLine(outcome), `round ${round}`).toBe(reference(outcome));
    }
  });

  it("appends to bytes what it writes as text, short and full outcomes, hostile cells, line after line", () => {
    // A small buffer, so it grows under the lines too.
    const into: LineBytes = { bytes: Buffer.alloc(64), length: 0 };
    let expected = "";
    let seed = 5;
    const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const pick = (): string => hostile[next() % 3 === 0 ? next() % hostile.length : next() % 3]!;
    for (let round = 0; round < 3000; round += 1) {
      const common = { line: [1, 9, 10, 99, 100, 123456789, round + 2][next() % 7]!, customerId: pick(), userId: pick(), userPrincipalName: pick(), sku: pick(), skuId: pick(), correlationId: pick(), finishedAt: pick() };
      const outcome: RowOutcome = next() % 4 === 0 ? { ...base, ...common } : { ...short, ...common, status: next() % 2 ? "planned" : "invalid" };
      appendOutcomeLine(outcome, into);
      expected += reference(outcome);
    }
    expect(into.bytes.subarray(0, into.length).toString("utf8")).toBe(expected);
    expect(into.length).toBe(Buffer.byteLength(expected, "utf8"));
  });

  it("leaves absent optional fields empty as csv-stringify does", () => {
    const minimal: RowOutcome = { line: 1, customerId: "c", userId: "", userPrincipalName: "", sku: "s", skuId: "", licenseGroup: "", action: "assign", status: "planned", attempts: 0, finishedAt: "" };
    expect(formatOutcomeLine(minimal)).toBe(reference(minimal));
    expect(formatOutcomeLine({ ...minimal, heldBefore: false, previousExcludedPlans: [], licenseWarnings: [] })).toBe(reference({ ...minimal, heldBefore: false, previousExcludedPlans: [], licenseWarnings: [] }));
  });
});
