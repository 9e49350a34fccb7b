// Every file of the hostile roster corpus (fixtures/rosters/) and its exact outcome from the reader.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script with no type declarations
import * as corpus from "../../fixtures/rosters/generate.mjs";
import { readAll, rejected, row } from "../support/read-all.js";

const { CUSTOMER_A, CUSTOMER_B, USER_1, USER_2, USER_3, PLAN_ID } = corpus as Record<string, string>;
const smallRosters = corpus.smallRosters as Record<string, Buffer>;
const DIR = "fixtures/rosters";
const E = "O365_BUSINESS_ESSENTIALS";

const read = (name: string) => readAll({ path: join(DIR, name) });

describe("the committed corpus", () => {
  it("is exactly what generate.mjs writes", async () => {
    for (const [name, bytes] of Object.entries(smallRosters)) {
      expect(await readFile(join(DIR, name)), name).toEqual(bytes);
    }
  });
});

describe("files that cannot be a roster", () => {
  it.each([
    ["empty.csv", "EMPTY_FILE", undefined],
    ["blank-lines-only.csv", "EMPTY_FILE", undefined],
    ["no-header.csv", "NO_HEADER", 1],
    ["no-customer-column.csv", "NO_CUSTOMER_COLUMN", 1],
    ["no-user-column.csv", "NO_USER_COLUMN", 1],
    ["no-sku-column.csv", "NO_SKU_COLUMN", 1],
    ["duplicate-column.csv", "DUPLICATE_COLUMN", 1],
    ["utf16.csv", "UNSUPPORTED_ENCODING", 1],
    ["xlsx.csv", "NOT_CSV", undefined],
  ])("%s -> %s, before any row", async (name, code, line) => {
    const outcome = await read(name);
    expect(outcome.records).toEqual([]);
    expect(outcome.error?.code).toBe(code);
    expect(outcome.error?.line).toBe(line);
  });

  it("no-header.csv says a header line is needed and lists the columns", async () => {
    const { error } = await read("no-header.csv");
    expect(error?.message).toMatch(/needs a first line naming its columns/);
    expect(error?.message).toMatch(/customerId .*userId .*userPrincipalName .*sku/);
  });

  it("a missing column is named, with what the header has instead", async () => {
    const { error } = await read("no-sku-column.csv");
    expect(error?.message).toContain('has no SKU column');
    expect(error?.message).toContain('"plan"');
  });

  it("duplicate-column.csv names both columns", async () => {
    const { error } = await read("duplicate-column.csv");
    expect(error?.message).toContain('"customerId" (column 1) and "tenantId" (column 2)');
  });

  it("unterminated-quote.csv names the line where the quote opened, after the rows before it", async () => {
    const { records, error } = await read("unterminated-quote.csv");
    expect(records).toEqual([row(2, { customerId: CUSTOMER_A, userId: USER_1, sku: E })]);
    expect(error?.code).toBe("UNTERMINATED_QUOTE");
    expect(error?.line).toBe(3);
    expect(error?.message).toContain("line 3");
  });
});

