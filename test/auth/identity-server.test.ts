// The emulator's identity endpoint spoken to directly over https: OpenID configuration, the
// refresh_token grant, rotation, AAD's refusals, and minted tokens honoured by the TokenStore.
import { afterEach, describe, expect, it } from "vitest";
import { startIdentityServer, type RunningIdentityServer } from "../../dist/emulator/identity/server.js";
import { TokenStore } from "../../dist/emulator/token-store.js";
import {
  APP_ONLY_REFRESH_TOKEN,
  CLIENT_ID,
  CLIENT_SECRET,
  EXPIRED_REFRESH_TOKEN,
  OTHER_CLIENT_REFRESH_TOKEN,
  PARTNER_TENANT_ID,
  REFRESH_TOKEN,
  REVOKED_REFRESH_TOKEN,
  callIdentity,
  identityState,
  refreshGrant,
} from "../support/identity-http.js";

let server: RunningIdentityServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(opts: { lifetime?: number; grace?: number; clock?: { ms: number } } = {}) {
  const clock = opts.clock;
  const now = clock ? () => clock.ms : Date.now;
  const tokens = new TokenStore([], now);
  server = await startIdentityServer({
    identity: identityState(opts.lifetime),
    partnerTenantId: PARTNER_TENANT_ID,
    tokens,
    now,
    ...(opts.grace === undefined ? {} : { rotationGraceSeconds: opts.grace }),
  });
  const tokenUrl = `${server.authority}/oauth2/v2.0/token`;
  const post = (form: Record<string, string>) => callIdentity(tokenUrl, server!.caCertPem, form);
  return { server, tokens, post, tokenUrl };
}

