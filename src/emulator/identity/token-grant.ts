// The emulator's token endpoint logic for `grant_type=refresh_token` and `authorization_code`:
// authenticate the client, judge and rotate the refresh token (or redeem the consent's code with
// its PKCE verifier and start a new refresh token), mint the access token through the shared
// TokenStore. Answers with AAD's status codes and AADSTS errors; the HTTP plumbing lives in server.ts.
import type { IdentityClient } from "../state-file.js";
import type { AuthorizationEndpoint } from "./authorization.js";
import type { TokenStore } from "../token-store.js";
import { aadErrorBody, tokenResponseBody, type AadError } from "./aad-responses.js";
import type { RefreshTokenRegistry, RefreshTokenRefusal } from "./refresh-token-registry.js";

const PARTNER_CENTER_RESOURCE = "https://api.partnercenter.microsoft.com/";
const OIDC_SCOPES = new Set(["openid", "profile", "offline_access", "email"]);

/** What one token request did, for the server's counters. */
export type GrantOutcome =
  | "issued"
  | "invalid_grant"
  | "invalid_client"
  | "unauthorized_client"
  | "invalid_request"
  | "invalid_scope"
  | "unsupported_grant_type";

export interface GrantAnswer {
  status: number;
  body: Record<string, unknown>;
  outcome: GrantOutcome;
  /** Set when a refresh token was rotated. */
  rotated?: { presentedWasSuperseded: boolean };
  /** Set for authorization_code grants: "redeemed", or why the code was refused. */
  code?: "redeemed" | "refused" | "pkce-mismatch";
}

export interface GrantContext {
  clients: readonly IdentityClient[];
  refreshTokens: RefreshTokenRegistry;
  authorization: AuthorizationEndpoint;
  tokens: TokenStore;
  accessTokenLifetimeSeconds: number;
  tenantId: string;
  issuer: string;
  now: () => number;
}

