// End to end: undo reverses what a run changed. A run with --diff assigns and removes over a state
// where users already hold some SKUs; undo of its results, run with --diff, puts the emulator back
// exactly (every user's licenses and plans, every SKU's consumed seats). Undo refuses a run without
// --diff unless --assume-new, and leaves out rows that changed nothing.
import { afterEach, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanEnv, readResults, runCli, type ResultRow } from "../support/cli.js";
import { control, startTestEmulator, type RunningEmulator } from "../support/emulator.js";
import { customer, roster, SKU, state, TOKEN } from "../support/state-builder.js";
import { RESULT_COLUMNS } from "../../dist/model.js";

const TEAMS = "57ff2da0-773e-42df-b2af-ffb7a2317929";

let emulator: RunningEmulator | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function workdir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "lr-undo-"));
  dirs.push(dir);
  return dir;
}

async function run(em: RunningEmulator, input: string, output: string, extra: string[] = []) {
  const result = await runCli(["run", "--input", input, "--output", output, "--base-url", em.url, "--log-format", "json", "--no-progress", ...extra], {
    env: cleanEnv({ PARTNER_CENTER_ACCESS_TOKEN: TOKEN }),
  });
  return { ...result, results: await readResults(output).catch(() => [] as ResultRow[]) };
}

function undo(results: string, output: string, extra: string[] = []) {
  return runCli(["undo", "--results", results, "--output", output, ...extra]);
}

/** What undo must restore: each user's licenses with their plans, each SKU's consumed seats. */
async function snapshot(em: RunningEmulator): Promise<unknown> {
  const live = await control(em, "state");
  return live.customers.map((c: any) => ({
    id: c.id,
    seats: Object.fromEntries(c.subscribedSkus.map((s: any) => [s.productSku.id, s.consumedUnits])),
    users: Object.fromEntries(
      c.users.map((u: any) => [u.id, Object.fromEntries(u.licenses.map((l: any) => [l.skuId, [...l.excludedPlans].sort()]))]),
    ),
  }));
}

