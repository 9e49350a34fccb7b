// End to end ("never lose a row"): the built CLI killed, interrupted, faulted and resumed
// against the emulator on loopback. Asserts on the results file, exit codes and the emulator's own
// counters, log and seat counts: one line per input row, every row done, no seat consumed twice.
import { afterEach, describe, expect, it } from "vitest";
import { readFile, writeFile } from "node:fs/promises";
import { readableStderr, readResults, runCli, startCli, type ResultRow } from "../support/cli.js";
import { control, startTestEmulator, type RunningEmulator } from "../support/emulator.js";
import { customer, roster, SKU, state } from "../support/state-builder.js";
import {
  cliArgs,
  consumedSeats,
  requestLog,
  emulatorSettled,
  heldLicenses,
  journalLines,
  latestStatusByLine,
  licenseUpdatesReceived,
  tokenEnv,
  waitUntil,
  workspace,
} from "../support/resilience-e2e.js";

let emulator: RunningEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

/** `customers` customers of `users` users each, one Power BI Pro row per user (seats for all). */
function powerBiRoster(customers: number, users: number) {
  const list = Array.from({ length: customers }, (_, i) => customer(i + 1, users, { powerBiPro: users + 5 }));
  const rows = list.flatMap((c) => c.users.map((u) => [c.id, u.id, "Power BI Pro", "assign"]));
  return { customers: list, rows, csv: roster(rows) };
}

function linesOf(results: ResultRow[]): number[] {
  return results.map((r) => Number(r.line));
}

const rowLines = (count: number): number[] => Array.from({ length: count }, (_, i) => i + 2);

/** Each customer's Power BI Pro seats in use equal its rows, and each user holds it (exactly once). */
async function expectSeatsMatchRows(em: RunningEmulator, customers: ReturnType<typeof customer>[]): Promise<void> {
  const seats = await consumedSeats(em);
  const held = await heldLicenses(em);
  for (const c of customers) {
    expect(seats.get(`${c.id}|${SKU.powerBiPro}`), `seats of ${c.id}`).toBe(c.users.length);
    for (const u of c.users) expect(held.get(`${c.id}|${u.id}|${SKU.powerBiPro}`), `license of ${u.id}`).toBe(1);
  }
  const counters = await control(em, "counters");
  expect(counters.licensesAssigned).toBe(customers.reduce((n, c) => n + c.users.length, 0)); // no seat moved twice
}

describe("crash safety: SIGKILL mid-run, then --resume", () => {
  it("loses at most the requests in flight, and the resume finishes with one line per row and no seat consumed twice", async () => {
    const { customers, rows, csv } = powerBiRoster(3, 100);
    emulator = await startTestEmulator({ state: state(customers), latencyMs: 40 });
    const ws = await workspace(csv);
    const concurrency = 2;

    const first = startCli(cliArgs("run", emulator, ws, ["--concurrency", String(concurrency)]), { env: tokenEnv() });
    const em = emulator;
    await waitUntil(async () => (await control(em, "counters")).writesApplied >= 40, "40 writes applied");
    first.child.kill("SIGKILL");
    const killed = await first.done;
    expect(killed.signal).toBe("SIGKILL");
    await emulatorSettled(emulator);

    // What the journal holds after kill -9: every write the emulator applied is there, but for the
    // few in flight when the process died.
    const journal = await journalLines(ws.output);
    const latest = latestStatusByLine(journal);
    const assignedBefore = [...latest].filter(([, s]) => s === "assigned").map(([line]) => line);
    const applied = (await control(emulator, "counters")).writesApplied as number;
    expect(assignedBefore.length).toBeGreaterThanOrEqual(40 - concurrency);
    expect(assignedBefore.length).toBeLessThan(rows.length); // it really died mid-run
    expect(applied - assignedBefore.length).toBeGreaterThanOrEqual(0);
    expect(applied - assignedBefore.length).toBeLessThanOrEqual(concurrency);
    const logBefore = (await requestLog(emulator)).length;

    await control(emulator, "config", { latencyMs: 0 }); // the resume need not be slow
    const resumed = await runCli(cliArgs("run", emulator, ws, ["--resume", "--concurrency", "8"]), { env: tokenEnv() });
    expect(resumed.code, resumed.stderr).toBe(0);

    const results = await readResults(ws.output);
    expect(linesOf(results)).toEqual(rowLines(rows.length)); // exactly one line per input row, in order
    const byLine = new Map(results.map((r) => [Number(r.line), r]));
    for (const line of assignedBefore) expect(byLine.get(line)!.status, `line ${line}`).toBe("skipped");
    expect(results.filter((r) => r.status === "skipped")).toHaveLength(assignedBefore.length);
    expect(results.filter((r) => r.status === "assigned")).toHaveLength(rows.length - assignedBefore.length);

    // The resume never sent a row the first run had recorded done.
    const doneUsers = new Set(assignedBefore.map((line) => rows[line - 2]![1]));
    const resentWrites = (await requestLog(emulator)).slice(logBefore).filter((e) => e.endpoint === "licenseUpdates");
    expect(resentWrites.filter((e) => doneUsers.has(e.userId!))).toEqual([]);
    expect(resentWrites).toHaveLength(rows.length - assignedBefore.length);

    await expectSeatsMatchRows(emulator, customers);
  });
});