export function answerTokenRequest(params: URLSearchParams, ctx: GrantContext): GrantAnswer {
  const refuse = (outcome: Exclude<GrantOutcome, "issued">, err: Omit<AadError, "error">): GrantAnswer => ({
    status: err.status,
    body: aadErrorBody({ ...err, error: outcome }, ctx.now()),
    outcome,
  });

  const grantType = params.get("grant_type");
  if (grantType !== "refresh_token" && grantType !== "authorization_code") {
    return refuse("unsupported_grant_type", {
      status: 400,
      aadsts: 70003,
      text: `The app requested an unsupported grant type '${grantType ?? ""}'. This emulator answers refresh_token and authorization_code grants only.`,
    });
  }
  // Client authentication comes first, as with AAD: a bad secret is reported even with a bad grant.
  const clientId = params.get("client_id");
  if (!clientId) {
    return refuse("invalid_request", { status: 400, aadsts: 900144, text: "The request body must contain the following parameter: 'client_id'." });
  }
  const client = ctx.clients.find((c) => c.clientId === clientId);
  if (!client) {
    return refuse("unauthorized_client", {
      status: 400,
      aadsts: 700016,
      text: `Application with identifier '${clientId}' was not found in the directory '${ctx.tenantId}'.`,
    });
  }
  const clientSecret = params.get("client_secret");
  if (!clientSecret) {
    return refuse("invalid_client", {
      status: 401,
      aadsts: 7000218,
      text: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    });
  }
  if (clientSecret !== client.clientSecret) {
    return refuse("invalid_client", {
      status: 401,
      aadsts: 7000215,
      text: `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
    });
  }
  if (grantType === "authorization_code") return answerCodeGrant(params, clientId, ctx, refuse);

  const presented = params.get("refresh_token");
  if (!presented) {
    return refuse("invalid_request", { status: 400, aadsts: 900144, text: "The request body must contain the following parameter: 'refresh_token'." });
  }
  const scope = grantedScope(params.get("scope"));
  if (scope === undefined) return refuseMissingScope(refuse);

  const redeemed = ctx.refreshTokens.redeem(presented, clientId);
  if (!redeemed.ok) return refuse("invalid_grant", refusalFor(redeemed.reason, ctx.now(), redeemed.issuedAtMs));

  const minted = ctx.tokens.mint(redeemed.kind, ctx.accessTokenLifetimeSeconds);
  return {
    status: 200,
    outcome: "issued",
    rotated: { presentedWasSuperseded: redeemed.presentedWasSuperseded },
    body: tokenResponseBody({
      accessToken: minted.token,
      lifetimeSeconds: ctx.accessTokenLifetimeSeconds,
      refreshToken: redeemed.newRefreshToken,
      scope,
      clientId,
      tenantId: ctx.tenantId,
      userObjectId: redeemed.userObjectId,
      issuer: ctx.issuer,
      nowMs: ctx.now(),
    }),
  };
}

type Refuse = (outcome: Exclude<GrantOutcome, "issued">, err: Omit<AadError, "error">) => GrantAnswer;

/** Both grants need the Partner Center scope; AAD's answer when it is missing. */
function refuseMissingScope(refuse: Refuse): GrantAnswer {
  return refuse("invalid_scope", {
    status: 400,
    aadsts: 70011,
    text: "The provided request must include a 'scope' input parameter for https://api.partnercenter.microsoft.com (the only resource this emulator serves).",
  });
}

/** The consent's code, redeemed once with its PKCE verifier: a new lineage of refresh tokens for the user. */
function answerCodeGrant(params: URLSearchParams, clientId: string, ctx: GrantContext, refuse: Refuse): GrantAnswer {
  const code = params.get("code");
  if (!code) {
    return refuse("invalid_request", { status: 400, aadsts: 900144, text: "The request body must contain the following parameter: 'code'." });
  }
  const scope = grantedScope(params.get("scope"));
  if (scope === undefined) return refuseMissingScope(refuse);
  const redeemed = ctx.authorization.redeemCode(code, clientId, params.get("redirect_uri"), params.get("code_verifier"));
  if (!redeemed.ok) {
    return { ...refuse("invalid_grant", { status: 400, aadsts: redeemed.aadsts, text: redeemed.text }), code: redeemed.pkce ? "pkce-mismatch" : "refused" };
  }
  // Without the MFA claim the consent still succeeds, and the API refuses its tokens (900421).
  const kind = redeemed.mfa ? "app+user" : "no-mfa";
  const consent = ctx.refreshTokens.issueForConsent(clientId, kind, redeemed.userPrincipalName);
  const minted = ctx.tokens.mint(kind, ctx.accessTokenLifetimeSeconds);
  return {
    status: 200,
    outcome: "issued",
    code: "redeemed",
    body: tokenResponseBody({
      accessToken: minted.token,
      lifetimeSeconds: ctx.accessTokenLifetimeSeconds,
      refreshToken: consent.refreshToken,
      scope,
      clientId,
      tenantId: ctx.tenantId,
      userObjectId: consent.userObjectId,
      userPrincipalName: redeemed.userPrincipalName,
      issuer: ctx.issuer,
      nowMs: ctx.now(),
    }),
  };
}

/** The Partner Center scopes asked for (`/.default` means what was consented: user_impersonation). */
function grantedScope(requested: string | null): string | undefined {
  const resourceScopes = (requested ?? "").split(/\s+/).filter((s) => s && !OIDC_SCOPES.has(s));
  if (resourceScopes.length === 0 || !resourceScopes.every((s) => s.toLowerCase().startsWith(PARTNER_CENTER_RESOURCE))) return undefined;
  return `${PARTNER_CENTER_RESOURCE}user_impersonation`;
}

function refusalFor(reason: RefreshTokenRefusal, nowMs: number, issuedAtMs: number | undefined): Omit<AadError, "error"> {
  switch (reason) {
    case "unknown":
      return { status: 400, aadsts: 9002313, text: "Invalid request. Request is malformed or invalid (the refresh token is not one this tenant issued)." };
    case "expired": {
      const issued = new Date(issuedAtMs ?? nowMs).toISOString();
      return { status: 400, aadsts: 700082, text: `The refresh token has expired due to inactivity. The token was issued on ${issued} and was inactive for longer than allowed.` };
    }
    case "revoked":
      return { status: 400, aadsts: 50173, text: "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password." };
    case "other-client":
      return { status: 400, aadsts: 70000, text: "Provided grant is invalid or malformed: the refresh token was issued to a different client." };
    case "superseded":
      // The emulator's own choice (AAD keeps old refresh tokens until they expire): see the README.
      return { status: 400, aadsts: 70008, text: "The provided refresh token has expired: it was replaced by a newer refresh token (rotation) longer ago than the grace period." };
  }
}
