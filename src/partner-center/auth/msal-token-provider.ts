// App+User access tokens through @azure/msal-node, the secure application model's way: the
// partner's refresh token is redeemed once (acquireTokenByRefreshToken with forceCache), then
// acquireTokenSilent renews with the rotated refresh token MSAL keeps in its cache. Owns the
// current token, renewal before expiry, single-flight renewal, transient retries and turning
// refusals into CredentialsRefusedError. Never logs a token, a refresh token or the secret.
import { ConfidentialClientApplication, type AccountInfo, type AuthenticationResult } from "@azure/msal-node";
import type { Logger } from "pino";
import type { AccessTokenProvider } from "../api.js";
import { userImpersonationScope } from "../cloud.js";
import { createMsalNetworkClient } from "../msal-network-client.js";
import { CredentialsRefusedError, isTransientSignInFailure, refusalFromMsalError } from "./credentials-refused.js";
import { SecretScrubber, msalLoggerOptions } from "./msal-logging.js";
import { forcedRenewalAlreadyServed, isFresh, type HeldAccessToken } from "./renewal-policy.js";

export interface AppUserCredentials {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  /** Authority origin, e.g. https://login.microsoftonline.com or a sovereign cloud's host. */
  authority: string;
}

export interface MsalTokenProviderDeps {
  logger: Logger;
  /** The provider's clock (ms); MSAL itself keeps using the system clock. */
  now?: () => number;
  /** Waits before retrying a transient failure (network, 5xx); default [500, 2000]. */
  retryDelaysMs?: readonly number[];
  /** Default 1000: see forcedRenewalAlreadyServed. */
  forcedRenewalCoalesceMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** The Partner Center base URL the tokens are for: its cloud decides the scope. */
  apiBaseUrl?: string;
}

/**
 * MSAL stamps expiry in whole seconds from a rounded request time, so its expiresOn can be up to
 * half a second later than the real one: subtract that to never hand out an expired token.
 */
const MSAL_EXPIRY_ROUNDING_MS = 500;

export function createMsalTokenProvider(credentials: AppUserCredentials, deps: MsalTokenProviderDeps): AccessTokenProvider {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const retryDelaysMs = deps.retryDelaysMs ?? [500, 2000];
  const coalesceMs = deps.forcedRenewalCoalesceMs ?? 1000;
  const authorityOrigin = credentials.authority.replace(/\/+$/, "");
  const logger = deps.logger.child({ component: "auth", authority: authorityOrigin });

  const scrubber = new SecretScrubber();
  scrubber.remember(credentials.clientSecret);
  scrubber.remember(credentials.refreshToken);

  const app = new ConfidentialClientApplication({
    auth: {
      clientId: credentials.clientId,
      clientSecret: credentials.clientSecret,
      authority: `${authorityOrigin}/${credentials.tenantId}`,
      // A known authority skips instance discovery on login.microsoftonline.com: MSAL reads the
      // OpenID configuration from this host itself (sovereign clouds, the emulator).
      knownAuthorities: [new URL(authorityOrigin).host],
    },
    // Sign-in on the API's proxy-aware HTTP stack (HTTPS_PROXY / NO_PROXY), not MSAL's fetch.
    system: { loggerOptions: msalLoggerOptions(logger, scrubber), networkClient: createMsalNetworkClient() },
  });
  const scopes = [userImpersonationScope(deps.apiBaseUrl)];

  let held: HeldAccessToken | undefined;
  /**
   * Whether `held` came from a forced renewal. Only such a token can serve later forced renewals
   * (the 401 wave it answered): a 401 soon after a first sign-in or a scheduled renewal is about
   * the held token itself (it expired early, or the clocks disagree), and must renew it.
   */
  let heldByForcedRenewal = false;
  let account: AccountInfo | null = null;
  let inFlight: Promise<HeldAccessToken> | undefined;
  let refused: CredentialsRefusedError | undefined;
  let renewals = 0;

  /** One token request to the authority (MSAL may add one OpenID configuration read the first time). */
  const acquire = async (): Promise<AuthenticationResult> => {
    if (account) {
      // forceRefresh: we renew only when our own margin says so; MSAL's cache check (300 s
      // offset) would otherwise hand back the cached token or refresh on every call.
      return app.acquireTokenSilent({ account, scopes, forceRefresh: true });
    }
    const result = await app.acquireTokenByRefreshToken({ refreshToken: credentials.refreshToken, scopes, forceCache: true });
    if (!result) throw new CredentialsRefusedError("no_token", `The identity authority ${authorityOrigin} answered without an access token.`);
    // Without an account (no id_token), later renewals redeem the original refresh token again.
    account = result.account ?? (await app.getTokenCache().getAllAccounts())[0] ?? null;
    return result;
  };

  const renew = async (reason: "initial" | "expiring" | "forced"): Promise<HeldAccessToken> => {
    const startedWallMs = Date.now();
    for (let attempt = 1; ; attempt += 1) {
      try {
        const result = await acquire();
        return hold(result, startedWallMs, reason);
      } catch (error) {
        const delay = retryDelaysMs[attempt - 1];
        if (delay !== undefined && isTransientSignInFailure(error)) {
          logger.debug({ attempt, delayMs: delay }, "sign-in failed transiently; retrying");
          await sleep(delay);
          continue;
        }
        throw refusalFromMsalError(error, { authority: authorityOrigin });
      }
    }
  };

  const hold = (result: AuthenticationResult, startedWallMs: number, reason: string): HeldAccessToken => {
    if (!result.accessToken || !result.expiresOn) {
      throw new CredentialsRefusedError("no_token", `The identity authority ${authorityOrigin} answered without an access token.`);
    }
    scrubber.remember(result.accessToken);
    const wallNow = Date.now();
    const expiresOnMs = result.expiresOn.getTime() - MSAL_EXPIRY_ROUNDING_MS;
    const lifetimeMs = Math.max(0, Math.round((result.expiresOn.getTime() - startedWallMs) / 1000) * 1000);
    const obtainedAtMs = now();
    renewals += 1;
    logger.debug({ reason, renewals, expiresInSeconds: Math.round((expiresOnMs - wallNow) / 1000) }, "access token renewed");
    return { token: result.accessToken, expiresAtMs: obtainedAtMs + (expiresOnMs - wallNow), lifetimeMs, obtainedAtMs };
  };

  const renewOnce = (reason: "initial" | "expiring" | "forced"): Promise<HeldAccessToken> => {
    inFlight ??= renew(reason)
      .then((next) => {
        held = next;
        heldByForcedRenewal = reason === "forced";
        return next;
      })
      .catch((error: unknown) => {
        const refusal = error instanceof CredentialsRefusedError ? error : refusalFromMsalError(error, { authority: authorityOrigin });
        // A refusal will not change by asking again; an unreachable authority might.
        if (refusal.reason !== "authority_unreachable") refused = refusal;
        logger.debug({ reason: refusal.reason, aadsts: refusal.aadsts }, "sign-in refused");
        throw refusal;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };

  return {
    async getToken(options?: { forceRefresh?: boolean }): Promise<string> {
      if (refused) throw refused;
      const t = now();
      if (options?.forceRefresh) {
        if (!inFlight && heldByForcedRenewal && forcedRenewalAlreadyServed(held, t, coalesceMs)) return held!.token;
        return (await renewOnce("forced")).token;
      }
      if (isFresh(held, t)) return held.token;
      return (await renewOnce(held ? "expiring" : "initial")).token;
    },
  };
}