describe("transient faults: 5xx, resets and drops after commit", () => {
  it("assigns every row, retrying each lost write with its first MS-RequestId, answered by replay", async () => {
    const { customers, rows, csv } = powerBiRoster(2, 40);
    emulator = await startTestEmulator({
      state: state(customers),
      faults: { errorRate: 0.2, dropAfterCommitRate: 0.2, resetRate: 0.05 },
      seed: 7,
    });
    const ws = await workspace(csv);
    const run = await runCli(cliArgs("run", emulator, ws, ["--concurrency", "6", "--max-attempts", "12"]), { env: tokenEnv() });
    expect(run.code, run.stderr).toBe(0);

    const results = await readResults(ws.output);
    expect(linesOf(results)).toEqual(rowLines(rows.length));
    expect(results.every((r) => r.status === "assigned" && r.httpStatus === "201")).toBe(true);

    const counters = await control(emulator, "counters");
    expect(counters.faults.dropAfterCommit).toBeGreaterThan(0); // the faults really fired
    expect(counters.faults.error500 + counters.faults.error503).toBeGreaterThan(0);

    const writes = (await requestLog(emulator)).filter((e) => e.endpoint === "licenseUpdates");
    const resultByUser = new Map(results.map((r) => [r.userId, r]));
    const dropped = writes.filter((e) => e.fault?.includes("dropAfterCommit"));
    expect(dropped.length).toBe(counters.faults.dropAfterCommit);
    for (const lost of dropped) {
      // Every attempt for that user carried one MS-RequestId: the first one.
      const attempts = writes.filter((e) => e.userId === lost.userId);
      expect(new Set(attempts.map((e) => e.requestId)), `attempts for ${lost.userId}`).toEqual(new Set([lost.requestId]));
      expect(resultByUser.get(lost.userId!)!.requestId).toBe(lost.requestId);
      // ... and the retry after the drop was answered by replay, applying nothing again.
      const after = attempts.filter((e) => e.arrivalMs > lost.arrivalMs && e.status === 201);
      expect(after.length, `a 201 after the drop for ${lost.userId}`).toBeGreaterThan(0);
      expect(after.every((e) => e.replayed && !e.applied)).toBe(true);
    }
    // One application per user, however many attempts.
    const appliedPerUser = new Map<string, number>();
    for (const e of writes.filter((w) => w.applied)) appliedPerUser.set(e.userId!, (appliedPerUser.get(e.userId!) ?? 0) + 1);
    expect([...appliedPerUser.values()].every((n) => n === 1)).toBe(true);
    expect(appliedPerUser.size).toBe(rows.length);
    await expectSeatsMatchRows(emulator, customers);
  });
});

