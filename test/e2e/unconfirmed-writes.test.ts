// A write answered 2xx without a readable LicenseUpdate ends as the truth (the built CLI, the
// emulator, and a fault proxy between them doing what gateways and captive portals do).
import { afterEach, describe, expect, it } from "vitest";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanEnv, readResults, runCli } from "../support/cli.js";
import { control, startTestEmulator, type RunningEmulator } from "../support/emulator.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { customer, roster, SKU, state, TOKEN } from "../support/state-builder.js";

let emulator: RunningEmulator | undefined;
let proxy: FaultProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  await emulator?.close();
  proxy = emulator = undefined;
});

async function run(baseUrl: string, rows: string[][], extra: string[] = []) {
  const dir = await mkdtemp(join(tmpdir(), "lr-e2e-2xx-"));
  const input = join(dir, "roster.csv");
  const output = join(dir, "results.csv");
  await writeFile(input, roster(rows));
  const result = await runCli(["run", "--input", input, "--output", output, "--base-url", baseUrl, "--log-format", "json", "--no-progress", ...extra], {
    env: cleanEnv({ PARTNER_CENTER_ACCESS_TOKEN: TOKEN }),
  });
  return { run: result, results: await readResults(output) };
}

const licensesOf = async (em: RunningEmulator, customerId: string, userId: string): Promise<string[]> => {
  const live = await control(em, `state?customer=${customerId}`);
  const user = live.customers[0].users.find((u: { id: string }) => u.id === userId);
  return user.licenses.map((l: { skuId: string }) => l.skuId);
};

describe("2xx answers that confirm nothing", () => {
  it("an empty 200 and a cut 201 end as the truth; a 200 from something that never forwarded fails as not applied", async () => {
    const c = customer(1, 3, { powerBiPro: 10 });
    emulator = await startTestEmulator({ state: state([c]) });
    const [u1, u2, u3] = c.users.map((u) => u.id) as [string, string, string];
    let blanked = 0;
    proxy = await startFaultProxy(emulator.url, (call) => {
      if (call.method !== "POST") return { kind: "pass" };
      // u1: the write lands, its 201 is replaced by an empty 200 once (a gateway); the retry is replayed.
      if (call.url.includes(u1) && blanked++ === 0) return { kind: "replace", with: () => ({ status: 200 }) };
      // u2: the write lands, its 201 always arrives cut short.
      if (call.url.includes(u2)) return { kind: "cut", bytes: 12 };
      // u3: a captive portal answers 200 with HTML and never forwards.
      if (call.url.includes(u3)) return { kind: "answer", status: 200, headers: { "content-type": "text/html" }, body: "<html><body>Welcome to the guest network</body></html>" };
      return { kind: "pass" };
    });
    const rows = [
      [c.id, u1, "Power BI Pro", "assign"],
      [c.id, u2, "Power BI Pro", "assign"],
      [c.id, u3, "Power BI Pro", "assign"],
    ];
    const { run: cli, results } = await run(proxy.url, rows, ["--max-attempts", "2"]);

    expect(cli.code, cli.stderr).toBe(3);
    const byUser = new Map(results.map((r) => [r.userId, r]));
    expect(byUser.get(u1)).toMatchObject({ status: "assigned", httpStatus: "201" });
    expect(byUser.get(u2)).toMatchObject({ status: "assigned", httpStatus: "201" });
    expect(byUser.get(u2)!.errorMessage).toContain("confirmed by reading the user's licenses");
    expect(byUser.get(u3)).toMatchObject({ status: "failed", errorCode: "WRITE_NOT_APPLIED", httpStatus: "200" });

    // The truth on the service's side: u1 and u2 hold the SKU (one seat each), u3 none.
    expect(await licensesOf(emulator, c.id, u1)).toEqual([SKU.powerBiPro]);
    expect(await licensesOf(emulator, c.id, u2)).toEqual([SKU.powerBiPro]);
    expect(await licensesOf(emulator, c.id, u3)).toEqual([]);
    const counters = await control(emulator, "counters");
    // u1's retry and u2's retry carried their first MS-RequestId: replayed, never applied twice.
    expect(counters.replays).toBe(2);
    const live = await control(emulator, `state?customer=${c.id}`);
    expect(live.customers[0].subscribedSkus[0].consumedUnits).toBe(2);
    // Settled by reading licenses: u2 and u3, never u1 (its retry confirmed it).
    const reads = proxy.calls.filter((call) => call.method === "GET" && call.url.includes("/licenses"));
    expect(reads.map((call) => [u2, u3].some((u) => call.url.includes(u)))).toEqual([true, true]);
    expect(reads[0]!.url).toContain("licenseGroupIds=Group1&licenseGroupIds=Group2");
    // Every retry of a write reused its MS-RequestId.
    for (const user of [u1, u2, u3]) {
      const ids = new Set(proxy.calls.filter((call) => call.method === "POST" && call.url.includes(user)).map((call) => call.headers["ms-requestid"]));
      expect(ids.size).toBe(1);
    }
  });
});
