// The emulator's authorize endpoint: the browser half of the authorization code flow, as Microsoft
// Entra ID runs it for the secure application model's consent. GET serves a tiny consent page (the
// partner user, an MFA checkbox, Accept/Decline); its POST redirects the browser to the client's
// loopback redirect_uri with a one-time code and the state, or with access_denied on Decline. Owns
// the pending sign-ins and the issued codes with their PKCE challenges; the token endpoint
// (token-grant.ts) redeems the codes through redeemCode().
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { IdentityClient } from "../state-file.js";

/** AAD's authorization codes are short-lived: "about 10 minutes" (Microsoft identity platform and OAuth 2.0 authorization code flow). */
const CODE_LIFETIME_MS = 10 * 60_000;
/** How long a consent page may stay open before its submission is refused. */
const PENDING_LIFETIME_MS = 30 * 60_000;
/** Pending sign-ins and codes kept at most: a long-running emulator stays bounded. */
const MAX_HELD = 1000;
const PARTNER_CENTER_RESOURCE = "https://api.partnercenter.microsoft.com/";
export const DEFAULT_CONSENT_USER = "admin@partner.emulator.local";

interface SignInRequest {
  clientId: string;
  redirectUri: string;
  state: string | undefined;
  scope: string;
  codeChallenge: string | undefined;
  createdAtMs: number;
}

interface IssuedCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string | undefined;
  scope: string;
  userPrincipalName: string;
  mfa: boolean;
  expiresAtMs: number;
  redeemed: boolean;
}

/** What the HTTP layer sends: a page, or a redirect to the client. */
export type AuthorizeAnswer =
  | { kind: "page"; status: number; html: string }
  | { kind: "redirect"; location: string; outcome: "consented" | "declined" | "refused" };

export type CodeRedemption =
  | { ok: true; userPrincipalName: string; mfa: boolean; scope: string }
  | { ok: false; aadsts: number; text: string; pkce?: boolean };

export class AuthorizationEndpoint {
  private readonly pending = new Map<string, SignInRequest>();
  private readonly codes = new Map<string, IssuedCode>();

  constructor(
    private readonly clients: readonly IdentityClient[],
    private readonly tenantId: string,
    private readonly now: () => number,
  ) {}

  /** GET .../oauth2/v2.0/authorize: check the request, then serve the consent page. */
  begin(query: URLSearchParams, formAction: string): AuthorizeAnswer {
    const clientId = query.get("client_id") ?? "";
    if (!this.clients.some((c) => c.clientId === clientId)) {
      return errorPage(400, 700016, `Application with identifier '${clientId}' was not found in the directory '${this.tenantId}'.`);
    }
    const redirectUri = query.get("redirect_uri") ?? "";
    if (!isLoopbackRedirect(redirectUri)) {
      // Never redirect to a URI that is not registered: AAD shows the error instead.
      return errorPage(400, 50011, `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application (the emulator accepts http loopback URIs only).`);
    }
    const state = query.get("state") ?? undefined;
    const refuse = (error: string, aadsts: number, text: string): AuthorizeAnswer => ({
      kind: "redirect",
      location: redirectWith(redirectUri, { error, error_description: `AADSTS${aadsts}: ${text}`, state }),
      outcome: "refused",
    });
    if (query.get("response_type") !== "code") return refuse("unsupported_response_type", 70005, "The response_type must be 'code'.");
    const scope = query.get("scope") ?? "";
    if (!scope.split(/\s+/).some((s) => s.toLowerCase().startsWith(PARTNER_CENTER_RESOURCE))) {
      return refuse("invalid_scope", 70011, "The scope must include a scope of https://api.partnercenter.microsoft.com (the only resource this emulator serves).");
    }
    const codeChallenge = query.get("code_challenge") ?? undefined;
    const method = query.get("code_challenge_method") ?? (codeChallenge ? "plain" : undefined);
    if (codeChallenge !== undefined && method !== "S256") {
      return refuse("invalid_request", 501491, "The emulator supports the code_challenge_method S256 only.");
    }
    const requestId = randomBytes(18).toString("base64url");
    remember(this.pending, requestId, { clientId, redirectUri, state, scope, codeChallenge, createdAtMs: this.now() });
    return { kind: "page", status: 200, html: consentPage(formAction, requestId, clientId) };
  }

