// Turning MSAL's failures into one run-fatal error the partner can act on. Messages are built only
// from fixed text, OAuth error codes, AADSTS numbers and the authority host: never from MSAL's own
// message or the server's description, so no secret can ride along.
import { AuthError, ServerError } from "@azure/msal-node";
import { TokenCacheError } from "./token-cache-file.js";

/** The token provider could not get a token; the run must stop. The message is safe to show. */
export class CredentialsRefusedError extends Error {
  override readonly name = "CredentialsRefusedError";
  constructor(
    /** What refused: "invalid_grant", "invalid_client", "unauthorized_client", "invalid_scope", "authority_unreachable", ... */
    readonly reason: string,
    message: string,
    /** AAD's AADSTS number when the server gave one (e.g. 700082). */
    readonly aadsts?: number,
  ) {
    super(message);
  }
}

export interface RefusalContext {
  /** The authority origin, e.g. https://login.microsoftonline.com (not a secret). */
  authority: string;
}

const REDO_CONSENT =
  "Sign in again with license-runner login (a partner admin signs in with MFA and consents to the app): " +
  "with --token-cache FILE the runs that use that cache pick the new refresh token up; " +
  "with --print-refresh-token, update PARTNER_CENTER_REFRESH_TOKEN with the token it prints.";

/** What an AADSTS number means for a refused refresh token. */
const GRANT_REFUSALS: Record<number, string> = {
  700082: "the refresh token expired (unused for too long, refresh tokens last 90 days)",
  70008: "the refresh token expired",
  50173: "the refresh token was revoked (password reset, session revoked or consent withdrawn)",
  700084: "the refresh token expired (single-page-app tokens last 24 hours)",
  9002313: "the refresh token is malformed or was not issued by this tenant",
  70000: "the refresh token is invalid or was issued to another app",
  50076: "the refresh token lacks multi-factor authentication",
  50079: "the refresh token lacks multi-factor authentication",
  50158: "a conditional access policy blocks the sign-in",
};

/** Is this failure worth another attempt (network, 5xx, unreadable answer)? */
export function isTransientSignInFailure(error: unknown): boolean {
  if (error instanceof ServerError) {
    return (error.status ?? 0) >= 500 || error.errorCode === "temporarily_unavailable" || error.errorCode === "server_error";
  }
  if (error instanceof AuthError) {
    return ["network_error", "token_parsing_error", "openid_config_error", "endpoints_resolution_error", "no_network_connectivity"].includes(
      error.errorCode,
    );
  }
  return false;
}

export function refusalFromMsalError(error: unknown, ctx: RefusalContext): CredentialsRefusedError {
  if (error instanceof CredentialsRefusedError) return error;
  if (error instanceof TokenCacheError) return new CredentialsRefusedError("token_cache", `The token cache cannot be used: ${error.message}.`);
  const code = error instanceof AuthError ? error.errorCode : "";
  const aadsts = aadstsOf(error);
  const codeText = aadsts === undefined ? code : `${code}, AADSTS${aadsts}`;

  switch (code) {
    case "invalid_grant": {
      const why = (aadsts !== undefined ? GRANT_REFUSALS[aadsts] : undefined) ?? "the refresh token is expired, revoked or invalid";
      return new CredentialsRefusedError("invalid_grant", `The refresh token was refused (${codeText}): ${why}. ${REDO_CONSENT}`, aadsts);
    }
    case "interaction_required":
    case "consent_required":
    case "login_required":
    case "bad_token":
      return new CredentialsRefusedError(
        "invalid_grant",
        `The refresh token can no longer be used without the partner signing in again (${codeText}). ${REDO_CONSENT}`,
        aadsts,
      );
    case "invalid_client":
      return new CredentialsRefusedError(
        "invalid_client",
        `The app's client secret was refused (${codeText}): check PARTNER_CENTER_CLIENT_SECRET (it may have expired: ` +
          "create a new client secret for the app in Microsoft Entra ID) and that it belongs to PARTNER_CENTER_CLIENT_ID.",
        aadsts,
      );
    case "unauthorized_client":
      return new CredentialsRefusedError(
        "unauthorized_client",
        `The app PARTNER_CENTER_CLIENT_ID is not known to the partner tenant at ${ctx.authority} (${codeText}): ` +
          "check PARTNER_CENTER_CLIENT_ID, PARTNER_CENTER_TENANT_ID and PARTNER_CENTER_AUTHORITY (the app must be registered in that cloud).",
        aadsts,
      );
    case "invalid_tenant":
      return new CredentialsRefusedError(
        "invalid_tenant",
        `The partner tenant was not found at ${ctx.authority} (${codeText}): check PARTNER_CENTER_TENANT_ID and PARTNER_CENTER_AUTHORITY.`,
        aadsts,
      );
    case "invalid_scope":
      return new CredentialsRefusedError(
        "invalid_scope",
        `The Partner Center scope was refused (${codeText}): the app needs the delegated permission user_impersonation ` +
          "of the Microsoft Partner Center API, consented by a partner admin.",
        aadsts,
      );
    case "network_error":
    case "openid_config_error":
    case "endpoints_resolution_error":
    case "no_network_connectivity":
    case "token_parsing_error":
      return new CredentialsRefusedError(
        "authority_unreachable",
        `Could not sign in at the identity authority ${ctx.authority} (${code}: unreachable, untrusted TLS certificate, ` +
          "unknown tenant or an unreadable answer): check PARTNER_CENTER_AUTHORITY, PARTNER_CENTER_TENANT_ID and the network.",
      );
    default:
      return new CredentialsRefusedError(
        code || "sign_in_failed",
        `Sign-in at ${ctx.authority} failed${codeText ? ` (${codeText})` : ""}: check PARTNER_CENTER_TENANT_ID, ` +
          "PARTNER_CENTER_CLIENT_ID, PARTNER_CENTER_CLIENT_SECRET, PARTNER_CENTER_REFRESH_TOKEN and PARTNER_CENTER_AUTHORITY.",
        aadsts,
      );
  }
}

function aadstsOf(error: unknown): number | undefined {
  if (!(error instanceof AuthError)) return undefined;
  const errorNo = (error as { errorNo?: unknown }).errorNo;
  const fromField = typeof errorNo === "string" || typeof errorNo === "number" ? Number(errorNo) : NaN;
  if (Number.isInteger(fromField) && fromField > 0) return fromField;
  const match = /AADSTS(\d{4,9})/.exec(error.errorMessage ?? "");
  return match?.[1] ? Number(match[1]) : undefined;
}
