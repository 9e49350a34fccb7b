// The bodies the emulator's identity endpoint answers, shaped as Microsoft Entra ID (AAD) v2.0
// answers them so MSAL parses them as it would the real ones: OpenID configuration, token
// responses (with an id_token and client_info so MSAL builds an account) and OAuth errors with
// AADSTS codes. No logic about who is allowed what lives here.
import { randomUUID } from "node:crypto";

export interface AadError {
  status: number;
  /** OAuth error: invalid_grant, invalid_client, ... */
  error: string;
  /** AADSTS number, e.g. 700082. */
  aadsts: number;
  text: string;
}

/** AAD's error body: the AADSTS code leads the description, as MSAL and users expect. */
export function aadErrorBody(err: AadError, nowMs: number): Record<string, unknown> {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date(nowMs).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
  return {
    error: err.error,
    error_description: `AADSTS${err.aadsts}: ${err.text} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [err.aadsts],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${err.aadsts}`,
  };
}

export function openIdConfiguration(authorityHost: string, tenant: string): Record<string, unknown> {
  const base = `${authorityHost}/${tenant}`;
  return {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ["query", "fragment", "form_post"],
    subject_types_supported: ["pairwise"],
    id_token_signing_alg_values_supported: ["RS256"],
    response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
    scopes_supported: ["openid", "profile", "email", "offline_access"],
    issuer: `${base}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${authorityHost}/oidc/userinfo`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    claims_supported: ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "name", "tid", "ver", "oid", "preferred_username"],
    tenant_region_scope: "EU",
    cloud_instance_name: "emulator.local",
    cloud_graph_host_name: "graph.emulator.local",
    msgraph_host: "graph.emulator.local",
  };
}

export interface IssuedTokens {
  accessToken: string;
  lifetimeSeconds: number;
  refreshToken: string;
  scope: string;
  clientId: string;
  tenantId: string;
  userObjectId: string;
  /** The partner user's sign-in name (preferred_username); default the emulator's admin. */
  userPrincipalName?: string;
  issuer: string;
  nowMs: number;
}

/** A successful refresh_token or authorization_code grant, as AAD answers it. */
export function tokenResponseBody(t: IssuedTokens): Record<string, unknown> {
  return {
    token_type: "Bearer",
    scope: t.scope,
    expires_in: t.lifetimeSeconds,
    ext_expires_in: t.lifetimeSeconds,
    access_token: t.accessToken,
    refresh_token: t.refreshToken,
    id_token: idToken(t),
    client_info: base64url(JSON.stringify({ uid: t.userObjectId, utid: t.tenantId })),
  };
}

/**
 * An id_token MSAL can read. MSAL decodes the claims without checking the signature (the token
 * comes straight from the token endpoint over TLS), so the signature is a placeholder.
 */
function idToken(t: IssuedTokens): string {
  const iat = Math.floor(t.nowMs / 1000);
  const header = { typ: "JWT", alg: "RS256", kid: "emulator" };
  const claims = {
    aud: t.clientId,
    iss: t.issuer,
    iat,
    nbf: iat,
    exp: iat + 3600,
    name: "Emulator Partner Admin",
    oid: t.userObjectId,
    preferred_username: t.userPrincipalName ?? "admin@partner.emulator.local",
    sub: t.userObjectId,
    tid: t.tenantId,
    ver: "2.0",
  };
  return `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}.${base64url("emulator-unsigned")}`;
}

function base64url(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}
