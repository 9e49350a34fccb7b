// The App+User token provider on @azure/msal-node, run for real in a child process (so it can trust
// the identity server's certificate through NODE_EXTRA_CA_CERTS) against the emulator's identity
// endpoint running here. Counters on the server prove how often MSAL went to the token endpoint.
import { createServer } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { startIdentityServer, type RunningIdentityServer } from "../../dist/emulator/identity/server.js";
import { TokenStore } from "../../dist/emulator/token-store.js";
import {
  ALL_SECRETS,
  EXPIRED_REFRESH_TOKEN,
  PARTNER_TENANT_ID,
  REFRESH_TOKEN,
  REVOKED_REFRESH_TOKEN,
  appUser,
  callIdentity,
  errorsOf,
  identityState,
  refreshGrant,
  runDriver,
  tokensOf,
  type DriverRun,
} from "../support/identity-http.js";

// Tests run concurrently (each mostly waits on its child process), each with its own server.
const servers: RunningIdentityServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function start(opts: { lifetime?: number; grace?: number; host?: string } = {}) {
  const tokens = new TokenStore([]);
  const server = await startIdentityServer({
    identity: identityState(opts.lifetime),
    partnerTenantId: PARTNER_TENANT_ID,
    tokens,
    ...(opts.host ? { host: opts.host } : {}),
    ...(opts.grace === undefined ? {} : { rotationGraceSeconds: opts.grace }),
  });
  servers.push(server);
  return { server, tokens };
}

/** No secret of the state file, and no token the emulator issued, anywhere in the child's logs. */
function expectNoSecretsIn(text: string, alsoAbsent: readonly string[] = []): void {
  for (const secret of [...ALL_SECRETS, ...alsoAbsent]) expect(text).not.toContain(secret);
  expect(text).not.toMatch(/emu-(at|rt)-/);
}

