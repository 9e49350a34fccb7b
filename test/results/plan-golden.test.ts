// The plan file of a fixed roster, byte for byte: the built CLI plans fixtures/plan-golden.roster.csv
// (plain rows for three customers, then duplicates, a conflict, principal names, invalid cells,
// an unknown SKU and customer, whitespace, a formula, quoted cells and a line break inside one)
// against the emulator, and the results file must be fixtures/plan-golden.expected.csv, which was
// written by the build before the plan's fast paths (fast roster reading, batched journal writes,
// remembered cells). Only what changes from run to run is masked: the run's correlation id, the
// finishedAt timestamps and the request id of the one lookup that failed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFile, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { runCli } from "../support/cli.js";
import { startTestEmulator, type RunningEmulator } from "../support/emulator.js";
import { customer, state } from "../support/state-builder.js";
import { cliArgs, tokenEnv, workspace } from "../support/resilience-e2e.js";

const ROSTER = fileURLToPath(new URL("./fixtures/plan-golden.roster.csv", import.meta.url));
const EXPECTED = fileURLToPath(new URL("./fixtures/plan-golden.expected.csv", import.meta.url));

/** The results text with the run's correlation id and the timestamps masked. */
function masked(text: string): string {
  const correlation = /,planned,,,,0,,([0-9a-f-]{36}),/.exec(text)?.[1];
  expect(correlation, "a planned line names the run's correlation id").toBeDefined();
  return text
    .replaceAll(correlation!, "<correlationId>")
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, "<finishedAt>")
    .replace(/,[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12},<correlationId>,/g, ",<requestId>,<correlationId>,"); // a lookup's own id
}

let emulator: RunningEmulator;
beforeAll(async () => {
  const seats = { powerBiPro: 200, e3: 200, minecraft: 5 };
  emulator = await startTestEmulator({ state: state([customer(1, 50, seats), customer(2, 50, seats), customer(3, 50, seats)]) });
});
afterAll(async () => {
  await emulator.close();
});

describe("the plan file of a fixed roster", () => {
  it("is byte for byte the one the earlier build wrote", async () => {
    const ws = await workspace("");
    await copyFile(ROSTER, ws.input);
    const run = await runCli(cliArgs("plan", emulator, ws), { env: tokenEnv() });
    expect(run.code, run.stderr).toBe(3); // invalid rows and a seat shortfall
    const written = await readFile(ws.output, "utf8");
    expect(written.split("\n").length).toBeGreaterThan(240);
    expect(masked(written)).toBe(masked(await readFile(EXPECTED, "utf8")));
  });
});
