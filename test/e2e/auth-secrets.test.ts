// End to end: secrets never leave the process. Whole runs at --log-level debug and trace,
// signing in through MSAL (renewals, a forced renewal after a 401) and failing to sign in, with known
// secret values: none of the client secrets, refresh tokens (given or rotated) or access tokens
// (static or minted) may appear in stdout, stderr, the results file, the summary JSON or the
// GITHUB_STEP_SUMMARY Markdown.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { control, requestLog } from "../support/emulator.js";
import { customer } from "../support/state-builder.js";
import {
  EXPIRED_REFRESH_TOKEN,
  KNOWN_SECRETS,
  REVOKED_REFRESH_TOKEN,
  STATIC,
  WRONG_CLIENT_SECRET,
  appUserEnv,
  authState,
  humanStderr,
  interceptTokenChecks,
  leaks,
  outputsOf,
  runRoster,
  startIdentityEmulator,
  staticTokenEnv,
  type AuthRun,
  type IdentityEmulator,
} from "../support/auth-e2e.js";

// 24 users at --concurrency 2 and 250 ms an answer keep a run signed in for at least 3 s, longer
// than a whole 2-second token's life, so it must renew whatever the renewal margin.
const c = customer(1, 24, { powerBiPro: 500 });
const rows = c.users.map((u) => [c.id, u.id, "Power BI Pro", "assign"]);
const removeRows = c.users.map((u) => [c.id, u.id, "Power BI Pro", "remove"]);

let emulator: IdentityEmulator;
let clockOffsetMs = 0;
const runs: { name: string; run: AuthRun }[] = [];

beforeAll(async () => {
  emulator = await startIdentityEmulator({
    state: authState([c], { accessTokenLifetimeSeconds: 2 }),
    latencyMs: 250,
    now: () => performance.timeOrigin + performance.now() + clockOffsetMs,
  });
});
afterAll(async () => {
  await emulator.close();
});

/** Every secret this test knows of, the tokens the identity server issued so far included. */
function allSecrets(): string[] {
  const issued = emulator.identity.issuedTokens();
  return [...KNOWN_SECRETS, ...issued.accessTokens, ...issued.refreshTokens];
}

function expectNoSecrets(run: AuthRun): void {
  expect(leaks(run, allSecrets())).toEqual([]);
  for (const [where, text] of Object.entries(outputsOf(run))) {
    // Token shapes and form fields of the token endpoint, whatever their value.
    expect(text, where).not.toMatch(/emu-(at|rt)-[A-Za-z0-9_-]{8}/);
    expect(text, where).not.toMatch(/Bearer\s+\S{8}/i);
    expect(text, where).not.toMatch(/(client_secret|refresh_token|access_token)=[^&\s"[]{4}/i);
  }
}

describe("no secret in any output", () => {
  it("the leak check finds a planted secret (control)", () => {
    const planted: AuthRun = {
      run: { code: 0, signal: null, stdout: "", stderr: `{"msg":"x ${STATIC.appUser} y"}` },
      results: [],
      resultsText: "",
      summaryJson: "",
      stepSummary: `token ${KNOWN_SECRETS[0]}`,
    };
    expect(leaks(planted, KNOWN_SECRETS)).toHaveLength(2);
  });

  it("a run through MSAL at debug, with renewals of 2-second tokens", async () => {
    const run = await runRoster(emulator, rows, appUserEnv(emulator), ["--concurrency", "2", "--log-level", "debug"]);
    runs.push({ name: "msal-debug", run });
    expect(run.run.code, humanStderr(run.run.stderr)).toBe(0);
    // The check means something only if the run really logged at debug, MSAL's own lines included,
    // renewed tokens and wrote every output.
    expect(run.run.stderr).toMatch(/"level":20/);
    expect(run.run.stderr).toMatch(/"msalLevel"/);
    expect(emulator.identity.issuedTokens().accessTokens.length).toBeGreaterThanOrEqual(2);
    expect(run.summaryJson).not.toBe("");
    expect(run.stepSummary).not.toBe("");
    expectNoSecrets(run);
  });

  it("a run through MSAL at trace with a 401 mid-run and a forced renewal", async () => {
    const before = (await control(emulator, "counters")).identity.tokensIssued;
    // The 2-second tokens are good; after the 4th API request the API clock jumps an hour ahead.
    let checks = 0;
    interceptTokenChecks(emulator, (verdict) => {
      if (++checks === 4) clockOffsetMs += 3600_000;
      return verdict;
    });
    const run = await runRoster(emulator, removeRows, appUserEnv(emulator), ["--concurrency", "2", "--log-level", "trace"]);
    runs.push({ name: "msal-trace-401", run });
    expect(run.run.code, humanStderr(run.run.stderr)).toBe(0);
    expect(run.run.stderr).toMatch(/"level":20/); // nothing logs at trace itself; debug lines come through
    const log = await requestLog(emulator);
    expect(log.some((e) => e.status === 401)).toBe(true); // the forced renewal path really ran
    expect((await control(emulator, "counters")).identity.tokensIssued).toBeGreaterThan(before + 1);
    expectNoSecrets(run);
  });

  const failing: { name: string; env: () => NodeJS.ProcessEnv; level: string }[] = [
    { name: "a wrong client secret (debug)", env: () => appUserEnv(emulator, { PARTNER_CENTER_CLIENT_SECRET: WRONG_CLIENT_SECRET }), level: "debug" },
    { name: "an expired refresh token (trace)", env: () => appUserEnv(emulator, { PARTNER_CENTER_REFRESH_TOKEN: EXPIRED_REFRESH_TOKEN }), level: "trace" },
    { name: "a revoked refresh token (debug)", env: () => appUserEnv(emulator, { PARTNER_CENTER_REFRESH_TOKEN: REVOKED_REFRESH_TOKEN }), level: "debug" },
    { name: "a static app-only token (debug)", env: () => staticTokenEnv(STATIC.appOnly), level: "debug" },
    { name: "a static expired token (trace)", env: () => staticTokenEnv(STATIC.expired), level: "trace" },
  ];
  for (const f of failing) {
    it(`a failing run: ${f.name}`, async () => {
      const run = await runRoster(emulator, rows, f.env(), ["--concurrency", "2", "--log-level", f.level]);
      runs.push({ name: f.name, run });
      expect(run.run.code, humanStderr(run.run.stderr)).toBe(4);
      expect(humanStderr(run.run.stderr)).toMatch(/Stopped on a run-fatal error/);
      expect(run.stepSummary).not.toBe("");
      expectNoSecrets(run);
    });
  }

  it("and none of the tokens issued later shows up in an earlier run's outputs", () => {
    // Tokens minted by later runs are known only now: check every run against the full list.
    expect(runs.length).toBe(2 + failing.length);
    for (const { name, run } of runs) expect(leaks(run, allSecrets()), name).toEqual([]);
  });
});
