// A partner network that reaches Partner Center only through an explicit proxy: the base URL and
// the sign-in authority are on host names only the loopback forward proxy resolves, so a run
// completes only if every call, sign-in included, goes through it. NO_PROXY bypasses it; a proxy
// that refuses stops the run once, saying so, and its password never shows.
import { afterEach, describe, expect, it } from "vitest";
import { appUserEnv, humanStderr, runRoster, startIdentityEmulator, authState, type IdentityEmulator } from "../support/auth-e2e.js";
import { cleanEnv } from "../support/cli.js";
import { control } from "../support/emulator.js";
import { startForwardProxy, type ForwardProxy } from "../support/forward-proxy.js";
import { customer, TOKEN } from "../support/state-builder.js";

const API_HOST = "api.license-runner.invalid";
const LOGIN_HOST = "login.license-runner.invalid";

let emulator: IdentityEmulator | undefined;
let proxy: ForwardProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  await emulator?.close();
  proxy = emulator = undefined;
});

function rowsFor(customers: ReturnType<typeof customer>[]): string[][] {
  return customers.flatMap((c) => c.users.map((u) => [c.id, u.id, "Power BI Pro", "assign"]));
}

describe("through a forward proxy", () => {
  it("runs with the API and the authority on names only the proxy resolves: every call, sign-in included, goes through it", async () => {
    const customers = [customer(1, 3, { powerBiPro: 10 }), customer(2, 2, { powerBiPro: 10 })];
    emulator = await startIdentityEmulator({ state: authState(customers) });
    proxy = await startForwardProxy({ hosts: { [API_HOST]: "127.0.0.1", [LOGIN_HOST]: "127.0.0.1" } });
    const apiUrl = `http://${API_HOST}:${emulator.port}`;
    const authority = `https://${LOGIN_HOST}:${emulator.identity.port}`;
    const env = appUserEnv(emulator, { PARTNER_CENTER_AUTHORITY: authority, HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url, NO_PROXY: "" });
    const { run, results } = await runRoster({ ...emulator, url: apiUrl }, rowsFor(customers), env);

    expect(run.code, `${humanStderr(run.stderr)}\n${JSON.stringify(proxy.seen)}`).toBe(0);
    expect(results.map((r) => r.status)).toEqual(Array(5).fill("assigned"));
    const targets = new Set(proxy.seen.map((s) => s.target));
    expect(targets).toContain(`${API_HOST}:${emulator.port}`);
    expect(targets).toContain(`${LOGIN_HOST}:${emulator.identity.port}`);
    // The sign-in happened (through the proxy: the authority's name resolves nowhere else).
    expect(emulator.identity.counters().tokensIssued).toBeGreaterThanOrEqual(1);
    const counters = await control(emulator, "counters");
    expect(counters.requests.byEndpoint.licenseUpdates).toBe(5);
  });

  it("NO_PROXY bypasses the proxy", async () => {
    const customers = [customer(1, 2, { powerBiPro: 10 })];
    emulator = await startIdentityEmulator({ state: { ...authState(customers), accessTokens: [{ token: TOKEN, kind: "app+user" }] } });
    proxy = await startForwardProxy();
    const env = cleanEnv({ PARTNER_CENTER_ACCESS_TOKEN: TOKEN, HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url, NO_PROXY: "127.0.0.1,localhost" });
    const { run, results } = await runRoster(emulator, rowsFor(customers), env);
    expect(run.code, run.stderr).toBe(0);
    expect(results.map((r) => r.status)).toEqual(["assigned", "assigned"]);
    expect(proxy.seen).toEqual([]);
  });

  it("a proxy refusing every connection stops the run once (exit 4) with what to fix, never showing the proxy's password", async () => {
    const customers = [customer(1, 2, { powerBiPro: 10 }), customer(2, 2, { powerBiPro: 10 }), customer(3, 2, { powerBiPro: 10 })];
    emulator = await startIdentityEmulator({ state: { ...authState(customers), accessTokens: [{ token: TOKEN, kind: "app+user" }] } });
    proxy = await startForwardProxy({ requireAuthorization: "Basic bm9ib2R5Om5vdGhpbmc=" });
    const proxyUrl = new URL(proxy.url);
    proxyUrl.username = "msp-svc";
    proxyUrl.password = "Pr0xy-S3cret-pw";
    const env = cleanEnv({ PARTNER_CENTER_ACCESS_TOKEN: TOKEN, HTTPS_PROXY: proxyUrl.toString(), HTTP_PROXY: proxyUrl.toString(), NO_PROXY: "" });
    const { run, results, resultsText, summaryJson } = await runRoster(emulator, rowsFor(customers), env, ["--max-attempts", "2"]);

    expect(run.code, run.stderr).toBe(4);
    expect(humanStderr(run.stderr)).toContain("HTTPS_PROXY");
    for (const text of [run.stderr, run.stdout, resultsText, summaryJson]) expect(text).not.toContain("Pr0xy-S3cret-pw");
    expect(results).toHaveLength(6);
    expect(new Set(results.map((r) => r.status))).not.toContain("assigned");
    expect(results.some((r) => r.errorCode === "NETWORK_PROXY")).toBe(true);
    // Nothing reached the service, and the run stopped after the lookups in flight.
    const counters = await control(emulator, "counters");
    expect(counters.requests.total ?? 0).toBe(0);
    // Three customers, two lookups each (SKUs, company name), two attempts each: no more.
    expect(proxy.seen.length).toBeLessThanOrEqual(3 * 2 * 2);
  });
});