describe("graceful stop: SIGTERM", () => {
  it("exits 130 with in-flight rows recorded and the rest aborted; --resume finishes the job", async () => {
    const { customers, rows, csv } = powerBiRoster(2, 80);
    emulator = await startTestEmulator({ state: state(customers), latencyMs: 40 });
    const ws = await workspace(csv);

    const first = startCli(cliArgs("run", emulator, ws, ["--concurrency", "4"]), { env: tokenEnv() });
    const em = emulator;
    await waitUntil(async () => (await control(em, "counters")).writesApplied >= 20, "20 writes applied");
    first.child.kill("SIGTERM");
    const stopped = await first.done;
    expect(stopped.code, stopped.stderr).toBe(130);
    await emulatorSettled(emulator);

    const afterStop = await readResults(ws.output);
    expect(linesOf(afterStop)).toEqual(rowLines(rows.length)); // compacted even when interrupted
    const assigned = afterStop.filter((r) => r.status === "assigned");
    const aborted = afterStop.filter((r) => r.status === "aborted");
    expect(assigned.length + aborted.length).toBe(rows.length);
    expect(aborted.length).toBeGreaterThan(0);
    expect(aborted.every((r) => r.errorCode === "INTERRUPTED" && r.httpStatus === "")).toBe(true);
    // Every write the emulator applied, those in flight at the signal included, is recorded assigned.
    const writes = (await requestLog(emulator)).filter((e) => e.endpoint === "licenseUpdates");
    const appliedUsers = new Set(writes.filter((e) => e.applied).map((e) => e.userId));
    expect(new Set(assigned.map((r) => r.userId))).toEqual(appliedUsers);
    const requestIdOf = new Map(writes.map((e) => [e.userId, e.requestId]));
    for (const row of assigned) expect(row.requestId).toBe(requestIdOf.get(row.userId));
    // Aborted rows were never sent.
    const sentUsers = new Set(writes.map((e) => e.userId));
    expect(aborted.filter((r) => sentUsers.has(r.userId))).toEqual([]);

    const resumed = await runCli(cliArgs("run", emulator, ws, ["--resume", "--concurrency", "8"]), { env: tokenEnv() });
    expect(resumed.code, resumed.stderr).toBe(0);
    const results = await readResults(ws.output);
    expect(linesOf(results)).toEqual(rowLines(rows.length));
    expect(results.filter((r) => r.status === "skipped")).toHaveLength(assigned.length);
    expect(results.filter((r) => r.status === "assigned")).toHaveLength(aborted.length);
    await expectSeatsMatchRows(emulator, customers);
  });

  it("a second signal stops at once, without waiting for the requests in flight; --resume still finishes", async () => {
    const { customers, rows, csv } = powerBiRoster(1, 20);
    // Answers take 2 s: both signals land while the first writes wait for theirs.
    emulator = await startTestEmulator({ state: state(customers), latencyMs: 2_000 });
    const ws = await workspace(csv);

    const first = startCli(cliArgs("run", emulator, ws, ["--concurrency", "2"]), { env: tokenEnv() });
    stderrOf(first); // start listening now
    const em = emulator;
    await waitUntil(async () => (await licenseUpdatesReceived(em)) >= 2, "two writes in flight");
    first.child.kill("SIGTERM");
    await waitUntil(async () => /signal again to stop at once/.test(stderrOf(first)), "the first signal noticed", 5_000);
    first.child.kill("SIGTERM");
    const stopped = await first.done;
    expect(stopped.code).toBe(130);
    // The writes in flight (2 s of latency) were not answered yet: the process did not wait for them.
    expect((await requestLog(emulator)).filter((e) => e.endpoint === "licenseUpdates")).toEqual([]);
    // The results file is still a valid journal that --resume picks up.
    expect((await readFile(ws.output)).subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));

    await control(emulator, "config", { latencyMs: 0 });
    const resumed = await runCli(cliArgs("run", emulator, ws, ["--resume"]), { env: tokenEnv() });
    expect(resumed.code, resumed.stderr).toBe(0);
    const results = await readResults(ws.output);
    expect(linesOf(results)).toEqual(rowLines(rows.length));
    expect(results.every((r) => r.status === "assigned")).toBe(true);
    await emulatorSettled(emulator); // the two writes of the killed run land too: replayed or no-ops
    await expectSeatsMatchRows(emulator, customers);
  });
});

// startCli collects stderr inside its own closure; tap the stream to see it while the run goes.
const tapped = new WeakMap<object, { text: string }>();
function stderrOf(run: ReturnType<typeof startCli>): string {
  let tap = tapped.get(run);
  if (!tap) {
    const fresh = { text: "" };
    run.child.stderr!.on("data", (chunk: Buffer) => (fresh.text += chunk.toString()));
    tapped.set(run, fresh);
    tap = fresh;
  }
  return tap.text;
}

