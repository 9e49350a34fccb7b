// End to end: access tokens that expire during a run. MSAL renews short-lived tokens
// before they expire across a long run; a 401 mid-run gets one forced renewal and a retry; a
// static token that expires cannot be renewed, so the second 401 stops the run (exit 4).
import { describe, expect, it } from "vitest";
import { control, requestLog } from "../support/emulator.js";
import { customer } from "../support/state-builder.js";
import {
  appUserEnv,
  authState,
  humanStderr,
  interceptTokenChecks,
  linesOf,
  rosterLines,
  runRoster,
  useIdentityEmulator,
  staticTokenEnv,
  type IdentityEmulator,
  type LogEntry,
} from "../support/auth-e2e.js";

const startEmulator = useIdentityEmulator();

async function logOf(em: IdentityEmulator): Promise<LogEntry[]> {
  return requestLog(em);
}

/** The emulator's clock: the wall clock plus an offset a test can jump forward. */
function jumpableClock() {
  let offsetMs = 0;
  return {
    now: () => performance.timeOrigin + performance.now() + offsetMs,
    jump: (ms: number) => {
      offsetMs += ms;
    },
  };
}

describe("renewal through MSAL", () => {
  it("renews 2-second access tokens before they expire across a run of 10+ seconds: every row assigned, no 401", async () => {
    const c = customer(1, 30, { powerBiPro: 50 });
    const emulator = await startEmulator({ state: authState([c], { accessTokenLifetimeSeconds: 2 }), latencyMs: 700 });
    const rows = c.users.map((u) => [c.id, u.id, "Power BI Pro", "assign"]);
    const run = await runRoster(emulator, rows, appUserEnv(emulator), ["--concurrency", "2"]);

    expect(run.run.code, humanStderr(run.run.stderr)).toBe(0);
    expect(linesOf(run.results)).toEqual(rosterLines(rows.length));
    expect(run.results.every((r) => r.status === "assigned" && r.httpStatus === "201" && r.attempts === "1")).toBe(true);

    const log = await logOf(emulator);
    const spanMs = Math.max(...log.map((e) => e.answerMs)) - Math.min(...log.map((e) => e.arrivalMs));
    expect(spanMs).toBeGreaterThanOrEqual(10_000);
    expect(log.filter((e) => e.status === 401)).toEqual([]); // renewed before expiry, never after a refusal

    const identity = (await control(emulator, "counters")).identity;
    // A 2-second token covers at most 2 seconds of the run: at least one token per 2 s of it...
    expect(identity.tokensIssued).toBeGreaterThanOrEqual(Math.ceil(spanMs / 2000));
    // ...but shared by the requests of its window, not fetched per request.
    expect(identity.tokensIssued).toBeLessThanOrEqual(log.length / 2);
    expect(identity.tokenRequests).toBe(identity.tokensIssued);
    // Each renewal presents the refresh token the previous one rotated in, never an old one.
    expect(identity.refreshTokensRotated).toBe(identity.tokensIssued);
    expect(identity.supersededRefreshTokensRedeemed).toBe(0);
    expect(identity.invalidGrant).toBe(0);
  });

  it("a 401 mid-run (the token expired early): one forced renewal shared by the requests in flight, each retried once, the run completes", async () => {
    const c = customer(1, 24, { powerBiPro: 50 });
    const clock = jumpableClock();
    const emulator = await startEmulator({ state: authState([c], { accessTokenLifetimeSeconds: 3600 }), latencyMs: 120, now: clock.now });
    const rows = c.users.map((u) => [c.id, u.id, "Power BI Pro", "assign"]);
    // After the 8th API request the emulator's clock jumps two hours: the hour-long token the
    // runner holds (and believes fresh) is expired for the API from then on.
    interceptTokenChecks(emulator, (verdict, n) => {
      if (n === 8) clock.jump(2 * 3600_000);
      return verdict;
    });
    const concurrency = 3;
    const run = await runRoster(emulator, rows, appUserEnv(emulator), ["--concurrency", String(concurrency)]);

    expect(run.run.code, humanStderr(run.run.stderr)).toBe(0);
    expect(linesOf(run.results)).toEqual(rosterLines(rows.length));
    expect(run.results.every((r) => r.status === "assigned")).toBe(true);

    const log = await logOf(emulator);
    const refused = log.filter((e) => e.status === 401);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeLessThanOrEqual(concurrency); // only the requests that carried the old token
    for (const answer of refused) {
      const sameRequest = log.filter((e) => e.requestId === answer.requestId);
      expect(sameRequest.map((e) => e.status)).toEqual([401, 201]); // one retry, with the renewed token
    }
    const retried = new Set(refused.map((e) => e.requestId));
    expect(run.results.filter((r) => retried.has(r.requestId!)).every((r) => r.attempts === "2")).toBe(true);
    const identity = (await control(emulator, "counters")).identity;
    expect(identity.tokensIssued).toBe(2); // the first sign-in and one forced renewal for all of them
  });
});

