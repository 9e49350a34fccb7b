// Retry-After at the edges, as a gateway or the service may send it: 0, negative, a past date and
// garbage wait at least 1 s before the retry; none means a longer wait (an HTML 429 page); a huge
// one sets no timer at all (Node's timers overflow past 2^31-1 ms: TimeoutOverflowWarning) and the
// request ends as throttled for now. Measured at a fault proxy in front of the emulator.
import { afterEach, describe, expect, it } from "vitest";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanEnv, readResults, runCli } from "../support/cli.js";
import { startTestEmulator, type RunningEmulator } from "../support/emulator.js";
import { startFaultProxy, type FaultProxy, type FaultRule, type ProxiedCall } from "../support/fault-proxy.js";
import { customer, roster, state, TOKEN } from "../support/state-builder.js";

let emulator: RunningEmulator | undefined;
let proxy: FaultProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  await emulator?.close();
  proxy = emulator = undefined;
});

const THROTTLED_BODY = JSON.stringify({ statusCode: 429, message: "Rate limit is exceeded. Try again in 57 seconds." });
const CAP_MS = 5 * 60_000;

async function run(baseUrl: string, rows: string[][]) {
  const dir = await mkdtemp(join(tmpdir(), "lr-e2e-retry-after-"));
  const input = join(dir, "roster.csv");
  const output = join(dir, "results.csv");
  await writeFile(input, roster(rows));
  const started = performance.now();
  const cli = await runCli(["run", "--input", input, "--output", output, "--base-url", baseUrl, "--log-format", "json", "--no-progress", "--max-attempts", "3"], {
    env: cleanEnv({ PARTNER_CENTER_ACCESS_TOKEN: TOKEN }),
  });
  return { cli, results: await readResults(output), wallMs: performance.now() - started };
}

/** The first write of each user is answered 429 with that user's Retry-After (null: none, as an HTML page). */
function throttleFirstWrite(retryAfterByUser: Map<string, string | null>): (call: ProxiedCall) => FaultRule {
  const answered = new Set<string>();
  return (call): FaultRule => {
    if (call.method !== "POST") return { kind: "pass" };
    const user = [...retryAfterByUser.keys()].find((u) => call.url.includes(u));
    if (user === undefined || answered.has(user)) return { kind: "pass" };
    answered.add(user);
    const retryAfter = retryAfterByUser.get(user);
    if (retryAfter === null) return { kind: "answer", status: 429, headers: { "content-type": "text/html" }, body: "<html><body><h1>429 Too Many Requests</h1></body></html>" };
    return { kind: "answer", status: 429, headers: { "content-type": "application/json", "retry-after": retryAfter! }, body: THROTTLED_BODY };
  };
}

const writesOf = (calls: readonly ProxiedCall[], userId: string): ProxiedCall[] => calls.filter((c) => c.method === "POST" && c.url.includes(userId));

describe("Retry-After edges", () => {
  it("0, negative, a past date and garbage wait at least 1 s; none waits longer; never more than the cap", async () => {
    const c = customer(1, 5, { powerBiPro: 10 });
    emulator = await startTestEmulator({ state: state([c]) });
    const edges: (string | null)[] = ["0", "-3", "Wed, 21 Oct 2015 07:28:00 GMT", "in a moment", null];
    const byUser = new Map(c.users.map((u, i) => [u.id, edges[i]!] as const));
    proxy = await startFaultProxy(emulator.url, throttleFirstWrite(byUser));
    const { cli, results } = await run(proxy.url, c.users.map((u) => [c.id, u.id, "Power BI Pro", "assign"]));

    expect(cli.code, cli.stderr).toBe(0);
    expect(results.every((r) => r.status === "assigned")).toBe(true);
    expect(cli.stderr).not.toContain("TimeoutOverflowWarning");
    for (const [userId, edge] of byUser) {
      const [first, second] = writesOf(proxy.calls, userId);
      const gapMs = second!.atMs - first!.atMs;
      expect(gapMs, `Retry-After ${JSON.stringify(edge)}`).toBeGreaterThanOrEqual(edge === null ? 5_000 : 1_000);
      expect(gapMs).toBeLessThanOrEqual(CAP_MS);
      // The retry is the same logical request.
      expect(second!.headers["ms-requestid"]).toBe(first!.headers["ms-requestid"]);
    }
  });

  it("a Retry-After beyond the cap sets no timer: that request ends as throttled for now, the other customer goes on", async () => {
    const c1 = customer(1, 1, { powerBiPro: 10 });
    const c2 = customer(2, 1, { powerBiPro: 10 });
    emulator = await startTestEmulator({ state: state([c1, c2]) });
    const huge = c1.users[0]!.id;
    proxy = await startFaultProxy(emulator.url, throttleFirstWrite(new Map([[huge, "99999999999"]])));
    const { cli, results, wallMs } = await run(proxy.url, [
      [c1.id, huge, "Power BI Pro", "assign"],
      [c2.id, c2.users[0]!.id, "Power BI Pro", "assign"],
    ]);

    expect(cli.code, cli.stderr).toBe(3);
    expect(cli.stderr).not.toContain("TimeoutOverflowWarning");
    expect(results.find((r) => r.userId === huge)).toMatchObject({ status: "failed", httpStatus: "429", attempts: "1" });
    expect(results.find((r) => r.customerId === c2.id)).toMatchObject({ status: "assigned" });
    expect(writesOf(proxy.calls, huge)).toHaveLength(1);
    expect(wallMs).toBeLessThan(60_000);
  });
});
