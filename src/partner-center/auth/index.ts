// The credentials of a run and the access token provider built from them: the only entry point
// the rest of the project uses for authentication.
import type { Logger } from "pino";
import type { CredentialsConfig } from "./credentials-from-env.js";
import { createMsalTokenProvider, type MsalTokenProviderDeps, type SignInTokenProvider } from "./msal-token-provider.js";
import { createStaticTokenProvider } from "./static-token-provider.js";

export { appIdentityFromEnv, credentialsFromEnv, DEFAULT_AUTHORITY, type CredentialsConfig, type CredentialsFromEnv } from "./credentials-from-env.js";
export type { MsalNetworkClient } from "./msal-app.js";
export type { SignInTokenProvider } from "./msal-token-provider.js";
export { renderSignInLines, type SignInReport } from "./sign-in-report.js";
export { TokenCacheFile } from "./token-cache-file.js";
export { CredentialsRefusedError } from "./credentials-refused.js";
export { SecretScrubber } from "./msal-logging.js";
export type { MsalTokenProviderDeps } from "./msal-token-provider.js";

export function createAccessTokenProvider(
  credentials: CredentialsConfig,
  deps: { logger: Logger; now?: () => number } & Omit<MsalTokenProviderDeps, "logger" | "now">,
): SignInTokenProvider {
  switch (credentials.kind) {
    case "access-token":
      return { ...createStaticTokenProvider(credentials.accessToken), signInReport: () => undefined };
    case "app+user":
      return createMsalTokenProvider(credentials, deps);
  }
}
