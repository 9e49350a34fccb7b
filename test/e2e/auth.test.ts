// End to end: run-fatal sign-in refusals. The built CLI against the emulator and its
// identity server: app-only tokens (900316), conditional access (900309), no MFA (900421), refused
// refresh tokens and client secrets. Each stops the run with exit 4, every row accounted for, one
// clear message on stderr, and no more requests after the refusal than were in flight.
import { describe, expect, it } from "vitest";
import { control, requestLog } from "../support/emulator.js";
import { customer } from "../support/state-builder.js";
import {
  APP_ONLY_REFRESH_TOKEN,
  BLOCKED_REFRESH_TOKEN,
  EXPIRED_REFRESH_TOKEN,
  NO_MFA_REFRESH_TOKEN,
  REVOKED_REFRESH_TOKEN,
  STATIC,
  WRONG_CLIENT_SECRET,
  appUserEnv,
  authState,
  humanStderr,
  interceptTokenChecks,
  linesOf,
  rosterLines,
  runRoster,
  useIdentityEmulator,
  staticTokenEnv,
  type AuthRun,
  type IdentityEmulator,
  type LogEntry,
} from "../support/auth-e2e.js";

const startEmulator = useIdentityEmulator();

/** Three customers of four users each, one Power BI Pro row per user: 12 rows. */
function threeCustomers() {
  const customers = [1, 2, 3].map((n) => customer(n, 4, { powerBiPro: 20 }));
  const rows = customers.flatMap((c) => c.users.map((u) => [c.id, u.id, "Power BI Pro", "assign"]));
  return { customers, rows };
}

async function logOf(em: IdentityEmulator): Promise<LogEntry[]> {
  return requestLog(em);
}

/** Exit 4, one results line per roster row, nothing left `assigned` beyond what the API applied. */
function expectStoppedWithEveryRow(run: AuthRun, rowCount: number): void {
  expect(run.run.code, humanStderr(run.run.stderr)).toBe(4);
  expect(linesOf(run.results)).toEqual(rosterLines(rowCount));
}

/** The human part of stderr: a stop line naming the code, and the advice the partner acts on. */
function stopMessage(run: AuthRun): string {
  const human = humanStderr(run.run.stderr);
  expect(human).toMatch(/Stopped on a run-fatal error/);
  return human;
}

