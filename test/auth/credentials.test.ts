// Credentials from the environment, the static token provider, the renewal policy and the log
// scrubber: pure pieces, no network.
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import {
  createAccessTokenProvider,
  credentialsFromEnv,
  CredentialsRefusedError,
  SecretScrubber,
} from "../../dist/partner-center/auth/index.js";
import { forcedRenewalAlreadyServed, isFresh, renewalMarginMs } from "../../dist/partner-center/auth/renewal-policy.js";

const FOUR = {
  PARTNER_CENTER_TENANT_ID: "6f1d2b3c-4a5e-4f60-8a7b-9c0d1e2f3a4b",
  PARTNER_CENTER_CLIENT_ID: "0a1b2c3d-0000-4000-8000-00000000c11e",
  PARTNER_CENTER_CLIENT_SECRET: "Xq8~client-secret-VALUE",
  PARTNER_CENTER_REFRESH_TOKEN: "0.AXoA-refresh-token-VALUE",
};
const silent = pino({ level: "silent" });

describe("credentialsFromEnv", () => {
  it("is undefined when nothing is set (empty values count as unset)", () => {
    expect(credentialsFromEnv({})).toEqual({ ok: true, credentials: undefined });
    expect(credentialsFromEnv({ PARTNER_CENTER_ACCESS_TOKEN: "  ", PARTNER_CENTER_CLIENT_ID: "" })).toEqual({ ok: true, credentials: undefined });
  });

  it("lets PARTNER_CENTER_ACCESS_TOKEN win over the App+User variables", () => {
    expect(credentialsFromEnv({ ...FOUR, PARTNER_CENTER_ACCESS_TOKEN: "eyJ.token" })).toEqual({
      ok: true,
      credentials: { kind: "access-token", accessToken: "eyJ.token" },
    });
  });

  it("reads the four App+User variables with the public cloud as default authority", () => {
    expect(credentialsFromEnv(FOUR)).toEqual({
      ok: true,
      credentials: {
        kind: "app+user",
        tenantId: FOUR.PARTNER_CENTER_TENANT_ID,
        clientId: FOUR.PARTNER_CENTER_CLIENT_ID,
        clientSecret: FOUR.PARTNER_CENTER_CLIENT_SECRET,
        refreshToken: FOUR.PARTNER_CENTER_REFRESH_TOKEN,
        authority: "https://login.microsoftonline.com",
      },
    });
  });

  it("takes a sovereign authority host, trailing slash or not", () => {
    const result = credentialsFromEnv({ ...FOUR, PARTNER_CENTER_AUTHORITY: "https://login.chinacloudapi.cn/" });
    expect(result.ok && result.credentials?.kind === "app+user" && result.credentials.authority).toBe("https://login.chinacloudapi.cn");
  });

  it("names the missing variables of a partial set, never the values given", () => {
    const result = credentialsFromEnv({ PARTNER_CENTER_CLIENT_ID: FOUR.PARTNER_CENTER_CLIENT_ID, PARTNER_CENTER_CLIENT_SECRET: FOUR.PARTNER_CENTER_CLIENT_SECRET });
    expect(result.ok).toBe(false);
    const error = result.ok ? "" : result.error;
    expect(error).toContain("missing: PARTNER_CENTER_TENANT_ID, PARTNER_CENTER_REFRESH_TOKEN");
    expect(error).not.toContain(FOUR.PARTNER_CENTER_CLIENT_SECRET);
    expect(error).not.toContain(FOUR.PARTNER_CENTER_CLIENT_ID);
  });

  it("refuses an authority that is not an https host", () => {
    for (const bad of ["http://login.microsoftonline.com", "not a url", "https://login.microsoftonline.com/some-tenant"]) {
      const result = credentialsFromEnv({ ...FOUR, PARTNER_CENTER_AUTHORITY: bad });
      expect(result.ok, bad).toBe(false);
      expect(result.ok ? "" : result.error).toContain("PARTNER_CENTER_AUTHORITY");
    }
  });
});

describe("static access token provider", () => {
  it("returns the given token, also when asked to refresh (it cannot)", async () => {
    const provider = createAccessTokenProvider({ kind: "access-token", accessToken: "ci-token" }, { logger: silent });
    expect(await provider.getToken()).toBe("ci-token");
    expect(await provider.getToken({ forceRefresh: true })).toBe("ci-token");
  });
});

describe("renewal policy", () => {
  it("renews 5 minutes before an hour-long token expires, a fifth of the lifetime before a short one", () => {
    expect(renewalMarginMs(3600_000)).toBe(300_000);
    expect(renewalMarginMs(2000)).toBe(400);
    const hour = { token: "t", expiresAtMs: 3600_000, lifetimeMs: 3600_000, obtainedAtMs: 0 };
    expect(isFresh(hour, 3299_999)).toBe(true);
    expect(isFresh(hour, 3300_000)).toBe(false);
    expect(isFresh(undefined, 0)).toBe(false);
  });

  it("serves a forced renewal by one that just completed, within the coalescing window only", () => {
    const held = { token: "t", expiresAtMs: 10_000, lifetimeMs: 10_000, obtainedAtMs: 1000 };
    expect(forcedRenewalAlreadyServed(held, 1500, 1000)).toBe(true);
    expect(forcedRenewalAlreadyServed(held, 2000, 1000)).toBe(false);
    expect(forcedRenewalAlreadyServed(held, 1500, 0)).toBe(false);
  });
});

describe("log scrubbing and the refusal error", () => {
  it("removes known secrets and token-shaped strings, keeping GUIDs, URLs and words", () => {
    const scrubber = new SecretScrubber();
    scrubber.remember("short~secret");
    const line =
      "POST https://login.microsoftonline.com/6f1d2b3c-4a5e-4f60-8a7b-9c0d1e2f3a4b/oauth2/v2.0/token " +
      "secret=short~secret rt=0.AXoAbc123def456ghi789jkl012mno at=emu-at-E8mj8kGht-UduMYj25Y8GwwB9tDPF4h6 " +
      "jwt=eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2FwaSJ9.c2lnbmF0dXJlc2lnbmF0dXJl acquireTokenByRefreshToken";
    const out = scrubber.scrub(line);
    expect(out).toContain("https://login.microsoftonline.com/6f1d2b3c-4a5e-4f60-8a7b-9c0d1e2f3a4b/oauth2/v2.0/token");
    expect(out).toContain("acquireTokenByRefreshToken");
    expect(out).not.toContain("short~secret");
    expect(out).not.toContain("0.AXoAbc123def456ghi789jkl012mno");
    expect(out).not.toContain("E8mj8kGht");
    expect(out).not.toContain("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9");
  });

  it("carries a reason and a safe message", () => {
    const error = new CredentialsRefusedError("invalid_grant", "The refresh token was refused.", 700082);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("CredentialsRefusedError");
    expect(error.reason).toBe("invalid_grant");
    expect(error.aadsts).toBe(700082);
  });
});
