// End to end (hostile rosters): every roster of fixtures/rosters/ run through the built
// CLI against the emulator. A file that cannot be a roster exits 2 naming the problem and the line,
// sends nothing and replaces no results; a roster with bad rows gets them `invalid` with their code
// and processes the rest, one result line per data row. No roster value ever reaches a request path.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
// @ts-expect-error: a plain .mjs script with no type declarations
import * as corpus from "../../fixtures/rosters/generate.mjs";
import { readableStderr, readResults, runCli } from "../support/cli.js";
import { control, startTestEmulator, type RunningEmulator } from "../support/emulator.js";
import { skus as builderSkus, state } from "../support/state-builder.js";
import type { StateCustomer, StateSubscribedSku } from "../../dist/emulator/state-file.js";
import { cliArgs, requestLog, tokenEnv, workspace, type Workspace } from "../support/resilience-e2e.js";

const { CUSTOMER_A, CUSTOMER_B, USER_1, USER_2, USER_3 } = corpus as Record<string, string>;
const writeHugeFieldRoster = corpus.writeHugeFieldRoster as (path: string) => Promise<void>;
const writeManyRowsRoster = corpus.writeManyRowsRoster as (path: string, rows: number) => Promise<void>;
const DIR = "fixtures/rosters";

const ESSENTIALS = "3b555118-da6a-4418-894f-7df1e2096870";
const GUEST = "9d1c7e4a-0b2f-4c3d-8e5f-6a7b8c9d0e1f";
const MEGAN = "4e2d1c0b-9a8f-4e7d-8c6b-5a4f3e2d1c0b";
const SKU_A1 = "aaaa0001-0000-4000-8000-000000000001";
const SKU_A2 = "aaaa0002-0000-4000-8000-000000000002";
const SKU_B = "bbbb0001-0000-4000-8000-000000000001";

function sku(id: string, name: string, partNumber: string, plans: StateSubscribedSku["servicePlans"] = []): StateSubscribedSku {
  return { productSku: { id, name, skuPartNumber: partNumber, targetType: "User", licenseGroupId: "group1" }, servicePlans: plans, activeUnits: 100, consumedUnits: 0 };
}

function user(id: string, upn: string) {
  return { id, userPrincipalName: upn, displayName: upn, usageLocation: "US", licenses: [] };
}

/** The corpus's customers: A with Business Basic, Power BI Pro, two SKUs both named "A" and one with part number "B"; B with Power BI Pro. */
function corpusState() {
  const essentials = sku(ESSENTIALS, "Microsoft 365 Business Basic", "O365_BUSINESS_ESSENTIALS", [
    { displayName: "Yammer Enterprise", serviceName: "YAMMER_ENTERPRISE", id: "7547a3fe-08ee-4ccb-b430-5077c5041653", capabilityStatus: "Enabled", targetType: "User" },
    { displayName: "Exchange Foundation", serviceName: "EXCHANGE_S_FOUNDATION", id: "113feb6c-3fe4-4440-bddc-54d774bf0318", capabilityStatus: "Enabled", targetType: "Tenant" },
  ]);
  const a: StateCustomer = {
    id: CUSTOMER_A,
    companyName: "Contoso",
    subscribedSkus: [essentials, ...builderSkus({ powerBiPro: 100 }), sku(SKU_A1, "A", "A_ONE"), sku(SKU_A2, "A", "A_TWO"), sku(SKU_B, "Bee", "B")],
    users: [user(USER_1, "alex@contoso.com"), user(USER_2, "renee@contoso.com"), user(USER_3, "lee@contoso.com"), user(GUEST, "megan_fabrikam.com#EXT#@contoso.onmicrosoft.com")],
  };
  const b: StateCustomer = {
    id: CUSTOMER_B,
    companyName: "Fabrikam",
    subscribedSkus: builderSkus({ powerBiPro: 100 }),
    users: [user(USER_3, "lee@fabrikam.onmicrosoft.com"), user(MEGAN, "megan@fabrikam.onmicrosoft.com")],
  };
  return state([a, b]);
}

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startTestEmulator({ state: corpusState() });
});
afterAll(async () => emulator.close());

