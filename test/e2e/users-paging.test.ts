// Users beyond the first page are found in both paging shapes (links.next with MS-ContinuationToken,
// and the .NET SDK's top-level continuationToken), and a next link that cycles fails that customer
// within a bounded number of calls while the others go on.
import { afterEach, describe, expect, it } from "vitest";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanEnv, readResults, runCli } from "../support/cli.js";
import { control, startTestEmulator, type RunningEmulator } from "../support/emulator.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { customer, roster, state, TOKEN } from "../support/state-builder.js";

let emulator: RunningEmulator | undefined;
let proxy: FaultProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  await emulator?.close();
  proxy = emulator = undefined;
});

async function run(baseUrl: string, rows: string[][]) {
  const dir = await mkdtemp(join(tmpdir(), "lr-e2e-paging-"));
  const input = join(dir, "roster.csv");
  const output = join(dir, "results.csv");
  await writeFile(input, roster(rows, "customerId,userPrincipalName,sku,action"));
  const cli = await runCli(["run", "--input", input, "--output", output, "--base-url", baseUrl, "--log-format", "json", "--no-progress"], { env: cleanEnv({ PARTNER_CENTER_ACCESS_TOKEN: TOKEN }) });
  return { cli, results: await readResults(output) };
}

describe("users paging", () => {
  it.each(["links-next", "continuation-token"] as const)("finds users on the last page when pages point on with %s", async (usersPaging) => {
    const c = customer(1, 7, { powerBiPro: 10 });
    emulator = await startTestEmulator({ state: state([c]), maxPageSize: 2, usersPaging });
    // user7 is alone on page 4 of 2-user pages.
    const { cli, results } = await run(emulator.url, [[c.id, "USER7@customer1.example", "Power BI Pro", "assign"], [c.id, "user2@customer1.example", "Power BI Pro", "assign"]]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(results.map((r) => [r.userId, r.status])).toEqual([
      [c.users[6]!.id, "assigned"],
      [c.users[1]!.id, "assigned"],
    ]);
    const counters = await control(emulator, "counters");
    expect(counters.requests.byCustomer[c.id].users).toBe(4);
  });

  it("a next link that sends back the page it came from fails that customer, within a bounded number of calls", async () => {
    const looping = customer(1, 7, { powerBiPro: 10 });
    const fine = customer(2, 3, { powerBiPro: 10 });
    emulator = await startTestEmulator({ state: state([looping, fine]), maxPageSize: 2 });
    // A misbehaving gateway: every later page of customer 1 points back to the token it was asked with.
    proxy = await startFaultProxy(emulator.url, (call) => {
      const token = call.headers["ms-continuationtoken"];
      if (call.method !== "GET" || !call.url.includes(`${looping.id}/users`) || typeof token !== "string") return { kind: "pass" };
      return {
        kind: "replace",
        with: (upstream) => {
          const page = JSON.parse(upstream.body.toString("utf8").replace(/^\uFEFF/, ""));
          if (page.links?.next) page.links.next.headers = [{ key: "MS-ContinuationToken", value: token }];
          return { status: upstream.status, headers: { "content-type": "application/json" }, body: JSON.stringify(page) };
        },
      };
    });
    const { cli, results } = await run(proxy.url, [
      [looping.id, "user7@customer1.example", "Power BI Pro", "assign"],
      [fine.id, "user3@customer2.example", "Power BI Pro", "assign"],
    ]);
    expect(cli.code, cli.stderr).toBe(3);
    expect(results.find((r) => r.customerId === looping.id)).toMatchObject({ status: "failed", errorCode: "USERS_PAGING_LOOP" });
    expect(results.find((r) => r.customerId === fine.id)).toMatchObject({ status: "assigned" });
    const counters = await control(emulator, "counters");
    // Page 1, page 2, and page 2 again (its token repeated): then it stops.
    expect(counters.requests.byCustomer[looping.id].users).toBeLessThanOrEqual(3);
  });
});