describe("900316: an app-only token stops the run", () => {
  it("with a static app-only PARTNER_CENTER_ACCESS_TOKEN: exit 4, every row aborted, the App+User advice, nothing sent after the refusal", async () => {
    const { customers, rows } = threeCustomers();
    const emulator = await startEmulator({ state: authState(customers), latencyMs: 50 });
    const concurrency = 2;
    const run = await runRoster(emulator, rows, staticTokenEnv(STATIC.appOnly), ["--concurrency", String(concurrency)]);

    expectStoppedWithEveryRow(run, rows.length);
    expect(run.results.every((r) => r.status === "aborted" && r.errorCode === "900316")).toBe(true);
    const message = stopMessage(run);
    expect(message).toMatch(/900316/);
    expect(message).toMatch(/App\+User token from the secure application model/);

    const log = await logOf(emulator);
    expect(log.length).toBeGreaterThan(0);
    expect(log.every((e) => e.status === 400 && e.errorCode === "900316")).toBe(true);
    expect(log.filter((e) => e.endpoint === "licenseUpdates")).toHaveLength(0);
    const refusal = log[0]!;
    // Catalog reads fetched ahead were already in flight; nothing new is sent once the refusal is in.
    const after = log.filter((e) => e.arrivalMs >= refusal.answerMs);
    expect(after.length).toBeLessThanOrEqual(concurrency);
    const summary = JSON.parse(run.summaryJson);
    expect(summary.stop).toMatchObject({ reason: "run-fatal", errorCode: "900316" });
  });

  it("with an app-only refresh token through MSAL: exit 4 with the same advice, every row aborted", async () => {
    const { customers, rows } = threeCustomers();
    const emulator = await startEmulator({ state: authState(customers) });
    const run = await runRoster(emulator, rows, appUserEnv(emulator, { PARTNER_CENTER_REFRESH_TOKEN: APP_ONLY_REFRESH_TOKEN }), ["--concurrency", "3"]);

    expectStoppedWithEveryRow(run, rows.length);
    expect(run.results.every((r) => r.status === "aborted" && r.errorCode === "900316")).toBe(true);
    expect(stopMessage(run)).toMatch(/900316[\s\S]*App\+User token from the secure application model/);
    expect((await control(emulator, "counters")).identity.tokensIssued).toBe(1); // signed in fine; the API refused the token
    expect((await logOf(emulator)).filter((e) => e.endpoint === "licenseUpdates")).toHaveLength(0);
  });

  it("mid-run: the requests in flight are drained and recorded, no more than `concurrency` requests arrive after the refusal, the rest are aborted", async () => {
    const c = customer(1, 24, { powerBiPro: 50 });
    const emulator = await startEmulator({ state: authState([c]), latencyMs: 60 });
    const rows = c.users.map((u) => [c.id, u.id, "Power BI Pro", "assign"]);
    // The catalog and company-name reads and the first 8 writes pass; from then on the API judges the token app-only.
    interceptTokenChecks(emulator, (verdict, n) => (verdict.valid && n > 10 ? { valid: true, kind: "app-only" } : verdict));
    const concurrency = 3;
    const run = await runRoster(emulator, rows, staticTokenEnv(STATIC.appUser), ["--concurrency", String(concurrency)]);

    expectStoppedWithEveryRow(run, rows.length);
    const log = await logOf(emulator);
    const writes = log.filter((e) => e.endpoint === "licenseUpdates");
    const firstRefusal = writes.find((e) => e.errorCode === "900316")!;
    expect(firstRefusal).toBeDefined();
    const afterRefusal = log.filter((e) => e.arrivalMs >= firstRefusal.answerMs);
    expect(afterRefusal.length).toBeLessThanOrEqual(concurrency);

    // Every answer the API gave is in the results: 201s assigned, 900316s failed; unsent rows aborted.
    const assigned = run.results.filter((r) => r.status === "assigned");
    const failed = run.results.filter((r) => r.status === "failed");
    const aborted = run.results.filter((r) => r.status === "aborted");
    expect(assigned).toHaveLength(writes.filter((e) => e.status === 201).length);
    expect(assigned.length).toBeGreaterThanOrEqual(8);
    expect(failed.length).toBe(writes.filter((e) => e.errorCode === "900316").length);
    expect(failed.every((r) => r.errorCode === "900316" && r.httpStatus === "400")).toBe(true);
    expect(aborted.length).toBeGreaterThan(0);
    expect(aborted.every((r) => r.errorCode === "900316" && r.attempts === "0")).toBe(true);
    expect(assigned.length + failed.length + aborted.length).toBe(rows.length);
    // The seats moved are exactly the rows recorded assigned.
    const state = await control(emulator, "state");
    expect(state.customers[0].subscribedSkus[0].consumedUnits).toBe(assigned.length);
    expect(stopMessage(run)).toMatch(/App\+User token from the secure application model/);
  });
});

