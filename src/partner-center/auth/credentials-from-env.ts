// Which credentials the run uses, read from the environment only (never flags or job files):
// a ready access token, or the App+User variables of the secure application model (the refresh
// token may instead come from the token cache). Error messages name variables, never their values.

export const DEFAULT_AUTHORITY = "https://login.microsoftonline.com";

export type CredentialsConfig =
  | { kind: "access-token"; accessToken: string }
  | {
      kind: "app+user";
      tenantId: string;
      clientId: string;
      clientSecret: string;
      /** Absent only when a token cache is given: the cache then must hold one. */
      refreshToken?: string;
      authority: string;
    };

const APP_VARIABLES = ["PARTNER_CENTER_TENANT_ID", "PARTNER_CENTER_CLIENT_ID", "PARTNER_CENTER_CLIENT_SECRET"] as const;
const APP_USER_VARIABLES = [...APP_VARIABLES, "PARTNER_CENTER_REFRESH_TOKEN"] as const;

export type CredentialsFromEnv = { ok: true; credentials: CredentialsConfig | undefined } | { ok: false; error: string };

export interface AppIdentityFromEnv {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  authority: string;
}

/** The partner's Entra app alone (for `login`, which gets the refresh token): three variables and the authority. */
export function appIdentityFromEnv(env: NodeJS.ProcessEnv): { ok: true; app: AppIdentityFromEnv } | { ok: false; error: string } {
  const read = reader(env);
  const missing = APP_VARIABLES.filter((name) => read(name) === undefined);
  if (missing.length > 0) {
    return { ok: false, error: `signing in needs ${APP_VARIABLES.join(", ")} (the partner's Entra app); missing: ${missing.join(", ")}.` };
  }
  const tenantId = read("PARTNER_CENTER_TENANT_ID") ?? "";
  if (/[\s/?#]/.test(tenantId)) {
    return { ok: false, error: "PARTNER_CENTER_TENANT_ID must be the partner tenant's id (a GUID) or its domain name." };
  }
  const authority = parseAuthority(read("PARTNER_CENTER_AUTHORITY"));
  if (!authority.ok) return authority;
  return {
    ok: true,
    app: { tenantId, clientId: read("PARTNER_CENTER_CLIENT_ID") ?? "", clientSecret: read("PARTNER_CENTER_CLIENT_SECRET") ?? "", authority: authority.authority },
  };
}

const reader =
  (env: NodeJS.ProcessEnv) =>
  (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };

/**
 * PARTNER_CENTER_ACCESS_TOKEN wins when set; otherwise all four App+User variables or none (with a
 * token cache, the refresh token may be left out: the cache holds it). Empty values count as unset
 * (CI systems often export empty variables for absent secrets). `undefined` credentials: none set
 * (the CLI then uses the embedded emulator or refuses).
 */
export function credentialsFromEnv(env: NodeJS.ProcessEnv, options: { tokenCache?: string | undefined } = {}): CredentialsFromEnv {
  const read = reader(env);

  const accessToken = read("PARTNER_CENTER_ACCESS_TOKEN");
  if (accessToken) return { ok: true, credentials: { kind: "access-token", accessToken } };

  const present = APP_USER_VARIABLES.filter((name) => read(name) !== undefined);
  if (present.length === 0) return { ok: true, credentials: undefined };
  const required = options.tokenCache ? APP_VARIABLES : APP_USER_VARIABLES;
  const missing = required.filter((name) => !present.includes(name));
  if (missing.length > 0) {
    return {
      ok: false,
      error:
        `App+User sign-in needs all of ${APP_USER_VARIABLES.join(", ")} (or the first three and a token cache holding a refresh token); ` +
        `missing: ${missing.join(", ")}. Set the missing variables, or set PARTNER_CENTER_ACCESS_TOKEN instead.`,
    };
  }

  const app = appIdentityFromEnv(env);
  if (!app.ok) return app;
  const refreshToken = read("PARTNER_CENTER_REFRESH_TOKEN");
  return { ok: true, credentials: { kind: "app+user", ...app.app, ...(refreshToken ? { refreshToken } : {}) } };
}

/** The authority host as an origin: https only (MSAL refuses anything else), no tenant path. */
function parseAuthority(raw: string | undefined): { ok: true; authority: string } | { ok: false; error: string } {
  if (raw === undefined) return { ok: true, authority: DEFAULT_AUTHORITY };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, error: "PARTNER_CENTER_AUTHORITY is not a URL; expected e.g. https://login.microsoftonline.com." };
  }
  if (url.protocol !== "https:") {
    return { ok: false, error: "PARTNER_CENTER_AUTHORITY must be an https URL (MSAL refuses other schemes)." };
  }
  if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash || url.username || url.password) {
    return {
      ok: false,
      error: "PARTNER_CENTER_AUTHORITY must be the authority host only (e.g. https://login.chinacloudapi.cn); the tenant comes from PARTNER_CENTER_TENANT_ID.",
    };
  }
  return { ok: true, authority: url.origin };
}
