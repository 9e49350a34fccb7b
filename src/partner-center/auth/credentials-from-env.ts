// Which credentials the run uses, read from the environment only (never flags or job files):
// a ready access token, or the four App+User variables of the secure application model.
// Error messages name variables, never their values.

export const DEFAULT_AUTHORITY = "https://login.microsoftonline.com";

export type CredentialsConfig =
  | { kind: "access-token"; accessToken: string }
  | { kind: "app+user"; tenantId: string; clientId: string; clientSecret: string; refreshToken: string; authority: string };

const APP_USER_VARIABLES = [
  "PARTNER_CENTER_TENANT_ID",
  "PARTNER_CENTER_CLIENT_ID",
  "PARTNER_CENTER_CLIENT_SECRET",
  "PARTNER_CENTER_REFRESH_TOKEN",
] as const;

export type CredentialsFromEnv = { ok: true; credentials: CredentialsConfig | undefined } | { ok: false; error: string };

/**
 * PARTNER_CENTER_ACCESS_TOKEN wins when set; otherwise all four App+User variables or none.
 * Empty values count as unset (CI systems often export empty variables for absent secrets).
 * `undefined` credentials: none set (the CLI then uses the embedded emulator or refuses).
 */
export function credentialsFromEnv(env: NodeJS.ProcessEnv): CredentialsFromEnv {
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };

  const accessToken = read("PARTNER_CENTER_ACCESS_TOKEN");
  if (accessToken) return { ok: true, credentials: { kind: "access-token", accessToken } };

  const present = APP_USER_VARIABLES.filter((name) => read(name) !== undefined);
  if (present.length === 0) return { ok: true, credentials: undefined };
  if (present.length < APP_USER_VARIABLES.length) {
    const missing = APP_USER_VARIABLES.filter((name) => !present.includes(name));
    return {
      ok: false,
      error:
        `App+User sign-in needs all of ${APP_USER_VARIABLES.join(", ")}; missing: ${missing.join(", ")}. ` +
        "Set the missing variables, or set PARTNER_CENTER_ACCESS_TOKEN instead.",
    };
  }

  const tenantId = read("PARTNER_CENTER_TENANT_ID") ?? "";
  if (/[\s/?#]/.test(tenantId)) {
    return { ok: false, error: "PARTNER_CENTER_TENANT_ID must be the partner tenant's id (a GUID) or its domain name." };
  }
  const authority = parseAuthority(read("PARTNER_CENTER_AUTHORITY"));
  if (!authority.ok) return authority;

  return {
    ok: true,
    credentials: {
      kind: "app+user",
      tenantId,
      clientId: read("PARTNER_CENTER_CLIENT_ID") ?? "",
      clientSecret: read("PARTNER_CENTER_CLIENT_SECRET") ?? "",
      refreshToken: read("PARTNER_CENTER_REFRESH_TOKEN") ?? "",
      authority: authority.authority,
    },
  };
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