describe("refused sign-in: nothing is sent", () => {
  const cases: { name: string; env: Record<string, string>; code: string; counter: string; says: RegExp }[] = [
    { name: "an expired refresh token", env: { PARTNER_CENTER_REFRESH_TOKEN: EXPIRED_REFRESH_TOKEN }, code: "invalid_grant", counter: "invalidGrant", says: /AADSTS700082[\s\S]*PARTNER_CENTER_REFRESH_TOKEN/ },
    { name: "a revoked refresh token", env: { PARTNER_CENTER_REFRESH_TOKEN: REVOKED_REFRESH_TOKEN }, code: "invalid_grant", counter: "invalidGrant", says: /AADSTS50173[\s\S]*revoked[\s\S]*PARTNER_CENTER_REFRESH_TOKEN/ },
    { name: "a wrong client secret", env: { PARTNER_CENTER_CLIENT_SECRET: WRONG_CLIENT_SECRET }, code: "invalid_client", counter: "invalidClient", says: /AADSTS7000215[\s\S]*PARTNER_CENTER_CLIENT_SECRET/ },
  ];
  for (const c of cases) {
    it(`${c.name}: exit 4, every row aborted, a message saying what to do, no API request at all`, async () => {
      const { customers, rows } = threeCustomers();
      const emulator = await startEmulator({ state: authState(customers) });
      const run = await runRoster(emulator, rows, appUserEnv(emulator, c.env), ["--concurrency", "4"]);

      expectStoppedWithEveryRow(run, rows.length);
      expect(run.results.every((r) => r.status === "aborted" && r.errorCode === c.code && r.attempts === "0")).toBe(true);
      const message = stopMessage(run);
      expect(message).toMatch(new RegExp(`run-fatal error ${c.code}`));
      expect(message).toMatch(c.says);
      const counters = await control(emulator, "counters");
      expect(counters.requests.total).toBe(0); // not even a catalog read went out without a token
      expect(counters.identity[c.counter]).toBeGreaterThanOrEqual(1);
      expect(counters.identity.tokensIssued).toBe(0);
      // A refusal is final: asked once, not retried like a network failure (MSAL may ask once per
      // catalog read racing the first sign-in, but never per row).
      expect(counters.identity.tokenRequests).toBeLessThanOrEqual(2);
      expect(JSON.parse(run.summaryJson).stop).toMatchObject({ reason: "run-fatal", errorCode: c.code });
    });
  }

  it("consent revoked mid-run: the renewal is refused, the rows answered are kept, the rest aborted, exit 4", async () => {
    const c = customer(1, 20, { powerBiPro: 50 });
    const emulator = await startEmulator({ state: authState([c], { accessTokenLifetimeSeconds: 2 }), latencyMs: 150 });
    const em = emulator;
    const rows = c.users.map((u) => [c.id, u.id, "Power BI Pro", "assign"]);
    interceptTokenChecks(em, (verdict, n) => {
      if (n === 5) em.identity.revokeAllRefreshTokens(); // after the two reads and 3 writes; the next renewal (within 2 s) is refused
      return verdict;
    });
    const run = await runRoster(em, rows, appUserEnv(em), ["--concurrency", "1"]);

    expectStoppedWithEveryRow(run, rows.length);
    const writes = (await logOf(em)).filter((e) => e.endpoint === "licenseUpdates");
    const assigned = run.results.filter((r) => r.status === "assigned");
    expect(assigned.length).toBeGreaterThanOrEqual(3);
    expect(assigned).toHaveLength(writes.filter((e) => e.status === 201).length);
    expect(writes.every((e) => e.status === 201)).toBe(true); // the refusal came from the token endpoint, not the API
    const rest = run.results.filter((r) => r.status !== "assigned");
    expect(rest.length).toBeGreaterThan(0);
    expect(rest.every((r) => r.errorCode === "invalid_grant" && r.httpStatus === "")).toBe(true); // none reached the API
    // The request that met the refusal is recorded `failed` (see auth-pending.test.ts.txt: it was
    // never sent, so it should be `aborted`); at most `concurrency` of them; the rest `aborted`.
    expect(rest.filter((r) => r.status === "failed").length).toBeLessThanOrEqual(1);
    expect(rest.filter((r) => r.status === "aborted" && r.attempts === "0").length).toBeGreaterThanOrEqual(rest.length - 1);
    expect(stopMessage(run)).toMatch(/AADSTS50173[\s\S]*revoked/);
    expect((await control(em, "counters")).identity.invalidGrant).toBeGreaterThanOrEqual(1);
  });
});

describe("900309 and 900421 stop the run with a message each", () => {
  const cases = [
    { name: "900309 conditional access (static token)", env: () => staticTokenEnv(STATIC.blocked), code: "900309", status: 403, says: /Conditional Access policy blocks/ },
    { name: "900309 conditional access (refresh token)", env: (em: IdentityEmulator) => appUserEnv(em, { PARTNER_CENTER_REFRESH_TOKEN: BLOCKED_REFRESH_TOKEN }), code: "900309", status: 403, says: /Conditional Access policy blocks/ },
    { name: "900421 no MFA (static token)", env: () => staticTokenEnv(STATIC.noMfa), code: "900421", status: 401, says: /no MFA claim[\s\S]*consent with MFA/ },
    { name: "900421 no MFA (refresh token)", env: (em: IdentityEmulator) => appUserEnv(em, { PARTNER_CENTER_REFRESH_TOKEN: NO_MFA_REFRESH_TOKEN }), code: "900421", status: 401, says: /no MFA claim[\s\S]*consent with MFA/ },
  ];
  for (const c of cases) {
    it(`${c.name}: exit 4, every row aborted, the advice on stderr`, async () => {
      const { customers, rows } = threeCustomers();
      const emulator = await startEmulator({ state: authState(customers) });
      const run = await runRoster(emulator, rows, c.env(emulator), ["--concurrency", "2"]);

      expectStoppedWithEveryRow(run, rows.length);
      expect(run.results.every((r) => r.status === "aborted" && r.errorCode === c.code)).toBe(true);
      const message = stopMessage(run);
      expect(message).toMatch(new RegExp(`run-fatal error ${c.code}`));
      expect(message).toMatch(c.says);
      const log = await logOf(emulator);
      expect(log.every((e) => e.status === c.status && e.errorCode === c.code)).toBe(true);
      // Run-fatal by its code: never treated as a 401 worth a renewal, never retried.
      expect(new Set(log.map((e) => e.requestId)).size).toBe(log.length);
      expect(log.filter((e) => e.endpoint === "licenseUpdates")).toHaveLength(0);
    });
  }
});