async function fixture(name: string): Promise<Workspace> {
  return workspace(await readFile(join(DIR, name)));
}

/** A run or plan from a fresh emulator (counters and log cleared, seats back to the start). */
async function run(command: "run" | "plan", ws: Workspace, extra: string[] = []) {
  await control(emulator, "reset", {});
  return plan(ws, extra, command);
}

/** No reset: plans change no state, so they may share the emulator concurrently. */
function plan(ws: Workspace, extra: string[] = [], command: "run" | "plan" = "plan") {
  return runCli(cliArgs(command, emulator, ws, extra), { env: tokenEnv() });
}

describe("files that cannot be a roster: exit 2, the problem and its line named, nothing sent, no results replaced", () => {
  const PREVIOUS = "\uFEFFthe results of an earlier run\n";
  it.each([
    ["empty.csv", "EMPTY_FILE", undefined, /empty/i],
    ["blank-lines-only.csv", "EMPTY_FILE", undefined, /empty/i],
    ["no-header.csv", "NO_HEADER", 1, /needs a first line naming its columns/],
    ["no-customer-column.csv", "NO_CUSTOMER_COLUMN", 1, /customer/i],
    ["no-user-column.csv", "NO_USER_COLUMN", 1, /user/i],
    ["no-sku-column.csv", "NO_SKU_COLUMN", 1, /has no SKU column.*"plan"/],
    ["duplicate-column.csv", "DUPLICATE_COLUMN", 1, /"customerId" \(column 1\) and "tenantId" \(column 2\)/],
    ["unterminated-quote.csv", "UNTERMINATED_QUOTE", 3, /line 3/],
    ["utf16.csv", "UNSUPPORTED_ENCODING", 1, /UTF-16|encoding/i],
    ["xlsx.csv", "NOT_CSV", undefined, /xlsx|workbook|zip|not a CSV/i],
  ])("%s -> %s", async (name, code, line, says) => {
    const ws = await fixture(name);
    await writeFile(ws.output, PREVIOUS);
    await writeFile(`${ws.output}.run.json`, "{}\n");
    const cli = await run("run", ws);

    expect(cli.code, cli.stderr).toBe(2);
    const message = readableStderr(cli.stderr).split("\n").find((l) => l.startsWith("license-runner: "));
    expect(message, cli.stderr).toContain(`the roster ${ws.input} cannot be read`);
    expect(message).toContain(`[${code}]`);
    if (line !== undefined) expect(message).toContain(`(line ${line})`);
    else expect(message).not.toMatch(/\(line \d+\)/);
    expect(message).toMatch(says);

    expect((await control(emulator, "counters")).requests.total).toBe(0);
    expect(await readFile(ws.output, "utf8")).toBe(PREVIOUS);
    expect(await readFile(`${ws.output}.run.json`, "utf8")).toBe("{}\n");
  });
});

type Expected = [line: number, status: string, errorCode?: string];

