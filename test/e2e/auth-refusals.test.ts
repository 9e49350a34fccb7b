// End to end: refusals of sign-in: rows never sent are aborted with 0 attempts, and a
// refused static token says what to do.
import { describe, expect, it } from "vitest";
import { control, requestLog } from "../support/emulator.js";
import { customer } from "../support/state-builder.js";
import {
  STATIC,
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
} from "../support/auth-e2e.js";

const startEmulator = useIdentityEmulator();

describe("rows never sent because sign-in was refused are `aborted`", () => {
  // When the token provider refuses (the renewal's refresh token was revoked), the request never
  // leaves: its rows are `aborted` ("not sent: the run stopped"), attempts 0, not `failed`.
  it("consent revoked mid-run: every row that was not answered by the API is aborted with attempts 0", async () => {
    // 30 rows at 150 ms, 3 at a time: the run outlives the 1-second token, so a renewal must happen.
    const c = customer(1, 30, { powerBiPro: 50 });
    const emulator = await startEmulator({ state: authState([c], { accessTokenLifetimeSeconds: 1 }), latencyMs: 150 });
    const em = emulator;
    const rows = c.users.map((u) => [c.id, u.id, "Power BI Pro", "assign"]);
    interceptTokenChecks(em, (verdict, n) => {
      if (n === 4) em.identity.revokeAllRefreshTokens();
      return verdict;
    });
    const run = await runRoster(em, rows, appUserEnv(em), ["--concurrency", "3"]);

    expect(run.run.code).toBe(4);
    expect(linesOf(run.results)).toEqual(rosterLines(rows.length));
    const writes = (await requestLog(em)).filter((e) => e.endpoint === "licenseUpdates");
    const rest = run.results.filter((r) => r.status !== "assigned");
    expect(run.results.length - rest.length).toBe(writes.filter((e) => e.status === 201).length);
    expect(rest.every((r) => r.status === "aborted" && r.attempts === "0" && r.errorCode === "invalid_grant")).toBe(true);
  });
});

describe("a refused static token says what to do", () => {
  // A 401 carries no documented code (the emulator's 990401 is its own): the stop line falls back on
  // the advice for the status, which says a static token cannot be renewed.
  it("an expired PARTNER_CENTER_ACCESS_TOKEN: exit 4 and advice naming the variable", async () => {
    const c = customer(1, 4, { powerBiPro: 10 });
    const emulator = await startEmulator({ state: authState([c]) });
    const rows = c.users.map((u) => [c.id, u.id, "Power BI Pro", "assign"]);
    const run = await runRoster(emulator, rows, staticTokenEnv(STATIC.expired), ["--concurrency", "2"]);

    expect(run.run.code).toBe(4);
    const human = humanStderr(run.run.stderr);
    expect(human).toMatch(/Stopped on a run-fatal error/);
    expect(human).toMatch(/->/); // an advice line
    expect(human).toMatch(/PARTNER_CENTER_ACCESS_TOKEN/);
  });
});
