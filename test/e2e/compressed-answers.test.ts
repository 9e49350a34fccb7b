// Partner Center may compress its answers: a run against an emulator that answers gzip whenever
// asked reads them all (SKUs, users, LicenseUpdates).
import { afterEach, describe, expect, it } from "vitest";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "node:http";
import { cleanEnv, readResults, runCli } from "../support/cli.js";
import { startTestEmulator, type RunningEmulator } from "../support/emulator.js";
import { customer, roster, state, TOKEN } from "../support/state-builder.js";

let emulator: RunningEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

function contentEncodingOf(url: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { authorization: `Bearer ${TOKEN}`, "accept-encoding": "gzip" } }, (res) => {
      res.resume();
      resolve(res.headers["content-encoding"]);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("compressed answers", () => {
  it("reads gzip bodies (with a byte-order mark inside) for every call of a run", async () => {
    const c = customer(1, 5, { powerBiPro: 10 });
    emulator = await startTestEmulator({ state: state([c]), gzip: true, bom: true, maxPageSize: 2 });
    // The emulator does compress when asked.
    expect(await contentEncodingOf(`${emulator.url}/v1/customers/${c.id}/subscribedskus`)).toBe("gzip");
    const dir = await mkdtemp(join(tmpdir(), "lr-e2e-gzip-"));
    const input = join(dir, "roster.csv");
    const output = join(dir, "results.csv");
    await writeFile(input, roster(c.users.map((u) => [c.id, u.userPrincipalName, "Power BI Pro", "assign"]), "customerId,upn,sku,action"));
    const cli = await runCli(["run", "--input", input, "--output", output, "--base-url", emulator.url, "--log-format", "json", "--no-progress"], { env: cleanEnv({ PARTNER_CENTER_ACCESS_TOKEN: TOKEN }) });
    expect(cli.code, cli.stderr).toBe(0);
    const results = await readResults(output);
    expect(results.map((r) => [r.userId, r.status, r.httpStatus])).toEqual(c.users.map((u) => [u.id, "assigned", "201"]));
  });
});