describe("rosters that read: bad rows invalid with their code, the rest planned, one line per data row", () => {
  // Concurrent (each its own CLI process): plans write nothing, so the shared emulator is left as is.
  it.concurrent.for<[string, number, Expected[]]>([
    ["header-only.csv", 0, []],
    ["aliases.csv", 3, [[2, "invalid", "INVALID_EXCLUDED_PLAN"], [3, "planned"]]],
    ["semicolon.csv", 3, [[2, "invalid", "UNKNOWN_SKU"], [3, "planned"]]],
    ["tab.csv", 0, [[2, "planned"]]],
    ["bom.csv", 0, [[2, "planned"]]],
    ["crlf.csv", 0, [[2, "planned"], [5, "planned"]]],
    ["mixed-line-endings.csv", 3, [[2, "invalid", "AMBIGUOUS_SKU"], [3, "planned"], [4, "invalid", "UNKNOWN_SKU"]]],
    ["quoted.csv", 3, [[2, "invalid", "UNKNOWN_SKU"], [3, "invalid", "UNKNOWN_SKU"], [6, "planned"]]],
    ["trailing-spaces.csv", 0, [[2, "planned"], [3, "planned"], [4, "planned"]]],
    [
      "invalid-guids.csv",
      3,
      [
        [2, "invalid", "INVALID_CUSTOMER_ID"],
        [3, "invalid", "INVALID_USER_ID"],
        [4, "invalid", "INVALID_CUSTOMER_ID"],
        [5, "planned"],
        [6, "invalid", "MISSING_CUSTOMER"],
        [7, "invalid", "MISSING_USER"],
        [8, "invalid", "MISSING_SKU"],
        [9, "invalid", "DUPLICATE_ROW"], // alex@contoso.com is line 5's user
      ],
    ],
    [
      "path-characters.csv",
      3,
      [
        [2, "invalid", "INVALID_CUSTOMER_ID"],
        [3, "invalid", "INVALID_CUSTOMER_ID"],
        [4, "invalid", "INVALID_CUSTOMER_ID"],
        [5, "invalid", "INVALID_CUSTOMER_ID"],
        [6, "invalid", "INVALID_USER_ID"],
        [7, "invalid", "INVALID_USER_ID"],
        [8, "invalid", "INVALID_USER_PRINCIPAL_NAME"],
        [9, "invalid", "INVALID_USER_PRINCIPAL_NAME"],
        [10, "invalid", "INVALID_USER_PRINCIPAL_NAME"],
        [11, "invalid", "INVALID_SKU"],
        [12, "invalid", "INVALID_SKU"],
      ],
    ],
    [
      "user-principal-names.csv",
      3,
      [
        [2, "planned"],
        [3, "planned"], // a guest (#EXT#) resolved through the users' pages
        [4, "invalid", "INVALID_USER_PRINCIPAL_NAME"],
        [5, "invalid", "INVALID_USER_PRINCIPAL_NAME"],
        [6, "invalid", "INVALID_USER_PRINCIPAL_NAME"],
        [7, "invalid", "MISSING_USER"],
      ],
    ],
    [
      "invalid-fields.csv",
      3,
      [
        [2, "invalid", "INVALID_EXCLUDED_PLAN"], // excluded plans on a removal
        [3, "invalid", "INVALID_EXCLUDED_PLAN"],
        [4, "invalid", "INVALID_ACTION"],
        [5, "invalid", "INVALID_SKU"],
        [6, "invalid", "INVALID_SKU"],
        [7, "invalid", "INVALID_SKU"],
      ],
    ],
    ["column-count.csv", 3, [[2, "invalid", "COLUMN_COUNT"], [3, "planned"], [4, "invalid", "MISSING_SKU"]]],
    ["unknown-sku.csv", 3, [[2, "invalid", "UNKNOWN_SKU"], [3, "invalid", "UNKNOWN_SKU"]]],
    ["duplicate-rows.csv", 3, [[2, "planned"], [3, "invalid", "DUPLICATE_ROW"]]],
    ["assign-and-remove.csv", 3, [[2, "invalid", "CONFLICTING_ACTIONS"], [3, "invalid", "CONFLICTING_ACTIONS"]]],
    ["latin1.csv", 3, [[2, "invalid", "INVALID_ENCODING"], [3, "planned"]]],
  ])("%s -> exit %i", async ([name, exitCode, expected], { expect }) => {
    const ws = await fixture(name);
    const cli = await plan(ws);
    expect(cli.code, cli.stderr).toBe(exitCode);
    const results = await readResults(ws.output);
    expect(results.map((r) => [Number(r.line), r.status, ...(r.errorCode ? [r.errorCode] : [])])).toEqual(expected);
    for (const r of results.filter((x) => x.status === "invalid")) expect(r.errorMessage, `line ${r.line}`).not.toBe("");
    expect((await control(emulator, "counters")).requests.byEndpoint.licenseUpdates ?? 0).toBe(0);
  });

  it("unknown-sku.csv: the formula-looking SKU is written neutralised", async () => {
    const ws = await fixture("unknown-sku.csv");
    await plan(ws);
    const results = await readResults(ws.output);
    expect(results[1]!.sku).toBe(`'=HYPERLINK("http://x")`);
  });

  it("a 2 MB field: that row FIELD_TOO_LONG (its value capped in the results), the others planned", async () => {
    const ws = await workspace("");
    await writeHugeFieldRoster(ws.input);
    const cli = await plan(ws);
    expect(cli.code, cli.stderr).toBe(3);
    const results = await readResults(ws.output);
    expect(results.map((r) => [Number(r.line), r.status, r.errorCode])).toEqual([
      [2, "invalid", "FIELD_TOO_LONG"],
      [3, "planned", ""],
      [4, "planned", ""],
    ]);
    expect(results[0]!.sku.length).toBeLessThanOrEqual(121);
    expect((await readFile(ws.output)).length).toBeLessThan(10_000);
  });

  it("100,000 rows over 1,000 customers: every row planned, each customer's SKUs read once", async () => {
    const customers: StateCustomer[] = Array.from({ length: 1000 }, (_, i) => ({
      id: `${i.toString(16).padStart(8, "0")}-0000-4000-8000-000000000000`,
      companyName: `Customer ${i}`,
      subscribedSkus: [sku(ESSENTIALS, "Microsoft 365 Business Basic", "O365_BUSINESS_ESSENTIALS")],
      users: [],
    }));
    const big = await startTestEmulator({ state: state(customers) });
    try {
      const ws = await workspace("");
      await writeManyRowsRoster(ws.input, 100_000);
      const cli = await runCli(cliArgs("plan", big, ws, ["--concurrency", "16"]), { env: tokenEnv() });
      expect(cli.code, cli.stderr).toBe(0);
      const text = await readFile(ws.output, "utf8");
      const lines = text.split("\n").filter((l) => l !== "");
      expect(lines).toHaveLength(100_001);
      expect(lines.slice(1).every((l, i) => l.startsWith(`${i + 2},`) && l.includes(",planned,"))).toBe(true);
      const counters = await control(big, "counters");
      expect(counters.requests.byEndpoint.subscribedSkus).toBe(1000);
      expect(counters.requests.byEndpoint.licenseUpdates ?? 0).toBe(0);
    } finally {
      await big.close();
    }
  });
});

