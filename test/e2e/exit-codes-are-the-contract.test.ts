// End to end: every exit is one of the contract's codes. An unexpected exception is exit 70 with
// one line (the stack only with --log-level debug) and the journal kept; a malformed subscribed
// SKU answer fails that customer's rows, never the run; a closed stderr ends logging quietly;
// SIGHUP drains like SIGTERM; a repeated --input is a usage error.
import { afterEach, describe, expect, it } from "vitest";
import { access, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { control, startTestEmulator, type RunningEmulator } from "../support/emulator.js";
import { cleanEnv, readResults, REPO } from "../support/cli.js";
import { customer, roster, state } from "../support/state-builder.js";
import { cliArgs, licenseUpdatesReceived, tokenEnv, waitUntil, workspace, type Workspace } from "../support/resilience-e2e.js";
import { runCliWith, startFaultProxy, type FaultProxy } from "../support/results-e2e.js";

let emulator: RunningEmulator | undefined;
let proxy: FaultProxy | undefined;
let ws: Workspace | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await emulator?.close();
  emulator = undefined;
  if (ws) await rm(ws.dir, { recursive: true, force: true });
  ws = undefined;
});

const c1 = customer(1, 3, { powerBiPro: 10 });
const c2 = customer(2, 3, { powerBiPro: 10 });
const rows = [...c1.users.map((u) => [c1.id, u.id, "Power BI Pro", "assign"]), ...c2.users.map((u) => [c2.id, u.id, "Power BI Pro", "assign"])];

describe("every exit is one of the contract's codes", () => {
  it("a repeated --input is exit 2 with a clear message", async () => {
    emulator = await startTestEmulator({ state: state([c1]) });
    ws = await workspace(roster(rows));
    const run = await runCliWith(cliArgs("run", emulator, ws, ["--input", ws.input]), { env: tokenEnv() });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain("--input is given more than once");
    expect((await control(emulator, "counters")).requests.total).toBe(0);
  });

  it("a subscribedskus item without productSku or licenseGroupId fails that customer's rows (MALFORMED_ANSWER), not the run", async () => {
    emulator = await startTestEmulator({ state: state([c1, c2]) });
    ws = await workspace(roster(rows));
    for (const drop of ["productSku", "licenseGroupId"]) {
      await control(emulator, "reset", {});
      proxy = await startFaultProxy(emulator.url, new RegExp(`/customers/${c1.id}/subscribedskus`, "i"), (body) => {
        const answer = JSON.parse(body.replace(/^\uFEFF/, ""));
        if (drop === "productSku") delete answer.items[0].productSku;
        else delete answer.items[0].productSku.licenseGroupId;
        return JSON.stringify(answer);
      });
      const run = await runCliWith(cliArgs("run", emulator, ws).map((arg) => (arg === emulator!.url ? proxy!.url : arg)), { env: tokenEnv() });
      expect(run.code, run.stderr).toBe(3);
      const results = await readResults(ws.output);
      expect(results.filter((row) => row.customerId === c1.id).map((row) => [row.status, row.errorCode])).toEqual(Array(3).fill(["failed", "MALFORMED_ANSWER"]));
      expect(results.filter((row) => row.customerId === c2.id).map((row) => row.status)).toEqual(["assigned", "assigned", "assigned"]);
      expect(results.find((row) => row.customerId === c1.id)?.errorMessage).toContain(`no productSku${drop === "productSku" ? "" : ".licenseGroupId"}`);
      await proxy.close();
      proxy = undefined;
    }
  });

  it("stderr closed by its reader (EPIPE) ends logging quietly: the run finishes and records every row", async () => {
    // The demo (embedded emulator, some rows refused): the end writes a seat check and a summary.
    ws = await workspace(await readFile(join(REPO, "fixtures/demo/roster.csv")));
    const run = await runCliWith(["run", "--emulator", "--input", ws.input, "--output", ws.output, "--log-level", "debug", "--no-progress"], { env: cleanEnv(), outputClosedAfterBytes: 10 });
    expect(run.code).toBe(3);
    const dataLines = (await readFile(ws.input, "utf8")).split(/\r?\n/).slice(1).filter((line) => line.trim() !== "").length;
    expect(await readResults(ws.output)).toHaveLength(dataLines);
  });

  it("SIGHUP drains like SIGTERM: exit 130, what was in flight recorded, the rest aborted", async () => {
    const many = customer(1, 40, { powerBiPro: 40 });
    emulator = await startTestEmulator({ state: state([many]), latencyMs: 200 });
    ws = await workspace(roster(many.users.map((u) => [many.id, u.id, "Power BI Pro", "assign"])));
    const em = emulator;
    const run = runCliWith(cliArgs("run", em, ws, ["--concurrency", "2"]), {
      env: tokenEnv(),
      onSpawn: (child) => {
        void waitUntil(async () => (await licenseUpdatesReceived(em)) >= 2, "the first writes").then(() => child.kill("SIGHUP"));
      },
    });
    const done = await run;
    expect(done.code, done.stderr).toBe(130);
    const results = await readResults(ws.output);
    expect(results).toHaveLength(40);
    const statuses = new Set(results.map((row) => row.status));
    expect([...statuses].sort()).toEqual(["aborted", "assigned"]);
    expect(results.filter((row) => row.status === "aborted").every((row) => row.errorCode === "INTERRUPTED")).toBe(true);
  });

  it("an unexpected exception is exit 70 with one line, the journal kept and the lock released; --log-level debug shows the stack", async () => {
    emulator = await startTestEmulator({ state: state([c1, c2]) });
    ws = await workspace(roster(rows));
    // A bug planted in the child: planning throws at its second filter() call, once rows are under way.
    const plant = join(ws.dir, "plant.mjs");
    await writeFile(
      plant,
      `let n = 0; const filter = Array.prototype.filter;
Array.prototype.filter = function (...args) {
  if (String(new Error().stack).includes("planCustomers") && ++n === 2) throw new TypeError("planted bug");
  return filter.apply(this, args);
};\n`,
    );
    for (const level of ["info", "debug"]) {
      await control(emulator, "reset", {});
      const run = await runCliWith(cliArgs("run", emulator, ws, ["--log-level", level]), { env: { ...tokenEnv(), NODE_OPTIONS: `--import=${plant}` } });
      expect(run.code, run.stderr).toBe(70);
      const line = run.stderr.split("\n").filter((l) => l.includes("internal error"));
      expect(line).toHaveLength(1);
      expect(line[0]).toContain("planted bug");
      if (level === "info") expect(run.stderr).not.toMatch(/\n\s+at /);
      else expect(run.stderr).toMatch(/\n\s+at /);
      expect((await readFile(ws.output, "utf8")).startsWith("\uFEFFline,customerId,")).toBe(true);
      await expect(access(`${ws.output}.lock`)).rejects.toThrow();
    }
  });
});
