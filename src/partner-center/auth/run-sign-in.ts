// How a `run` or `plan` signs in, decided before anything is read or sent: the credentials of the
// environment, and the token cache when one is given (its permissions checked, and a refresh token
// in it or in PARTNER_CENTER_REFRESH_TOKEN required). A problem here is a configuration error
// (exit 2): nothing has been sent yet.
import type { Logger } from "pino";
import { credentialsFromEnv } from "./credentials-from-env.js";
import type { MsalNetworkClient } from "./msal-app.js";
import type { SignInTokenProvider } from "./msal-token-provider.js";
import { createStaticTokenProvider } from "./static-token-provider.js";
import { TokenCacheFile } from "./token-cache-file.js";

export interface RunSignInOptions {
  env: NodeJS.ProcessEnv;
  /** --token-cache / tokenCache / PARTNER_CENTER_TOKEN_CACHE. */
  tokenCache?: string | undefined;
  logger: Logger;
  networkClient?: MsalNetworkClient | undefined;
  /** The Partner Center base URL the tokens are for: its cloud decides the scope. */
  apiBaseUrl?: string | undefined;
}

export type RunSignIn = { ok: true; tokens: SignInTokenProvider } | { ok: false; error: string };

export async function prepareRunSignIn(options: RunSignInOptions): Promise<RunSignIn> {
  const read = credentialsFromEnv(options.env, { tokenCache: options.tokenCache });
  if (!read.ok) return read;
  const credentials = read.credentials;
  if (!credentials) {
    return {
      ok: false,
      error:
        "no credentials: set PARTNER_CENTER_ACCESS_TOKEN, or PARTNER_CENTER_TENANT_ID, PARTNER_CENTER_CLIENT_ID, " +
        "PARTNER_CENTER_CLIENT_SECRET and PARTNER_CENTER_REFRESH_TOKEN (or sign in once with license-runner login --token-cache FILE " +
        "and pass --token-cache FILE); or add --emulator to try the tool against the embedded emulator",
    };
  }
  if (credentials.kind === "access-token") {
    return { ok: true, tokens: { ...createStaticTokenProvider(credentials.accessToken), signInReport: () => undefined } };
  }

  let tokenCache: TokenCacheFile | undefined;
  if (options.tokenCache) {
    const logger = options.logger;
    tokenCache = new TokenCacheFile(options.tokenCache, {
      onLockWait: () => logger.info({ tokenCache: options.tokenCache }, "waiting for another run to finish renewing with the shared token cache"),
    });
    const checked = await tokenCache.check();
    if (!checked.ok) return checked;
    if (!checked.hasRefreshToken && !credentials.refreshToken) {
      return {
        ok: false,
        error:
          `the token cache ${options.tokenCache} holds no refresh token and PARTNER_CENTER_REFRESH_TOKEN is not set: ` +
          `sign in once with license-runner login --token-cache ${options.tokenCache}`,
      };
    }
  }
  // MSAL is loaded only here: a run signed in with an access token (a CI job, the tests) starts without it.
  const { createMsalTokenProvider } = await import("./msal-token-provider.js");
  return { ok: true, tokens: createMsalTokenProvider(credentials, { logger: options.logger, tokenCache, networkClient: options.networkClient, apiBaseUrl: options.apiBaseUrl }) };
}