describe("undo", () => {
  it("reverses a --diff run that assigns and removes: the emulator's state is exactly the state before; its own results can be undone again", async () => {
    const c = customer(1, 6, { e3: 10, powerBiPro: 10 });
    const [u1, u2, u3, u4, u5, u6] = c.users.map((u) => u.id) as [string, string, string, string, string, string];
    c.users[0]!.licenses = [{ skuId: SKU.e3, excludedPlans: [TEAMS] }];
    c.users[1]!.licenses = [{ skuId: SKU.powerBiPro }];
    c.users[2]!.licenses = [{ skuId: SKU.e3 }, { skuId: SKU.powerBiPro }];
    emulator = await startTestEmulator({ state: state([c]) });
    const before = await snapshot(emulator);

    const dir = await workdir();
    const input = join(dir, "migration.csv");
    await writeFile(
      input,
      roster(
        [
          [c.id, u1, "ENTERPRISEPACK", "assign", ""], // held without Teams: the plans change
          [c.id, u2, "ENTERPRISEPACK", "assign", "TEAMS1"], // new
          [c.id, u2, "Power BI Pro", "assign", ""], // held: unchanged
          [c.id, u3, "ENTERPRISEPACK", "remove", ""], // held: removed
          [c.id, u3, "Power BI Pro", "remove", ""], // held: removed
          [c.id, u4, "Power BI Pro", "assign", ""], // new
          [c.id, u5, "Power BI Pro", "remove", ""], // not held: unchanged
          [c.id, u6, "Visio Plan 2", "assign", ""], // invalid
        ],
        "customerId,userId,sku,action,excludedPlans",
      ),
    );
    const first = await run(emulator, input, join(dir, "migration.results.csv"), ["--diff"]);
    expect(first.code, first.stderr).toBe(3); // the invalid row
    expect(first.results.sort((a, b) => Number(a.line) - Number(b.line)).map((r) => r.status)).toEqual([
      "assigned",
      "assigned",
      "unchanged",
      "removed",
      "removed",
      "assigned",
      "unchanged",
      "invalid",
    ]);
    const after = await snapshot(emulator);
    expect(after).not.toEqual(before);

    const undoRoster = join(dir, "undo.csv");
    const undone = await undo(join(dir, "migration.results.csv"), undoRoster);
    expect(undone.code, undone.stderr).toBe(0);
    expect(undone.stderr).toMatch(/undo: 5 rows to reverse \(2 removals, 3 assignments\)/);
    const undoRows = (await readFile(undoRoster, "utf8")).trim().split("\n");
    expect(undoRows[0]).toBe("customerId,userId,userPrincipalName,sku,action,excludedPlans,originalLine");
    expect(undoRows.slice(1).map((line) => line.split(",").slice(4).join(","))).toEqual([
      "remove,,3", // u2's new E3
      "remove,,7", // u4's new Power BI
      `assign,${TEAMS},2`, // u1's E3 back to its old plans, never removed
      "assign,,5", // u3's E3 back
      "assign,,6", // u3's Power BI back
    ]);

    const second = await run(emulator, undoRoster, join(dir, "undo.results.csv"), ["--diff"]);
    expect(second.code, second.stderr).toBe(0);
    expect(await snapshot(emulator)).toEqual(before);

    // The undo's own results undo again: back to the state after the first run.
    const again = join(dir, "redo.csv");
    expect((await undo(join(dir, "undo.results.csv"), again)).code).toBe(0);
    const third = await run(emulator, again, join(dir, "redo.results.csv"), ["--diff"]);
    expect(third.code, third.stderr).toBe(0);
    expect(await snapshot(emulator)).toEqual(after);
  });

  it("refuses the results of a run without --diff (exit 2), and with --assume-new writes a roster that names it and plans as any other", async () => {
    const c = customer(1, 2, { powerBiPro: 5 });
    emulator = await startTestEmulator({ state: state([c]) });
    const dir = await workdir();
    const input = join(dir, "roster.csv");
    await writeFile(input, roster(c.users.map((u) => [c.id, u.id, "Power BI Pro", "assign"])));
    const results = join(dir, "roster.results.csv");
    expect((await run(emulator, input, results)).code).toBe(0);

    const out = join(dir, "undo.csv");
    const refused = await undo(results, out);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/without --diff.*--assume-new/s);
    await expect(readFile(out, "utf8")).rejects.toThrow();

    const accepted = await undo(results, out, ["--assume-new"]);
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(accepted.stderr).toMatch(/--assume-new/);
    const text = await readFile(out, "utf8");
    expect(text.split("\n")[0]).toMatch(/^# undo of .* with --assume-new/);
    const plan = await runCli(["plan", "--input", out, "--output", join(dir, "undo.plan.csv"), "--base-url", emulator.url, "--log-format", "json", "--no-progress"], {
      env: cleanEnv({ PARTNER_CENTER_ACCESS_TOKEN: TOKEN }),
    });
    expect(plan.code, plan.stderr).toBe(0);
    const planned = await readResults(join(dir, "undo.plan.csv"));
    expect(planned.map((r) => [r.line, r.action, r.status])).toEqual([
      ["3", "remove", "planned"],
      ["4", "remove", "planned"],
    ]);
  });

  it("leaves failed, aborted, invalid, unchanged, skipped and planned rows out", async () => {
    const dir = await workdir();
    const results = join(dir, "mixed.results.csv");
    const C = "c0000001-0000-4000-8000-000000000000";
    const user = (n: number): string => `a0000001-0000-4000-8000-00000000000${n}`;
    const line = (n: number, status: string, action: string, heldBefore: string, httpStatus = ""): string => {
      const cells: Record<string, string> = { line: String(n), customerId: C, userId: user(n), sku: "E3", skuId: SKU.e3, licenseGroup: "group1", action, status, httpStatus, attempts: "1", finishedAt: "2026-01-01T00:00:00.000Z", heldBefore };
      return RESULT_COLUMNS.map((column) => cells[column] ?? "").join(",");
    };
    await writeFile(
      results,
      [
        RESULT_COLUMNS.join(","),
        line(2, "assigned", "assign", "no", "201"),
        line(3, "failed", "assign", "no", "400"),
        line(4, "aborted", "assign", ""),
        line(5, "invalid", "assign", ""),
        line(6, "unchanged", "assign", "yes"),
        line(7, "skipped", "assign", ""),
        line(8, "planned", "remove", "yes"),
        "",
      ].join("\n"),
    );
    const out = join(dir, "undo.csv");
    const undone = await undo(results, out);
    expect(undone.code, undone.stderr).toBe(0);
    expect(undone.stderr).toMatch(/1 row to reverse .* from 7 results rows, 6 left out/);
    expect((await readFile(out, "utf8")).trim().split("\n").slice(1)).toEqual([`${C},${user(2)},,${SKU.e3},remove,,2`]);
    expect((await undo(join(dir, "missing.csv"), out)).code).toBe(2);
  });
});
