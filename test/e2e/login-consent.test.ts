// End to end: `license-runner login`, the consent of the secure application model against the
// emulator's identity endpoint (https). The test plays the browser: it opens the URL login prints,
// submits the consent form and follows the redirect to login's loopback listener. Then a run signs
// in from the cache login left, with no PARTNER_CENTER_REFRESH_TOKEN.
import { mkdtemp, stat, writeFile, chmod } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { control } from "../support/emulator.js";
import { customer } from "../support/state-builder.js";
import {
  authState,
  everySecret,
  humanStderr,
  leaks,
  leaksIn,
  loginEnv,
  playBrowser,
  runRoster,
  useIdentityEmulator,
  startLogin,
  WRONG_CLIENT_SECRET,
  type IdentityEmulator,
} from "../support/auth-e2e.js";

const startEmulator = useIdentityEmulator();

async function cachePath(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), "lr-e2e-login-")), "partner-center.token-cache.json");
}

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

describe("license-runner login", () => {
  it("drives the full consent (authorization code + PKCE, loopback redirect), leaves a 0600 cache, and a run signs in from it alone", async () => {
    const c = customer(1, 3, { powerBiPro: 10 });
    const emulator = await startEmulator({ state: authState([c]) });
    const cache = await cachePath();
    const env = loginEnv(emulator);

    const login = startLogin(emulator, ["--token-cache", cache, "--log-level", "trace", "--log-format", "json"], env);
    const signInUrl = new URL(await login.signInUrl);
    // What MSAL asked for: the code flow with an S256 challenge, the Partner Center scope plus
    // offline_access, and a redirect to the loopback listener login started.
    expect(signInUrl.pathname).toMatch(/\/oauth2\/v2\.0\/authorize$/);
    expect(signInUrl.searchParams.get("response_type")).toBe("code");
    expect(signInUrl.searchParams.get("code_challenge_method")).toBe("S256");
    expect(signInUrl.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(signInUrl.searchParams.get("scope")!.split(" ")).toEqual(
      expect.arrayContaining(["https://api.partnercenter.microsoft.com/user_impersonation", "offline_access"]),
    );
    expect(signInUrl.searchParams.get("redirect_uri")).toMatch(/^http:\/\/localhost:\d+$/);
    expect(signInUrl.searchParams.get("state")).toBeTruthy();

    const visit = await playBrowser(emulator, signInUrl.toString(), { decision: "accept", user: "ops-admin@partner.example" });
    expect(visit.redirect.searchParams.get("code")).toBeTruthy();
    expect(visit.listenerStatus).toBe(200);
    expect(visit.listenerPage).toContain("Signed in");

    const done = await login.done;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toBe(""); // the refresh token is printed only when asked for
    expect(humanStderr(done.stderr)).toContain("Signed in as ops-admin@partner.example");
    expect(await modeOf(cache)).toBe(0o600);

    const identity = (await control(emulator, "counters")).identity;
    expect(identity.authorizeRequests).toBe(1);
    expect(identity.consentsAccepted).toBe(1);
    expect(identity.codesRedeemed).toBe(1);
    expect(identity.pkceMismatches).toBe(0);

    // A run with the cache and no PARTNER_CENTER_REFRESH_TOKEN: the refresh token comes from the cache.
    const rows = c.users.map((u) => [c.id, u.id, "Power BI Pro", "assign"]);
    const run = await runRoster(emulator, rows, env, ["--token-cache", cache, "--log-level", "trace"]);
    expect(run.run.code, humanStderr(run.run.stderr)).toBe(0);
    expect(run.results.map((r) => r.status)).toEqual(["assigned", "assigned", "assigned"]);
    const signIn = JSON.parse(run.summaryJson).signIn;
    expect(signIn.refreshTokenSource).toBe("token-cache");
    expect(signIn.tokenCache).toBe(cache);
    expect(signIn.tokenCacheWritable).toBe(true);
    expect(Date.now() - Date.parse(signIn.refreshTokenIssuedAt)).toBeLessThan(60_000);
    expect(signIn.warnings).toEqual([]);
    expect(humanStderr(run.run.stderr)).toMatch(/Sign-in: App\+User from the token cache; the refresh token in use was issued /);
    expect(await modeOf(cache)).toBe(0o600);

    // No client secret, refresh token, access token, code or verifier in any output, at trace level.
    const secrets = everySecret(emulator);
    expect(secrets.length).toBeGreaterThanOrEqual(4);
    expect(emulator.identity.issuedTokens().codeVerifiers.length).toBe(1);
    expect(leaksIn({ loginStdout: done.stdout, loginStderr: done.stderr, browserPage: visit.listenerPage }, secrets)).toEqual([]);
    expect(leaks(run, secrets)).toEqual([]);
  });

  it("--print-refresh-token writes the refresh token alone to stdout, and nowhere else", async () => {
    const emulator = await startEmulator({ state: authState([customer(1, 1, { powerBiPro: 1 })]) });
    const login = startLogin(emulator, ["--print-refresh-token", "--log-level", "trace", "--log-format", "json"], loginEnv(emulator));
    await playBrowser(emulator, await login.signInUrl, { decision: "accept" });
    const done = await login.done;
    expect(done.code, done.stderr).toBe(0);
    const issued = emulator.identity.issuedTokens().refreshTokens;
    expect(issued).toHaveLength(1);
    expect(done.stdout).toBe(issued[0]);
    expect(leaksIn({ stderr: done.stderr }, everySecret(emulator))).toEqual([]);
  });

  it("a declined consent: exit 2 with its message, nothing kept", async () => {
    const emulator = await startEmulator({ state: authState([customer(1, 1, { powerBiPro: 1 })]) });
    const cache = await cachePath();
    const login = startLogin(emulator, ["--token-cache", cache], loginEnv(emulator));
    const visit = await playBrowser(emulator, await login.signInUrl, { decision: "decline" });
    expect(visit.redirect.searchParams.get("error")).toBe("access_denied");
    expect(visit.listenerPage).toContain("Consent declined");
    const done = await login.done;
    expect(done.code).toBe(2);
    expect(done.stderr).toContain("license-runner login: the consent was declined (access_denied, AADSTS65004)");
    expect(done.stderr).not.toMatch(/\n\s+at /); // no stack trace
    await expect(stat(cache)).rejects.toThrow(/ENOENT/);
    expect((await control(emulator, "counters")).identity.consentsDeclined).toBe(1);
  });

  it("no answer from the browser in time: exit 2 with the timeout's message", async () => {
    const emulator = await startEmulator({ state: authState([customer(1, 1, { powerBiPro: 1 })]) });
    const cache = await cachePath();
    const login = startLogin(emulator, ["--token-cache", cache, "--timeout", "1"], loginEnv(emulator));
    await login.signInUrl; // printed, then nobody signs in
    const done = await login.done;
    expect(done.code).toBe(2);
    expect(done.stderr).toContain("license-runner login: no answer from the browser within 1 second");
    await expect(stat(cache)).rejects.toThrow(/ENOENT/);
  });

  it("an answer whose state is not this login's: refused, exit 2, the code never redeemed", async () => {
    const emulator = await startEmulator({ state: authState([customer(1, 1, { powerBiPro: 1 })]) });
    const cache = await cachePath();
    const login = startLogin(emulator, ["--token-cache", cache], loginEnv(emulator));
    const visit = await playBrowser(emulator, await login.signInUrl, { decision: "accept", tamperState: true });
    expect(visit.listenerStatus).toBe(400);
    const done = await login.done;
    expect(done.code).toBe(2);
    expect(done.stderr).toContain("does not carry this sign-in's state");
    expect((await control(emulator, "counters")).identity.codesRedeemed).toBe(0);
    await expect(stat(cache)).rejects.toThrow(/ENOENT/);
  });

  it("a code the token endpoint refuses (a wrong client secret): exit 2 naming the secret's variable, never its value", async () => {
    const emulator = await startEmulator({ state: authState([customer(1, 1, { powerBiPro: 1 })]) });
    const cache = await cachePath();
    const login = startLogin(emulator, ["--token-cache", cache, "--log-level", "trace", "--log-format", "json"], loginEnv(emulator, { PARTNER_CENTER_CLIENT_SECRET: WRONG_CLIENT_SECRET }));
    const visit = await playBrowser(emulator, await login.signInUrl, { decision: "accept" });
    expect(visit.listenerPage).toContain("Sign-in failed");
    const done = await login.done;
    expect(done.code).toBe(2);
    expect(done.stderr).toContain("invalid_client, AADSTS7000215");
    expect(done.stderr).toContain("PARTNER_CENTER_CLIENT_SECRET");
    expect(leaksIn({ stdout: done.stdout, stderr: done.stderr }, everySecret(emulator))).toEqual([]);
    await expect(stat(cache)).rejects.toThrow(/ENOENT/);
  });

  it("refuses a token cache that others can read (exit 2, before anything is sent), for login and for run", async () => {
    const emulator = await startEmulator({ state: authState([customer(1, 1, { powerBiPro: 1 })]) });
    const cache = await cachePath();
    await writeFile(cache, "{}");
    await chmod(cache, 0o644);
    const login = startLogin(emulator, ["--token-cache", cache], loginEnv(emulator));
    const done = await login.done;
    expect(done.code).toBe(2);
    expect(done.stderr).toContain(`can be read or written by others (mode 0644)`);
    expect(done.stderr).toContain(`chmod 600 ${cache}`);

    const c = customer(1, 1, { powerBiPro: 1 });
    const run = await runRoster(emulator, [[c.id, c.users[0]!.id, "Power BI Pro"]], loginEnv(emulator), ["--token-cache", cache]);
    expect(run.run.code).toBe(2);
    expect(run.run.stderr).toContain(`chmod 600 ${cache}`);
    expect((await control(emulator, "counters")).identity.tokenRequests).toBe(0);
  });
});
