// The emulator's consent: the authorize endpoint's page and redirects, the authorization_code
// grant with PKCE (S256) verification, and refresh tokens that expire after N uses or N seconds.
// The endpoint's logic is driven directly with an injected clock; the grant over https.
import { createHash } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { AuthorizationEndpoint } from "../../dist/emulator/identity/authorization.js";
import { RefreshTokenRegistry } from "../../dist/emulator/identity/refresh-token-registry.js";
import { startIdentityServer, type RunningIdentityServer } from "../../dist/emulator/identity/server.js";
import { TokenStore } from "../../dist/emulator/token-store.js";
import { CLIENT_ID, CLIENT_SECRET, PARTNER_TENANT_ID, REFRESH_TOKEN, callIdentity, identityState, refreshGrant } from "../support/identity-http.js";

const VERIFIER = "a-pkce-code-verifier-of-at-least-43-characters-0123456789";
const CHALLENGE = createHash("sha256").update(VERIFIER).digest("base64url");
const REDIRECT = "http://localhost:53117";
const SCOPE = "https://api.partnercenter.microsoft.com/user_impersonation offline_access openid profile";

function authorizeQuery(overrides: Record<string, string | undefined> = {}): URLSearchParams {
  const all: Record<string, string | undefined> = {
    client_id: CLIENT_ID,
    response_type: "code",
    redirect_uri: REDIRECT,
    scope: SCOPE,
    state: "state-123",
    code_challenge: CHALLENGE,
    code_challenge_method: "S256",
    ...overrides,
  };
  return new URLSearchParams(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
}

function consent(endpoint: AuthorizationEndpoint, decision: "accept" | "decline", query = authorizeQuery(), mfa = true) {
  const page = endpoint.begin(query, "/t/oauth2/v2.0/authorize");
  if (page.kind !== "page" || page.status !== 200) throw new Error(`no consent page: ${JSON.stringify(page)}`);
  const requestId = /name="request" value="([^"]+)"/.exec(page.html)![1]!;
  return endpoint.submit(new URLSearchParams({ request: requestId, decision, user: "ops@partner.example", ...(mfa ? { mfa: "1" } : {}) }));
}

function codeOf(answer: ReturnType<AuthorizationEndpoint["submit"]>): string {
  if (answer.kind !== "redirect") throw new Error("expected a redirect");
  return new URL(answer.location).searchParams.get("code")!;
}

describe("authorize endpoint", () => {
  const clock = { ms: Date.parse("2026-12-01T00:00:00Z") };
  const endpoint = () => new AuthorizationEndpoint(identityState().clients, PARTNER_TENANT_ID, () => clock.ms);

  it("serves one form (user, MFA checkbox, Accept/Decline) and redirects Accept with a code and the state", () => {
    const e = endpoint();
    const page = e.begin(authorizeQuery(), "/t/oauth2/v2.0/authorize");
    expect(page.kind).toBe("page");
    if (page.kind !== "page") return;
    expect(page.html.match(/<form /g)).toHaveLength(1);
    expect(page.html).toContain('name="user"');
    expect(page.html).toContain('type="checkbox" name="mfa"');
    expect(page.html).toContain('value="accept"');
    expect(page.html).toContain('value="decline"');
    const answer = consent(e, "accept");
    expect(answer).toMatchObject({ kind: "redirect", outcome: "consented" });
    const location = new URL((answer as { location: string }).location);
    expect(`${location.protocol}//${location.host}`).toBe(REDIRECT);
    expect(location.searchParams.get("state")).toBe("state-123");
    expect(location.searchParams.get("code")).toMatch(/^emu-code-/);
  });

  it("Decline redirects with access_denied (AADSTS65004) and the state, and no code", () => {
    const answer = consent(endpoint(), "decline");
    const location = new URL((answer as { location: string }).location);
    expect(location.searchParams.get("error")).toBe("access_denied");
    expect(location.searchParams.get("error_description")).toContain("AADSTS65004");
    expect(location.searchParams.get("state")).toBe("state-123");
    expect(location.searchParams.has("code")).toBe(false);
  });

  it("never redirects to a URI that is not http loopback, nor for an unknown app: an error page", () => {
    for (const query of [authorizeQuery({ redirect_uri: "https://attacker.example/cb" }), authorizeQuery({ client_id: "unknown-app" })]) {
      const answer = endpoint().begin(query, "/t/oauth2/v2.0/authorize");
      expect(answer.kind).toBe("page");
      expect(answer.kind === "page" && answer.status).toBe(400);
    }
  });

  it("refuses the plain challenge method (S256 only) with a redirect carrying the error", () => {
    const answer = endpoint().begin(authorizeQuery({ code_challenge_method: "plain", code_challenge: VERIFIER }), "/x");
    expect(answer.kind).toBe("redirect");
    expect(new URL((answer as { location: string }).location).searchParams.get("error")).toBe("invalid_request");
  });

  it("a code is redeemed once, with the verifier of its challenge, the same redirect URI and within 10 minutes", () => {
    const e = endpoint();
    const wrong = e.redeemCode(codeOf(consent(e, "accept")), CLIENT_ID, REDIRECT, "another-verifier-of-at-least-43-characters-9876543210");
    expect(wrong).toMatchObject({ ok: false, aadsts: 501481, pkce: true });

    const missing = e.redeemCode(codeOf(consent(e, "accept")), CLIENT_ID, REDIRECT, null);
    expect(missing).toMatchObject({ ok: false, aadsts: 501481 });

    const otherRedirect = e.redeemCode(codeOf(consent(e, "accept")), CLIENT_ID, "http://localhost:1", VERIFIER);
    expect(otherRedirect).toMatchObject({ ok: false, aadsts: 50011 });

    const code = codeOf(consent(e, "accept"));
    expect(e.redeemCode(code, CLIENT_ID, REDIRECT, VERIFIER)).toMatchObject({ ok: true, userPrincipalName: "ops@partner.example", mfa: true });
    expect(e.redeemCode(code, CLIENT_ID, REDIRECT, VERIFIER)).toMatchObject({ ok: false, aadsts: 54005 });

    const late = codeOf(consent(e, "accept"));
    clock.ms += 10 * 60_000;
    expect(e.redeemCode(late, CLIENT_ID, REDIRECT, VERIFIER)).toMatchObject({ ok: false, aadsts: 70008 });
  });
});

