// End to end: a refused --resume names the roster the results belong to (the sidecar
// records the roster's name).
import { afterEach, describe, expect, it } from "vitest";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { readableStderr, runCli } from "../support/cli.js";
import { control, startTestEmulator, type RunningEmulator } from "../support/emulator.js";
import { customer, roster, state } from "../support/state-builder.js";
import { cliArgs, tokenEnv, workspace } from "../support/resilience-e2e.js";

let emulator: RunningEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

describe("--resume refused for another roster names the roster the results belong to", () => {
  it("records the roster in the sidecar and names it in the refusal", async () => {
    const c1 = customer(1, 3, { powerBiPro: 10 });
    emulator = await startTestEmulator({ state: state([c1]) });
    const ws = await workspace(roster(c1.users.map((u) => [c1.id, u.id, "Power BI Pro", "assign"])));
    const first = await runCli(cliArgs("run", emulator, ws), { env: tokenEnv() });
    expect(first.code, first.stderr).toBe(0);
    const sidecar = JSON.parse(await readFile(`${ws.output}.run.json`, "utf8"));
    expect(sidecar.roster).toBe(ws.input);

    const other = join(ws.dir, "other.csv");
    await writeFile(other, roster([[c1.id, c1.users[0]!.id, "Power BI Pro", "assign"]]));
    await control(emulator, "reset", {});
    const resumed = await runCli(["run", "--input", other, "--output", ws.output, "--base-url", emulator.url, "--resume", "--no-progress"], { env: tokenEnv() });
    expect(resumed.code).toBe(2);
    expect(readableStderr(resumed.stderr)).toContain(`it holds the results of the roster "${ws.input}"`);
    expect((await control(emulator, "counters")).requests.total).toBe(0);
  });
});