describe.concurrent("App+User token provider (MSAL) against the emulator's identity endpoint", () => {
  it("gets an access token the API accepts, talking only to the configured authority host", async () => {
    // "localhost" as the authority host: a custom host MSAL must treat as known, never asking
    // login.microsoftonline.com (this machine has no route to it, so such a call would fail).
    const { server, tokens } = await start({ host: "localhost" });
    expect(server.authorityHost).toBe(`https://localhost:${server.port}`);
    const run = await runDriver({ credentials: appUser(server.authorityHost), steps: [{ op: "get" }, { op: "get" }] }, server.caCertPath);
    expect(errorsOf(run)).toEqual([]);
    const [first, second] = tokensOf(run);
    expect(first).toBeDefined();
    expect(second).toBe(first);
    expect(tokens.check(`Bearer ${first}`)).toEqual({ valid: true, kind: "app+user" });

    const done = run.events.find((e) => e.type === "done");
    const hosts = new Set((done?.type === "done" ? done.fetchedUrls : []).map((u) => new URL(u).host));
    expect([...hosts]).toEqual([`localhost:${server.port}`]);
    expect(server.counters()).toMatchObject({ openIdConfigurationRequests: 1, tokenRequests: 1, tokensIssued: 1 });
    // Debug logs flowed (MSAL's own lines included) and carry no secret and no token.
    expect(run.stderr).toContain("acquireTokenByRefreshToken called");
    expectNoSecretsIn(run.stderr, [first ?? "x"]);
  });

  it("shares one token request among 20 concurrent callers, at start, on renewal and on a forced refresh", async () => {
    const { server } = await start({ lifetime: 2 });
    const run = await runDriver(
      {
        credentials: appUser(server.authorityHost),
        deps: { forcedRenewalCoalesceMs: 0 },
        steps: [
          { op: "concurrent", n: 20 },
          { op: "mark", name: "started" },
          { op: "wait", ms: 2100 }, // the 2-second token is now expired
          { op: "concurrent", n: 20 },
          { op: "mark", name: "renewed" },
          { op: "get", forceRefresh: true },
        ],
      },
      server.caCertPath,
    );
    expect(errorsOf(run)).toEqual([]);
    const tokens = tokensOf(run);
    expect(tokens).toHaveLength(41);
    expect(new Set(tokens.slice(0, 20)).size).toBe(1);
    expect(new Set(tokens.slice(20, 40)).size).toBe(1);
    expect(tokens[20]).not.toBe(tokens[0]);
    expect(tokens[40]).not.toBe(tokens[20]);
    expect(server.counters()).toMatchObject({ tokenRequests: 3, tokensIssued: 3, refreshTokensRotated: 3 });
  });

  it("renews 2-second tokens several times over 5 seconds, but not on every call, never handing out an expired token", async () => {
    const { server, tokens } = await start({ lifetime: 2 });
    const invalidWhenReceived: string[] = [];
    const run = await runDriver(
      { credentials: appUser(server.authorityHost), logLevel: "info", steps: [{ op: "poll", everyMs: 50, forMs: 5000 }] },
      server.caCertPath,
      (event) => {
        // Checked the moment it arrives: the token must still be good for the API.
        if (event.type === "token" && !tokens.check(`Bearer ${event.token}`).valid) invalidWhenReceived.push(event.token);
      },
    );
    expect(errorsOf(run)).toEqual([]);
    const calls = tokensOf(run).length;
    const issued = server.counters().tokensIssued ?? 0;
    expect(calls).toBeGreaterThan(40);
    expect(issued).toBeGreaterThanOrEqual(3);
    expect(issued).toBeLessThanOrEqual(Math.ceil(calls / 5));
    expect(new Set(tokensOf(run)).size).toBe(issued);
    expect(invalidWhenReceived).toEqual([]);
  });

  it("renews with the rotated refresh token MSAL keeps, never the original again", async () => {
    // No grace: a refresh token stops working as soon as it is rotated.
    const { server } = await start({ lifetime: 2, grace: 0 });
    const run = await runDriver(
      {
        credentials: appUser(server.authorityHost),
        deps: { forcedRenewalCoalesceMs: 0 },
        steps: [{ op: "get" }, { op: "wait", ms: 2100 }, { op: "get" }, { op: "get", forceRefresh: true }],
      },
      server.caCertPath,
    );
    expect(errorsOf(run)).toEqual([]);
    expect(new Set(tokensOf(run)).size).toBe(3);
    expect(server.counters()).toMatchObject({ tokensIssued: 3, refreshTokensRotated: 3, supersededRefreshTokensRedeemed: 0, invalidGrant: 0 });
    // The partner's original refresh token was rotated away on the first renewal.
    const original = await callIdentity(`${server.authority}/oauth2/v2.0/token`, server.caCertPem, refreshGrant({ refresh_token: REFRESH_TOKEN }));
    expect(original.json).toMatchObject({ error: "invalid_grant", error_codes: [70008] });
  });

  it("turns refused credentials into CredentialsRefusedError with a message saying what to do and no secret", async () => {
    const { server } = await start();
    const closedPort = await freePort();
    const scenarios: Record<string, Promise<DriverRun>> = {
      expired: runDriver({ credentials: appUser(server.authorityHost, { refreshToken: EXPIRED_REFRESH_TOKEN }), steps: [{ op: "get" }, { op: "get" }] }, server.caCertPath),
      revoked: runDriver({ credentials: appUser(server.authorityHost, { refreshToken: REVOKED_REFRESH_TOKEN }), steps: [{ op: "get" }] }, server.caCertPath),
      badSecret: runDriver({ credentials: appUser(server.authorityHost, { clientSecret: "Zz1~wrong-secret-VALUE-424242" }), steps: [{ op: "get" }] }, server.caCertPath),
      unreachable: runDriver(
        { credentials: appUser(`https://127.0.0.1:${closedPort}`), deps: { retryDelaysMs: [10, 10] }, steps: [{ op: "get" }] },
        server.caCertPath,
      ),
      untrusted: runDriver({ credentials: appUser(server.authorityHost), deps: { retryDelaysMs: [] }, steps: [{ op: "get" }] }, undefined),
    };
    const runs = Object.fromEntries(await Promise.all(Object.entries(scenarios).map(async ([k, p]) => [k, await p] as const)));

    const only = (name: string) => {
      const run = runs[name]!;
      expect(tokensOf(run), name).toEqual([]);
      const [error, ...rest] = errorsOf(run);
      expect(error, name).toBeDefined();
      expect(error!.credentialsRefused, name).toBe(true);
      expect(error!.name).toBe("CredentialsRefusedError");
      expectNoSecretsIn(run.stdout + run.stderr, ["Zz1~wrong-secret-VALUE-424242"]);
      return { error: error!, rest };
    };

    const expired = only("expired");
    expect(expired.error).toMatchObject({ reason: "invalid_grant", aadsts: 700082 });
    expect(expired.error.message).toContain("PARTNER_CENTER_REFRESH_TOKEN");
    expect(expired.error.message).toMatch(/Sign in again with license-runner login/);
    expect(expired.error.message).toMatch(/expired/);
    expect(expired.rest).toEqual([expired.error]); // a second call fails the same, without asking again

    const revoked = only("revoked");
    expect(revoked.error).toMatchObject({ reason: "invalid_grant", aadsts: 50173 });
    expect(revoked.error.message).toMatch(/revoked/);
    expect(revoked.error.message).toContain("PARTNER_CENTER_REFRESH_TOKEN");

    const badSecret = only("badSecret");
    expect(badSecret.error).toMatchObject({ reason: "invalid_client", aadsts: 7000215 });
    expect(badSecret.error.message).toContain("PARTNER_CENTER_CLIENT_SECRET");

    const unreachable = only("unreachable");
    expect(unreachable.error.reason).toBe("authority_unreachable");
    expect(unreachable.error.message).toContain(`https://127.0.0.1:${closedPort}`);
    expect(unreachable.error.message).toContain("PARTNER_CENTER_AUTHORITY");

    const untrusted = only("untrusted");
    expect(untrusted.error.reason).toBe("authority_unreachable");
    expect(untrusted.error.message).toMatch(/certificate/);

    // Exactly one token request per refused sign-in (expired answered once, though asked twice).
    expect(server.counters()).toMatchObject({ invalidGrant: 2, invalidClient: 1, tokensIssued: 0 });
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