describe("refresh tokens that expire once used", () => {
  it("after N uses: the N+1th redemption of one token is refused as expired", () => {
    const registry = new RefreshTokenRegistry(identityState(), () => 0, 600, { maxUses: 2 });
    expect(registry.redeem(REFRESH_TOKEN, CLIENT_ID).ok).toBe(true);
    expect(registry.redeem(REFRESH_TOKEN, CLIENT_ID).ok).toBe(true);
    expect(registry.redeem(REFRESH_TOKEN, CLIENT_ID)).toMatchObject({ ok: false, reason: "expired" });
  });

  it("N seconds after its first use: refused as expired, while a rotated token still works", () => {
    const clock = { ms: 0 };
    const registry = new RefreshTokenRegistry(identityState(), () => clock.ms, 600, { expirySecondsAfterUse: 5 });
    const first = registry.redeem(REFRESH_TOKEN, CLIENT_ID);
    expect(first.ok).toBe(true);
    clock.ms = 4_999;
    expect(registry.redeem(REFRESH_TOKEN, CLIENT_ID).ok).toBe(true);
    clock.ms = 5_000;
    expect(registry.redeem(REFRESH_TOKEN, CLIENT_ID)).toMatchObject({ ok: false, reason: "expired" });
    expect(first.ok && registry.redeem(first.newRefreshToken, CLIENT_ID).ok).toBe(true);
  });
});

describe("authorization_code grant over https", () => {
  let server: RunningIdentityServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("redeems the consent's code into tokens of a new lineage (MFA: app+user; without: no-mfa); a reused code is invalid_grant 54005", async () => {
    const tokens = new TokenStore([], Date.now);
    server = await startIdentityServer({ identity: identityState(), partnerTenantId: PARTNER_TENANT_ID, tokens, refreshTokenUse: { maxUses: 1 } });
    const tokenUrl = `${server.authority}/oauth2/v2.0/token`;
    const authorizeUrl = new URL(`${server.authority}/oauth2/v2.0/authorize?${authorizeQuery().toString()}`);
    const grant = async (mfa: boolean) => {
      const { consentCode } = await consentOverHttps(server!, authorizeUrl, mfa);
      return { consentCode, answer: await callIdentity(tokenUrl, server!.caCertPem, codeGrant(consentCode)) };
    };
    const withMfa = await grant(true);
    expect(withMfa.answer.status).toBe(200);
    expect(typeof withMfa.answer.json.refresh_token).toBe("string");
    expect(tokens.check(`Bearer ${withMfa.answer.json.access_token as string}`)).toMatchObject({ valid: true, kind: "app+user" });
    const again = await callIdentity(tokenUrl, server.caCertPem, codeGrant(withMfa.consentCode));
    expect(again.status).toBe(400);
    expect(again.json.error).toBe("invalid_grant");
    expect(again.json.error_codes).toEqual([54005]);

    const withoutMfa = await grant(false);
    expect(tokens.check(`Bearer ${withoutMfa.answer.json.access_token as string}`)).toMatchObject({ kind: "no-mfa" });

    // The consent's refresh token follows the use policy like any other.
    const rt = withMfa.answer.json.refresh_token as string;
    expect((await callIdentity(tokenUrl, server.caCertPem, refreshGrant({ refresh_token: rt }))).status).toBe(200);
    const reused = await callIdentity(tokenUrl, server.caCertPem, refreshGrant({ refresh_token: rt }));
    expect(reused.json.error_codes).toEqual([700082]);
    expect(server.counters()).toMatchObject({ codesRedeemed: 2, codesRefused: 1, consentsAccepted: 2 });
  });
});

function codeGrant(code: string): Record<string, string> {
  return { grant_type: "authorization_code", client_id: CLIENT_ID, client_secret: CLIENT_SECRET, code, redirect_uri: REDIRECT, code_verifier: VERIFIER, scope: SCOPE };
}

/** GET the consent page, POST Accept: the code from the redirect's Location. */
async function consentOverHttps(server: RunningIdentityServer, authorizeUrl: URL, mfa: boolean): Promise<{ consentCode: string }> {
  const https = await import("node:https");
  const send = (url: URL, form?: Record<string, string>) =>
    new Promise<{ status: number; location?: string; body: string }>((resolve, reject) => {
      const body = form ? new URLSearchParams(form).toString() : undefined;
      const req = https.request(url, { method: form ? "POST" : "GET", ca: server.caCertPem, agent: false, headers: form ? { "content-type": "application/x-www-form-urlencoded" } : {} }, (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text, ...(res.headers.location ? { location: res.headers.location } : {}) }));
      });
      req.on("error", reject);
      req.end(body);
    });
  const page = await send(authorizeUrl);
  expect(page.status).toBe(200);
  const requestId = /name="request" value="([^"]+)"/.exec(page.body)![1]!;
  const posted = await send(authorizeUrl, { request: requestId, decision: "accept", user: "ops@partner.example", ...(mfa ? { mfa: "1" } : {}) });
  expect(posted.status).toBe(302);
  return { consentCode: new URL(posted.location!).searchParams.get("code")! };
}
