// App+User access tokens through @azure/msal-node, the secure application model's way: the
// partner's refresh token is redeemed once (acquireTokenByRefreshToken with forceCache), then
// acquireTokenSilent renews with the rotated refresh token MSAL keeps in its cache. With a token
// cache file, a refresh token kept there wins (PARTNER_CENTER_REFRESH_TOKEN only seeds an empty
// cache), every renewal runs under the file's lock and re-reads it first (another shard may have
// rotated it), and the rotated token is written back. Owns the current token, renewal before
// expiry, single-flight renewal, transient retries, turning refusals into CredentialsRefusedError
// and the sign-in report. Never logs a token, a refresh token or the secret.
import type { AccountInfo, AuthenticationResult } from "@azure/msal-node";
import type { Logger } from "pino";
import type { AccessTokenProvider } from "../api.js";
import { userImpersonationScope } from "../cloud.js";
import { CredentialsRefusedError, isTransientSignInFailure, refusalFromMsalError } from "./credentials-refused.js";
import { SecretScrubber } from "./msal-logging.js";
import { createPartnerMsalApp, type MsalNetworkClient, type PartnerAppIdentity } from "./msal-app.js";
import { forcedRenewalAlreadyServed, isFresh, type HeldAccessToken } from "./renewal-policy.js";
import { buildSignInReport, type SignInReport } from "./sign-in-report.js";
import type { TokenCacheFile } from "./token-cache-file.js";

export interface AppUserCredentials extends PartnerAppIdentity {
  /** PARTNER_CENTER_REFRESH_TOKEN; with a token cache it only seeds an empty one. */
  refreshToken?: string | undefined;
}

/** An access token provider that can say how the run signed in (for the summary). */
export interface SignInTokenProvider extends AccessTokenProvider {
  signInReport(): SignInReport | undefined;
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
  /** The token cache file that keeps the rotated refresh token between runs. */
  tokenCache?: TokenCacheFile | undefined;
  networkClient?: MsalNetworkClient | undefined;
  /** The Partner Center base URL the tokens are for: its cloud decides the scope. */
  apiBaseUrl?: string;
}

/**
 * MSAL stamps expiry in whole seconds from a rounded request time, so its expiresOn can be up to
 * half a second later than the real one: subtract that to never hand out an expired token.
 */
const MSAL_EXPIRY_ROUNDING_MS = 500;

export function createMsalTokenProvider(credentials: AppUserCredentials, deps: MsalTokenProviderDeps): SignInTokenProvider {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const retryDelaysMs = deps.retryDelaysMs ?? [500, 2000];
  const coalesceMs = deps.forcedRenewalCoalesceMs ?? 1000;
  const authorityOrigin = credentials.authority.replace(/\/+$/, "");
  const logger = deps.logger.child({ component: "auth", authority: authorityOrigin });

  const scrubber = new SecretScrubber();
  scrubber.remember(credentials.clientSecret);
  scrubber.remember(credentials.refreshToken);

  const cache = deps.tokenCache;
  const app = createPartnerMsalApp(credentials, { logger, scrubber, cachePlugin: cache?.plugin, networkClient: deps.networkClient });
  const scopes = [userImpersonationScope(deps.apiBaseUrl)];
  /** Where the refresh token of the first sign-in came from; undefined until then. */
  let refreshTokenSource: "token-cache" | "environment" | undefined;

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
    if (cache) {
      // Reads the file again: another run sharing it may have rotated the refresh token.
      account = (await app.getTokenCache().getAllAccounts())[0] ?? null;
      refreshTokenSource ??= account ? "token-cache" : "environment";
    } else {
      refreshTokenSource ??= "environment";
    }
    if (account) {
      // forceRefresh: we renew only when our own margin says so; MSAL's cache check (300 s
      // offset) would otherwise hand back the cached token or refresh on every call.
      return app.acquireTokenSilent({ account, scopes, forceRefresh: true });
    }
    if (!credentials.refreshToken) {
      throw new CredentialsRefusedError(
        "no_refresh_token",
        `The token cache ${cache?.path ?? ""} holds no refresh token and PARTNER_CENTER_REFRESH_TOKEN is not set: ` +
          "sign in with license-runner login --token-cache FILE (a partner admin consents, with MFA).",
      );
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
        const result = cache ? await cache.exclusive(acquire) : await acquire();
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
    signInReport(): SignInReport | undefined {
      if (!refreshTokenSource) return undefined;
      return buildSignInReport(
        {
          refreshTokenSource,
          tokenCachePath: cache?.path,
          refreshTokenIssuedAt: cache?.refreshTokenIssuedAt(),
          tokenCacheWriteError: cache?.lastWriteError(),
        },
        Date.now(),
      );
    },
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
