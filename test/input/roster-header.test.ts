// Header finding and mapping, and line numbering around blank lines, on small inline rosters.
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { readAll, rejected, row } from "../support/read-all.js";

const C = "3c5f4d9e-8b2a-4f1e-9c7d-2a6b1e0f4d3c";
const U = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const stdin = (text: string) => ({ stream: Readable.from([Buffer.from(text, "utf8")]), name: "-" });

describe("the header", () => {
  it("is the first non-blank line; lines keep counting from the top of the file", async () => {
    const { records, summary } = await readAll(stdin(`\n  \ncustomerId,userId,sku\n\n${C},${U},E3\n,,\n${C},${U},E5\n`));
    expect(summary?.columns.headerLine).toBe(3);
    expect(records).toEqual([row(5, { customerId: C, userId: U, sku: "E3" }), row(7, { customerId: C, userId: U, sku: "E5" })]);
    expect(summary?.dataRows).toBe(2);
  });

  it("old Mac line endings (CR only)", async () => {
    const { records } = await readAll(stdin(`customerId,userId,sku\r${C},${U},E3\r`));
    expect(records).toEqual([row(2, { customerId: C, userId: U, sku: "E3" })]);
  });

  it("a header of unknown names is NO_HEADER", async () => {
    const { error } = await readAll(stdin(`foo,bar,baz\n1,2,3\n`));
    expect(error?.code).toBe("NO_HEADER");
    expect(error?.message).toContain("none of its cells names a roster column");
  });

  it("a first line holding a user principal name is NO_HEADER", async () => {
    const { error } = await readAll(stdin(`customer,alex@contoso.com,E3\n`));
    expect(error?.code).toBe("NO_HEADER");
  });

  it("two aliases of one field are DUPLICATE_COLUMN", async () => {
    const { error } = await readAll(stdin(`customerId,user,objectId,sku\n`));
    expect(error?.code).toBe("DUPLICATE_COLUMN");
    expect(error?.message).toContain('"user" (column 2) and "objectId" (column 3)');
  });

  it("semicolon wins over commas inside quoted header cells", async () => {
    const { summary } = await readAll(stdin(`customerId;userId;sku;"a,b,c,d"\n`));
    expect(summary?.columns.delimiter).toBe(";");
    expect(summary?.columns.unknown).toEqual([{ index: 3, name: "a,b,c,d" }]);
  });
});

describe("both user columns", () => {
  it("validates each one given", async () => {
    const { records } = await readAll(stdin(`customerId,userId,upn,sku\n${C},${U},alex@contoso.com,E3\n${C},${U},alex@,E3\n`));
    expect(records).toEqual([
      row(2, { customerId: C, userId: U, userPrincipalName: "alex@contoso.com", sku: "E3" }),
      rejected(3, "INVALID_USER_PRINCIPAL_NAME", 'upn "alex@"', { customerId: C, userId: U, userPrincipalName: "alex@", sku: "E3" }),
    ]);
  });
});

describe("display of rejected values", () => {
  it("escapes terminal control sequences and caps length", async () => {
    const { records } = await readAll(stdin(`customerId,userId,sku\n\u001b[31mred${"x".repeat(500)},${U},E3\n`));
    const rejection = records[0]?.kind === "rejected" ? records[0].rejection : undefined;
    expect(rejection?.errorCode).toBe("INVALID_CUSTOMER_ID");
    expect(rejection?.customerId.startsWith("\\u001b[31mred")).toBe(true);
    expect(rejection?.customerId.length).toBeLessThanOrEqual(130);
    expect(rejection?.errorMessage).not.toContain("\u001b");
  });
});