describe("identity server", () => {
  it("serves the tenant's OpenID configuration pointing at itself, on 127.0.0.1 with a trusted certificate", async () => {
    const { server } = await start();
    expect(server.authorityHost).toBe(`https://127.0.0.1:${server.port}`);
    expect(server.authority).toBe(`${server.authorityHost}/${PARTNER_TENANT_ID}`);
    expect(server.caCertPem).toContain("BEGIN CERTIFICATE");
    const answer = await callIdentity(`${server.authority}/v2.0/.well-known/openid-configuration`, server.caCertPem);
    expect(answer.status).toBe(200);
    expect(answer.json.token_endpoint).toBe(`${server.authority}/oauth2/v2.0/token`);
    expect(answer.json.authorization_endpoint).toBe(`${server.authority}/oauth2/v2.0/authorize`);
    expect(answer.json.issuer).toBe(`${server.authority}/v2.0`);
    expect(answer.json.jwks_uri).toBe(`${server.authority}/discovery/v2.0/keys`);
    expect(server.counters().openIdConfigurationRequests).toBe(1);
  });

  it("refuses a tenant other than the partner's with AADSTS90002", async () => {
    const { server } = await start();
    const answer = await callIdentity(`${server.authorityHost}/00000000-0000-0000-0000-000000000000/v2.0/.well-known/openid-configuration`, server.caCertPem);
    expect(answer.status).toBe(400);
    expect(answer.json.error).toBe("invalid_tenant");
    expect(answer.json.error_codes).toEqual([90002]);
    const common = await callIdentity(`${server.authorityHost}/organizations/v2.0/.well-known/openid-configuration`, server.caCertPem);
    expect(common.status).toBe(200);
  });

  it("answers a refresh_token grant as AAD does, with a rotated refresh token and an access token the API accepts until it expires", async () => {
    const clock = { ms: Date.parse("2026-03-01T10:00:00Z") };
    const { post, tokens, server } = await start({ lifetime: 120, clock });
    const answer = await post(refreshGrant());
    expect(answer.status).toBe(200);
    expect(answer.headers["cache-control"]).toContain("no-store");
    const body = answer.json;
    expect(body).toMatchObject({ token_type: "Bearer", scope: "https://api.partnercenter.microsoft.com/user_impersonation", expires_in: 120, ext_expires_in: 120 });
    expect(typeof body.access_token).toBe("string");
    expect(body.refresh_token).not.toBe(REFRESH_TOKEN);
    const clientInfo = JSON.parse(Buffer.from(String(body.client_info), "base64url").toString("utf8")) as { uid: string; utid: string };
    expect(clientInfo.utid).toBe(PARTNER_TENANT_ID);
    const idClaims = JSON.parse(Buffer.from(String(body.id_token).split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
    expect(idClaims).toMatchObject({ aud: CLIENT_ID, tid: PARTNER_TENANT_ID, oid: clientInfo.uid });

    const bearer = `Bearer ${String(body.access_token)}`;
    expect(tokens.check(bearer)).toEqual({ valid: true, kind: "app+user" });
    clock.ms += 119_000;
    expect(tokens.check(bearer)).toEqual({ valid: true, kind: "app+user" });
    clock.ms += 1_000;
    expect(tokens.check(bearer)).toEqual({ valid: false, reason: "expired" });

    expect(server.counters()).toMatchObject({ tokenRequests: 1, tokensIssued: 1, refreshTokensRotated: 1 });
    expect(tokens.minted).toBe(1);
  });

  it("mints the refresh token's kind and honours a lifetime changed at run time", async () => {
    const clock = { ms: Date.parse("2026-03-01T10:00:00Z") };
    const { post, tokens, server } = await start({ clock });
    const appOnly = await post(refreshGrant({ refresh_token: APP_ONLY_REFRESH_TOKEN }));
    expect(appOnly.json.expires_in).toBe(3600);
    expect(tokens.check(`Bearer ${String(appOnly.json.access_token)}`)).toEqual({ valid: true, kind: "app-only" });
    server.setAccessTokenLifetime(2);
    const short = await post(refreshGrant());
    expect(short.json.expires_in).toBe(2);
    clock.ms += 2_000;
    expect(tokens.check(`Bearer ${String(short.json.access_token)}`)).toEqual({ valid: false, reason: "expired" });
  });

  it("keeps a rotated refresh token usable for the grace period only, then answers invalid_grant", async () => {
    const clock = { ms: Date.parse("2026-03-01T10:00:00Z") };
    const { post, server } = await start({ clock, grace: 60 });
    const first = await post(refreshGrant());
    const rotated = String(first.json.refresh_token);
    clock.ms += 59_000;
    expect((await post(refreshGrant())).status).toBe(200); // the original, inside the grace period
    clock.ms += 1_000;
    const late = await post(refreshGrant());
    expect(late.status).toBe(400);
    expect(late.json.error).toBe("invalid_grant");
    expect(late.json.error_codes).toEqual([70008]);
    const next = await post(refreshGrant({ refresh_token: rotated }));
    expect(next.status).toBe(200);
    expect(server.counters()).toMatchObject({ tokensIssued: 3, refreshTokensRotated: 3, supersededRefreshTokensRedeemed: 1, invalidGrant: 1 });
  });

  it("answers invalid_grant with AAD's codes for unknown, expired, revoked and other-client refresh tokens, never echoing them", async () => {
    const { post, server } = await start();
    const cases: [string, number][] = [
      ["0.AXoA-never-issued-token-123", 9002313],
      [EXPIRED_REFRESH_TOKEN, 700082],
      [REVOKED_REFRESH_TOKEN, 50173],
      [OTHER_CLIENT_REFRESH_TOKEN, 70000],
    ];
    for (const [token, aadsts] of cases) {
      const answer = await post(refreshGrant({ refresh_token: token }));
      expect(answer.status, token).toBe(400);
      expect(answer.json.error).toBe("invalid_grant");
      expect(answer.json.error_codes).toEqual([aadsts]);
      expect(String(answer.json.error_description)).toMatch(new RegExp(`^AADSTS${aadsts}: `));
      expect(JSON.stringify(answer.json)).not.toContain(token);
    }
    server.revokeAllRefreshTokens();
    const revoked = await post(refreshGrant());
    expect(revoked.json.error_codes).toEqual([50173]);
    expect(server.counters()).toMatchObject({ invalidGrant: 5, tokensIssued: 0, tokenRequests: 5 });
  });

  it("authenticates the client first: 401 invalid_client for a wrong or missing secret, 400 unauthorized_client for an unknown app", async () => {
    const { post, server } = await start();
    const wrong = await post(refreshGrant({ client_secret: "not-the-secret", refresh_token: "0.AXoA-never-issued" }));
    expect(wrong.status).toBe(401);
    expect(wrong.json).toMatchObject({ error: "invalid_client", error_codes: [7000215] });
    expect(JSON.stringify(wrong.json)).not.toContain("not-the-secret");
    const missing = await post(refreshGrant({ client_secret: undefined }));
    expect(missing.status).toBe(401);
    expect(missing.json).toMatchObject({ error: "invalid_client", error_codes: [7000218] });
    const unknown = await post(refreshGrant({ client_id: "11111111-1111-4111-8111-111111111111" }));
    expect(unknown.status).toBe(400);
    expect(unknown.json).toMatchObject({ error: "unauthorized_client", error_codes: [700016] });
    expect(JSON.stringify([wrong.json, missing.json, unknown.json])).not.toContain(CLIENT_SECRET);
    expect(server.counters()).toMatchObject({ invalidClient: 2, unauthorizedClient: 1, tokensIssued: 0 });
  });

  it("refuses other grants, scopes outside Partner Center and unknown paths", async () => {
    const { post, server } = await start();
    const credentialsGrant = await post(refreshGrant({ grant_type: "client_credentials" }));
    expect(credentialsGrant.json).toMatchObject({ error: "unsupported_grant_type" });
    const graph = await post(refreshGrant({ scope: "https://graph.microsoft.com/.default" }));
    expect(graph.json).toMatchObject({ error: "invalid_scope" });
    const dotDefault = await post(refreshGrant({ scope: "https://api.partnercenter.microsoft.com/.default" }));
    expect(dotDefault.json.scope).toBe("https://api.partnercenter.microsoft.com/user_impersonation");
    const notFound = await callIdentity(`${server.authorityHost}/nothing-here`, server.caCertPem);
    expect(notFound.status).toBe(404);
    expect(server.counters()).toMatchObject({ unsupportedGrantType: 1, invalidScope: 1, tokensIssued: 1, notFound: 1 });
  });
});