describe("--resume against the results of another roster", () => {
  it("exits 2 with a message naming the problem, sends nothing, and leaves the results as they were", async () => {
    const { customers, csv } = powerBiRoster(1, 5);
    emulator = await startTestEmulator({ state: state(customers) });
    const ws = await workspace(csv);
    const first = await runCli(cliArgs("run", emulator, ws), { env: tokenEnv() });
    expect(first.code, first.stderr).toBe(0);
    const resultsBefore = await readFile(ws.output);
    const sidecarBefore = await readFile(`${ws.output}.run.json`);

    // Another roster (one row fewer) pointed at the same results file.
    await writeFile(ws.input, csv.split("\n").slice(0, -2).join("\n") + "\n");
    await control(emulator, "reset", {});
    const resumed = await runCli(cliArgs("run", emulator, ws, ["--resume"]), { env: tokenEnv() });
    expect(resumed.code).toBe(2);
    expect(readableStderr(resumed.stderr)).toMatch(/Cannot resume ".*results\.csv": it holds the results of .*differs from it/);
    expect(readableStderr(resumed.stderr)).toMatch(/Drop --resume|drop --resume/);

    const counters = await control(emulator, "counters");
    expect(counters.requests.total).toBe(0); // nothing at all was sent, not even a read
    expect(await readFile(ws.output)).toEqual(resultsBefore);
    expect(await readFile(`${ws.output}.run.json`)).toEqual(sidecarBefore);
  });

  it("exits 2 when the sidecar that ties the results to their roster is missing", async () => {
    const { customers, csv } = powerBiRoster(1, 3);
    emulator = await startTestEmulator({ state: state(customers) });
    const ws = await workspace(csv);
    const orphan = "\uFEFFline,customerId\n";
    await writeFile(ws.output, orphan);
    const resumed = await runCli(cliArgs("run", emulator, ws, ["--resume"]), { env: tokenEnv() });
    expect(resumed.code).toBe(2);
    expect(readableStderr(resumed.stderr)).toMatch(/roster fingerprint .*results\.csv\.run\.json is missing/);
    expect((await control(emulator, "counters")).requests.total).toBe(0);
    expect(await readFile(ws.output, "utf8")).toBe(orphan);
  });
});

describe("safe results", () => {
  it("neutralises formula-looking SKU and UPN cells and starts the file with a UTF-8 BOM", async () => {
    const c1 = customer(1, 2, { powerBiPro: 10 });
    emulator = await startTestEmulator({ state: state([c1]) });
    const rows = [
      [c1.id, c1.users[0]!.id, "", '"=HYPERLINK(""http://x"")"'],
      [c1.id, c1.users[0]!.id, "", "+1+2"],
      [c1.id, c1.users[1]!.id, "", "-3"],
      [c1.id, c1.users[1]!.id, "", "@SUM(A1)"],
      [c1.id, "", "=cmd@customer1.example", "Power BI Pro"],
      [c1.id, "", "+x@customer1.example", "Power BI Pro"],
      [c1.id, "", "-x@customer1.example", "Power BI Pro"],
      [c1.id, "", "@x@customer1.example", "Power BI Pro"],
      [c1.id, c1.users[1]!.id, "", "'quoted"],
    ];
    const ws = await workspace(roster(rows, "customerId,userId,userPrincipalName,sku"));
    const run = await runCli(cliArgs("run", emulator, ws), { env: tokenEnv() });
    expect(run.code, run.stderr).toBe(3); // every row is invalid (unknown SKU or user)

    const bytes = await readFile(ws.output);
    expect(bytes.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const results = await readResults(ws.output);
    expect(linesOf(results)).toEqual(rowLines(rows.length));
    expect(results.map((r) => r.sku)).toEqual([
      `'=HYPERLINK("http://x")`,
      "'+1+2",
      "'-3",
      "'@SUM(A1)",
      "Power BI Pro",
      "Power BI Pro",
      "Power BI Pro",
      "Power BI Pro",
      "''quoted", // one more quote, so the reader can undo the guard exactly
    ]);
    expect(results.slice(4, 8).map((r) => r.userPrincipalName)).toEqual([
      "'=cmd@customer1.example",
      "'+x@customer1.example",
      "'-x@customer1.example",
      "'@x@customer1.example",
    ]);
    // No cell of any line starts with a formula lead.
    for (const r of results) for (const [column, value] of Object.entries(r)) expect(/^[=+\-@\t\r]/.test(value), `${column}=${value}`).toBe(false);
    expect((await control(emulator, "counters")).requests.byEndpoint.licenseUpdates ?? 0).toBe(0);
  });
});
