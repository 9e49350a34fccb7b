// PENDING (not picked up by vitest; rename to auth-pending.test.ts once the product is fixed).
// End to end (issue 4): behaviour the sign-in e2e tests expect but the product does not have yet.
// Each test names the file and function to fix; see the h7 report.
import { afterEach, describe, expect, it } from "vitest";
import { control } from "../helpers/emulator.js";
import { customer } from "../helpers/state-builder.js";
import {
  STATIC,
  appUserEnv,
  authState,
  humanStderr,
  interceptTokenChecks,
  linesOf,
  rosterLines,
  runRoster,
  startIdentityEmulator,
  staticTokenEnv,
  type IdentityEmulator,
} from "../helpers/auth-e2e.js";

let emulator: IdentityEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

describe("rows never sent because sign-in was refused are `aborted`", () => {
  // Today: src/execute/call-with-retry.ts counts an attempt (attempts++) before calling the client,
  // and src/partner-center/client.ts returns a `credentials` failure without sending anything when
  // getToken() throws; src/execute/executor.ts (sendRows, scope "run") then records that request's
  // rows `failed`, attempts 1. Nothing reached the API: per product.md they are `aborted` ("not
  // sent: the run stopped"), attempts 0.
  it("consent revoked mid-run: every row that was not answered by the API is aborted with attempts 0", async () => {
    // 30 rows at 150 ms, 3 at a time: the run outlives the 1-second token, so a renewal must happen.
    const c = customer(1, 30, { powerBiPro: 50 });
    emulator = await startIdentityEmulator({ state: authState([c], { accessTokenLifetimeSeconds: 1 }), latencyMs: 150 });
    const em = emulator;
    const rows = c.users.map((u) => [c.id, u.id, "Power BI Pro", "assign"]);
    interceptTokenChecks(em, (verdict, n) => {
      if (n === 4) em.identity.revokeAllRefreshTokens();
      return verdict;
    });
    const run = await runRoster(em, rows, appUserEnv(em), ["--concurrency", "3"]);

    expect(run.run.code).toBe(4);
    expect(linesOf(run.results)).toEqual(rosterLines(rows.length));
    const writes = ((await control(em, "log")).entries as { endpoint: string; status: number }[]).filter((e) => e.endpoint === "licenseUpdates");
    const rest = run.results.filter((r) => r.status !== "assigned");
    expect(run.results.length - rest.length).toBe(writes.filter((e) => e.status === 201).length);
    expect(rest.every((r) => r.status === "aborted" && r.attempts === "0" && r.errorCode === "invalid_grant")).toBe(true);
  });
});

describe("a refused static token says what to do", () => {
  // Today the stop line reads "Stopped on a run-fatal error 990401: Authorization failed: the bearer
  // token has expired." and nothing else: no advice, because src/results/renderer.ts stopLine looks
  // up advice by errorCode only (990401 is the emulator's code; real Partner Center may send no code
  // at all). Wanted: for a run-fatal 401 the advice of ADVICE["401"], and when the token came from
  // PARTNER_CENTER_ACCESS_TOKEN, that it cannot be renewed: mint a new one (or set the four App+User
  // variables so license-runner renews tokens itself). Fix: stopLine falls back to
  // adviceFor(String(stop.httpStatus)); the pipeline (src/pipeline/run-job.ts or cli.ts) could name
  // the variable when the credentials are a static token.
  it("an expired PARTNER_CENTER_ACCESS_TOKEN: exit 4 and advice naming the variable", async () => {
    const c = customer(1, 4, { powerBiPro: 10 });
    emulator = await startIdentityEmulator({ state: authState([c]) });
    const rows = c.users.map((u) => [c.id, u.id, "Power BI Pro", "assign"]);
    const run = await runRoster(emulator, rows, staticTokenEnv(STATIC.expired), ["--concurrency", "2"]);

    expect(run.run.code).toBe(4);
    const human = humanStderr(run.run.stderr);
    expect(human).toMatch(/Stopped on a run-fatal error/);
    expect(human).toMatch(/->/); // an advice line
    expect(human).toMatch(/PARTNER_CENTER_ACCESS_TOKEN/);
  });
});
