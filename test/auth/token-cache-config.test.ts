// Where the token cache is named (flag, job file key tokenCache, PARTNER_CENTER_TOKEN_CACHE), and
// that with a cache the refresh token variable may be left out.
import { describe, expect, it } from "vitest";
import { resolveRunConfig, validateJobFile } from "../../dist/config.js";
import { credentialsFromEnv } from "../../dist/partner-center/auth/credentials-from-env.js";

const APP = { PARTNER_CENTER_TENANT_ID: "contoso.onmicrosoft.com", PARTNER_CENTER_CLIENT_ID: "app", PARTNER_CENTER_CLIENT_SECRET: "s3cret-value" };
const resolve = (flags: Record<string, unknown>, env: NodeJS.ProcessEnv, job = {}) =>
  resolveRunConfig({ command: "run", job, flags: { input: "r.csv", ...flags }, env, stderrIsTTY: false });

describe("token cache option", () => {
  it("the flag wins over the job file, the job file over PARTNER_CENTER_TOKEN_CACHE; none: no cache", () => {
    const env = { PARTNER_CENTER_TOKEN_CACHE: "/env/cache.json" };
    expect(resolve({ tokenCache: "/flag.json" }, env, { tokenCache: "/job.json" })).toMatchObject({ ok: true, value: { tokenCache: "/flag.json" } });
    expect(resolve({}, env, { tokenCache: "/job.json" })).toMatchObject({ ok: true, value: { tokenCache: "/job.json" } });
    expect(resolve({}, env)).toMatchObject({ ok: true, value: { tokenCache: "/env/cache.json" } });
    const none = resolve({}, { PARTNER_CENTER_TOKEN_CACHE: " " });
    expect(none.ok && "tokenCache" in none.value).toBe(false);
  });

  it("a job file may name the cache (tokenCache is a path, not a secret); other token keys stay refused", () => {
    expect(validateJobFile({ tokenCache: "/data/token-cache/nightly.json" }, "j.json")).toMatchObject({ ok: true });
    expect(validateJobFile({ refreshToken: "x" }, "j.json")).toMatchObject({ ok: false });
  });

  it("with a token cache, PARTNER_CENTER_REFRESH_TOKEN is optional; without one it is required", () => {
    expect(credentialsFromEnv(APP, { tokenCache: "/c.json" })).toMatchObject({ ok: true, credentials: { kind: "app+user", clientId: "app" } });
    const without = credentialsFromEnv(APP);
    expect(without.ok).toBe(false);
    expect(!without.ok && without.error).toContain("missing: PARTNER_CENTER_REFRESH_TOKEN");
    expect(!without.ok && without.error).not.toContain("s3cret-value");
  });
});