describe("rosters that read", () => {
  it("header-only.csv: no rows", async () => {
    const { records, summary, error } = await read("header-only.csv");
    expect(error).toBeUndefined();
    expect(records).toEqual([]);
    expect(summary?.dataRows).toBe(0);
  });

  it("aliases.csv: aliases in any case and spelling, unknown and unnamed columns ignored", async () => {
    const { records, summary } = await read("aliases.csv");
    expect(records).toEqual([
      row(2, { customerId: CUSTOMER_A, userId: USER_1, userPrincipalName: "alex@contoso.com", sku: E, excludedPlans: ["YAMMER_ENTERPRISE"], action: "remove" }),
      row(3, { customerId: CUSTOMER_B, userPrincipalName: "megan@fabrikam.onmicrosoft.com", sku: "Power BI Pro" }),
    ]);
    expect(summary?.columns).toMatchObject({
      customerId: { index: 0, name: "Tenant ID" },
      userId: { index: 1, name: "User Object Id" },
      userPrincipalName: { index: 2, name: "UPN" },
      sku: { index: 3, name: "Sku_Part-Number" },
      excludedPlans: { index: 4, name: "Disabled Plans" },
      action: { index: 5, name: "ACTION" },
      unknown: [{ index: 6, name: "Notes" }],
      delimiter: ",",
      width: 8,
    });
  });

  it("semicolon.csv: `;` chosen from the header, plans split inside the quoted cell", async () => {
    const { records, summary } = await read("semicolon.csv");
    expect(summary?.columns.delimiter).toBe(";");
    expect(records).toEqual([
      row(2, { customerId: CUSTOMER_A, userId: USER_1, sku: "Microsoft 365 Business Standard, no Teams", excludedPlans: ["EXCHANGE_S_STANDARD", PLAN_ID] }),
      row(3, { customerId: CUSTOMER_A, userId: USER_2, sku: "POWER_BI_PRO" }),
    ]);
  });

  it("tab.csv: tab-delimited", async () => {
    const { records, summary } = await read("tab.csv");
    expect(summary?.columns.delimiter).toBe("\t");
    expect(records).toEqual([row(2, { customerId: CUSTOMER_A, userId: USER_1, sku: "Power BI Pro" })]);
  });

  it("bom.csv: the byte-order mark is not part of the first column name", async () => {
    const { records, summary } = await read("bom.csv");
    expect(summary?.columns.customerId).toEqual({ index: 0, name: "customerId" });
    expect(records).toEqual([row(2, { customerId: CUSTOMER_A, userId: USER_1, sku: E })]);
  });

  it("crlf.csv: a quoted CRLF and a blank line keep line numbers true", async () => {
    const { records } = await read("crlf.csv");
    expect(records).toEqual([
      row(2, { customerId: CUSTOMER_A, userId: USER_1, sku: E }),
      row(5, { customerId: CUSTOMER_A, userId: USER_2, sku: E }),
    ]);
  });

  it("mixed-line-endings.csv: CRLF, LF and CR in one file", async () => {
    const { records } = await read("mixed-line-endings.csv");
    expect(records).toEqual([
      row(2, { customerId: CUSTOMER_A, userId: USER_1, sku: "A" }),
      row(3, { customerId: CUSTOMER_A, userId: USER_2, sku: "B" }),
      row(4, { customerId: CUSTOMER_A, userId: USER_3, sku: "C" }),
    ]);
  });

  it("quoted.csv: quoted commas, doubled quotes, a note over three lines", async () => {
    const { records } = await read("quoted.csv");
    expect(records).toEqual([
      row(2, { customerId: CUSTOMER_A, userId: USER_1, sku: "Office 365 E3, no Teams" }),
      row(3, { customerId: CUSTOMER_A, userId: USER_2, sku: 'Power BI "Pro"' }),
      row(6, { customerId: CUSTOMER_B, userId: USER_3, sku: "POWER_BI_PRO" }),
    ]);
  });

  it("trailing-spaces.csv: spaces, tabs, NBSP and zero-width spaces trimmed, also around quotes", async () => {
    const { records, summary } = await read("trailing-spaces.csv");
    expect(summary?.columns.customerId.name).toBe("customerId");
    expect(records).toEqual([
      row(2, { customerId: CUSTOMER_A, userId: USER_1, sku: E }),
      row(3, { customerId: CUSTOMER_A, userId: USER_2, sku: "Power BI Pro" }),
      row(4, { customerId: CUSTOMER_B, userId: USER_3, sku: "POWER_BI_PRO" }),
    ]);
  });

  it("unknown-sku.csv: any SKU text passes this stage (the catalog judges it)", async () => {
    const { records } = await read("unknown-sku.csv");
    expect(records).toEqual([
      row(2, { customerId: CUSTOMER_A, userId: USER_1, sku: "NO_SUCH_SKU_ANYWHERE" }),
      row(3, { customerId: CUSTOMER_A, userId: USER_2, sku: '=HYPERLINK("http://x")' }),
    ]);
  });

  it("duplicate-rows.csv: both rows yielded (the plan stage finds duplicates)", async () => {
    const { records } = await read("duplicate-rows.csv");
    expect(records).toEqual([
      row(2, { customerId: CUSTOMER_A, userId: USER_1, sku: E }),
      row(3, { customerId: CUSTOMER_A, userId: USER_1, sku: E }),
    ]);
  });

  it("assign-and-remove.csv: both rows yielded (the plan stage finds the conflict)", async () => {
    const { records } = await read("assign-and-remove.csv");
    expect(records).toEqual([
      row(2, { customerId: CUSTOMER_A, userId: USER_1, sku: E, action: "assign" }),
      row(3, { customerId: CUSTOMER_A, userId: USER_1, sku: E, action: "remove" }),
    ]);
  });
});