  /** POST of the consent page: Accept issues a code, Decline sends access_denied. */
  submit(form: URLSearchParams): AuthorizeAnswer {
    const requestId = form.get("request") ?? "";
    const request = this.pending.get(requestId);
    if (!request || this.now() > request.createdAtMs + PENDING_LIFETIME_MS) {
      return errorPage(400, 90014, "The sign-in request is unknown or has expired: start the sign-in again.");
    }
    this.pending.delete(requestId);
    if (form.get("decision") !== "accept") {
      return {
        kind: "redirect",
        location: redirectWith(request.redirectUri, {
          error: "access_denied",
          error_subcode: "cancel",
          error_description: "AADSTS65004: User declined to consent to access the app.",
          state: request.state,
        }),
        outcome: "declined",
      };
    }
    const userPrincipalName = (form.get("user") ?? "").trim() || DEFAULT_CONSENT_USER;
    const code = `emu-code-${randomBytes(32).toString("base64url")}`;
    remember(this.codes, code, {
      clientId: request.clientId,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      scope: request.scope,
      userPrincipalName,
      mfa: form.get("mfa") !== null,
      expiresAtMs: this.now() + CODE_LIFETIME_MS,
      redeemed: false,
    });
    return { kind: "redirect", location: redirectWith(request.redirectUri, { code, state: request.state }), outcome: "consented" };
  }

  /** The token endpoint's check of an authorization_code grant (client already authenticated). */
  redeemCode(code: string, clientId: string, redirectUri: string | null, codeVerifier: string | null): CodeRedemption {
    const issued = this.codes.get(code);
    if (!issued || issued.clientId !== clientId) {
      return { ok: false, aadsts: 9002313, text: "Invalid request. The provided authorization code is malformed or was not issued to this app." };
    }
    if (issued.redeemed) {
      return { ok: false, aadsts: 54005, text: "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token." };
    }
    if (this.now() >= issued.expiresAtMs) {
      return { ok: false, aadsts: 70008, text: "The provided authorization code or refresh token has expired due to inactivity." };
    }
    if (redirectUri !== issued.redirectUri) {
      return { ok: false, aadsts: 50011, text: "The redirect URI of the token request does not match the one of the authorization request." };
    }
    if (issued.codeChallenge !== undefined && !verifierMatches(codeVerifier, issued.codeChallenge)) {
      return { ok: false, aadsts: 501481, text: "The Code_Verifier does not match the code_challenge supplied in the authorization request.", pkce: true };
    }
    issued.redeemed = true;
    return { ok: true, userPrincipalName: issued.userPrincipalName, mfa: issued.mfa, scope: issued.scope };
  }
}

/** RFC 7636 4.6: BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge. */
function verifierMatches(verifier: string | null, challenge: string): boolean {
  if (!verifier || !/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier)) return false;
  const computed = Buffer.from(createHash("sha256").update(verifier, "ascii").digest("base64url"));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}

/** RFC 8252 7.3: native apps redirect to an http loopback listener on any port. */
function isLoopbackRedirect(uri: string): boolean {
  try {
    const url = new URL(uri);
    return url.protocol === "http:" && ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname) && !url.hash;
  } catch {
    return false;
  }
}

function redirectWith(redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [key, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(key, value);
  return url.toString();
}

function remember<T>(map: Map<string, T>, key: string, value: T): void {
  map.set(key, value);
  if (map.size > MAX_HELD) map.delete(map.keys().next().value as string);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function errorPage(status: number, aadsts: number, text: string): AuthorizeAnswer {
  return { kind: "page", status, html: page("Sign-in error", `<p>AADSTS${aadsts}: ${escapeHtml(text)}</p>`) };
}

function consentPage(formAction: string, requestId: string, clientId: string): string {
  return page(
    "Permissions requested",
    `<p>The app <code>${escapeHtml(clientId)}</code> asks to access Partner Center as you (user_impersonation) and to keep that access (offline_access).</p>
<form method="post" action="${escapeHtml(formAction)}">
  <input type="hidden" name="request" value="${escapeHtml(requestId)}">
  <label>Partner user <input name="user" value="${escapeHtml(DEFAULT_CONSENT_USER)}"></label>
  <label><input type="checkbox" name="mfa" value="1" checked> Signed in with multi-factor authentication</label>
  <button type="submit" name="decision" value="accept">Accept</button>
  <button type="submit" name="decision" value="decline">Decline</button>
</form>`,
  );
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}: license-runner emulator</title></head>
<body><h1>${title}</h1>
${body}
</body></html>
`;
}