describe("a static token that expires mid-run", () => {
  it("cannot be renewed: the second 401 stops the run with exit 4, every row accounted for", async () => {
    const c = customer(1, 40, { powerBiPro: 60 });
    const token = "eyJ0eXAi.e2e-static-SHORT-LIVED-access-token.sig6";
    const clock = jumpableClock();
    const expiresAt = new Date(clock.now() + 3600_000).toISOString();
    const emulator = await startEmulator({ state: authState([c], { accessTokens: [{ token, kind: "app+user", expiresAt }] }), latencyMs: 100, now: clock.now });
    // The token expires mid-run whatever the machine's load: the emulator's clock jumps two hours
    // at the 8th token check, after the catalog read and the first writes went through.
    interceptTokenChecks(emulator, (verdict, n) => {
      if (n === 8) clock.jump(2 * 3600_000);
      return verdict;
    });
    const rows = c.users.map((u) => [c.id, u.id, "Power BI Pro", "assign"]);
    const concurrency = 2;
    const run = await runRoster(emulator, rows, staticTokenEnv(token), ["--concurrency", String(concurrency)]);

    expect(run.run.code, humanStderr(run.run.stderr)).toBe(4);
    expect(linesOf(run.results)).toEqual(rosterLines(rows.length));

    const log = await logOf(emulator);
    const writes = log.filter((e) => e.endpoint === "licenseUpdates");
    const first401 = writes.find((e) => e.status === 401)!;
    expect(first401).toBeDefined();
    // The request that met it: renewed (the same token comes back), retried once, refused again.
    expect(writes.filter((e) => e.requestId === first401.requestId).map((e) => e.status)).toEqual([401, 401]);
    expect(log.filter((e) => e.status === 401 && e.requestId === first401.requestId)).toHaveLength(2);
    const fatal = writes.filter((e) => e.status === 401).find((e, i, all) => all.findIndex((x) => x.requestId === e.requestId) !== i)!;
    expect(log.filter((e) => e.arrivalMs >= fatal.answerMs).length).toBeLessThanOrEqual(concurrency);

    const assigned = run.results.filter((r) => r.status === "assigned");
    expect(assigned.length).toBe(writes.filter((e) => e.status === 201).length);
    expect(assigned.length).toBeGreaterThan(0);
    const failed = run.results.filter((r) => r.status === "failed");
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(failed.every((r) => r.httpStatus === "401")).toBe(true);
    const aborted = run.results.filter((r) => r.status === "aborted");
    expect(aborted.length).toBeGreaterThan(0);
    expect(assigned.length + failed.length + aborted.length).toBe(rows.length);

    const human = humanStderr(run.run.stderr);
    expect(human).toMatch(/Stopped on a run-fatal error[^\n]*token has expired/);
    expect(JSON.parse(run.summaryJson).stop).toMatchObject({ reason: "run-fatal", httpStatus: 401 });
  });
});