describe("ids with path characters never reach a request path", () => {
  it("runs path-characters.csv with two good rows added: only they are sent, to well-formed paths", async () => {
    const bad = await readFile(join(DIR, "path-characters.csv"), "utf8");
    const ws = await workspace(`${bad}${CUSTOMER_A},${USER_1},,O365_BUSINESS_ESSENTIALS\n${CUSTOMER_A},,alex@contoso.com,POWER_BI_PRO\n`);
    const cli = await run("run", ws);
    expect(cli.code, cli.stderr).toBe(3);
    const results = await readResults(ws.output);
    expect(results).toHaveLength(13);
    expect(results.slice(0, 11).every((r) => r.status === "invalid" && r.httpStatus === "" && r.attempts === "0")).toBe(true);
    expect(results.slice(11).map((r) => [r.line, r.status, r.userId])).toEqual([
      ["13", "assigned", USER_1],
      ["14", "assigned", USER_1],
    ]);

    const log = await requestLog(emulator);
    expect(log.length).toBeGreaterThan(0);
    const known = new Set(["customer", "subscribedSkus", "users", "user", "userLicenses", "licenseUpdates"]);
    for (const entry of log) {
      expect(known.has(entry.endpoint), `endpoint ${entry.endpoint}`).toBe(true);
      expect(entry.customerId).toBe(CUSTOMER_A);
      expect([null, USER_1]).toContain(entry.userId);
      expect(`${entry.customerId}/${entry.userId}`).not.toMatch(/\.\.|%|\?|#|\/.*\//);
    }
    expect(log.filter((e) => e.endpoint === "licenseUpdates").map((e) => e.status)).toEqual([201]);
    expect((await control(emulator, "counters")).requests.byEndpoint.unknown ?? 0).toBe(0);
  });
});