describe("rows rejected one by one", () => {
  it("invalid-guids.csv", async () => {
    const { records, summary } = await read("invalid-guids.csv");
    expect(records).toEqual([
      rejected(2, "INVALID_CUSTOMER_ID", 'customerId "not-a-guid" is not a GUID', { customerId: "not-a-guid", userId: USER_1, sku: E }),
      rejected(3, "INVALID_USER_ID", 'userId "12345"', { customerId: CUSTOMER_A, userId: "12345", sku: E }),
      rejected(4, "INVALID_CUSTOMER_ID", "customerId", { customerId: CUSTOMER_A.slice(0, 35), userId: USER_1, sku: E }),
      row(5, { customerId: CUSTOMER_A, userId: USER_1, sku: E }), // braces and upper case normalised
      rejected(6, "MISSING_CUSTOMER", "customerId is empty", { userId: USER_1, sku: E }),
      rejected(7, "MISSING_USER", "userId and userPrincipalName", { customerId: CUSTOMER_A, sku: E }),
      rejected(8, "MISSING_SKU", "sku is empty", { customerId: CUSTOMER_A, userId: USER_1 }),
      row(9, { customerId: CUSTOMER_A, userPrincipalName: "alex@contoso.com", sku: E }),
    ]);
    expect(summary?.dataRows).toBe(8);
  });

  it("path-characters.csv: no id with ../, %2e, ?, / or # passes", async () => {
    const { records } = await read("path-characters.csv");
    const base = { customerId: CUSTOMER_A, userId: USER_1, sku: E };
    expect(records).toEqual([
      rejected(2, "INVALID_CUSTOMER_ID", "customerId", { ...base, customerId: `../${CUSTOMER_A}` }),
      rejected(3, "INVALID_CUSTOMER_ID", "customerId", { ...base, customerId: `${CUSTOMER_A}/../../customers` }),
      rejected(4, "INVALID_CUSTOMER_ID", "customerId", { ...base, customerId: `%2e%2e%2f${CUSTOMER_A}` }),
      rejected(5, "INVALID_CUSTOMER_ID", "customerId", { ...base, customerId: `${CUSTOMER_A}?size=1` }),
      rejected(6, "INVALID_USER_ID", "userId", { ...base, userId: `${USER_1}/licenseupdates` }),
      rejected(7, "INVALID_USER_ID", "userId", { ...base, userId: `${USER_1}#x` }),
      rejected(8, "INVALID_USER_PRINCIPAL_NAME", "userPrincipalName", { ...base, userId: "", userPrincipalName: "../alex@contoso.com" }),
      rejected(9, "INVALID_USER_PRINCIPAL_NAME", "userPrincipalName", { ...base, userId: "", userPrincipalName: "alex%2e@contoso.com" }),
      rejected(10, "INVALID_USER_PRINCIPAL_NAME", "userPrincipalName", { ...base, userId: "", userPrincipalName: "alex@contoso.com?x=1" }),
      rejected(11, "INVALID_SKU", "sku", { ...base, sku: "../../subscribedskus" }),
      rejected(12, "INVALID_SKU", "sku", { ...base, sku: "%2e%2e" }),
    ]);
  });

  it("user-principal-names.csv: names resolved later; guests (#EXT#) accepted; malformed ones rejected", async () => {
    const { records } = await read("user-principal-names.csv");
    const base = { customerId: CUSTOMER_A, sku: E };
    expect(records).toEqual([
      row(2, { ...base, userPrincipalName: "alex@contoso.com" }),
      row(3, { ...base, userPrincipalName: "megan_fabrikam.com#EXT#@contoso.onmicrosoft.com" }),
      rejected(4, "INVALID_USER_PRINCIPAL_NAME", "upn", { ...base, userPrincipalName: "alex contoso.com" }),
      rejected(5, "INVALID_USER_PRINCIPAL_NAME", "upn", { ...base, userPrincipalName: "alex wilber@contoso.com" }),
      rejected(6, "INVALID_USER_PRINCIPAL_NAME", "upn", { ...base, userPrincipalName: "alex@contoso" }),
      rejected(7, "MISSING_USER", "upn is empty", base),
    ]);
  });

  it("invalid-fields.csv: excluded plans, actions, control / direction characters, a long SKU", async () => {
    const { records } = await read("invalid-fields.csv");
    const base = { customerId: CUSTOMER_A, userId: USER_1, sku: E };
    expect(records).toEqual([
      row(2, { ...base, excludedPlans: ["YAMMER_ENTERPRISE", PLAN_ID], action: "remove" }),
      rejected(3, "INVALID_EXCLUDED_PLAN", 'excludedPlans entry "../etc"', base),
      rejected(4, "INVALID_ACTION", 'action "delete"', { ...base, action: "delete" }),
      rejected(5, "INVALID_SKU", "control characters", { ...base, sku: "Power\\u0007BI" }),
      rejected(6, "INVALID_SKU", "invisible", { ...base, sku: "Power\\u202eIB" }),
      rejected(7, "INVALID_SKU", "sku is 300 characters long", { ...base, sku: `${"X".repeat(120)}…` }),
    ]);
  });

  it("column-count.csv: non-empty extra cells are COLUMN_COUNT, empty ones ignored, short rows judged by field", async () => {
    const { records } = await read("column-count.csv");
    expect(records).toEqual([
      rejected(2, "COLUMN_COUNT", "4 cells but the header has 3", { customerId: CUSTOMER_A, userId: USER_1, sku: "Office 365 E3" }),
      row(3, { customerId: CUSTOMER_A, userId: USER_2, sku: E }),
      rejected(4, "MISSING_SKU", "sku", { customerId: CUSTOMER_A, userId: USER_3 }),
    ]);
  });

  it("latin1.csv: invalid UTF-8 in a used column is INVALID_ENCODING; in an ignored column it is harmless", async () => {
    const { records } = await read("latin1.csv");
    expect(records).toEqual([
      rejected(2, "INVALID_ENCODING", "sku", { customerId: CUSTOMER_A, userId: USER_1, sku: "Caf\ufffd Plan" }),
      row(3, { customerId: CUSTOMER_A, userId: USER_2, sku: "POWER_BI_PRO" }),
    ]);
  });
});
