// The credentials of a run and the access token provider built from them: the only entry point
// the rest of the project uses for authentication.
import type { Logger } from "pino";
import type { AccessTokenProvider } from "../api.js";
import type { CredentialsConfig } from "./credentials-from-env.js";
import { createMsalTokenProvider, type MsalTokenProviderDeps } from "./msal-token-provider.js";
import { createStaticTokenProvider } from "./static-token-provider.js";

export { credentialsFromEnv, DEFAULT_AUTHORITY, type CredentialsConfig, type CredentialsFromEnv } from "./credentials-from-env.js";
export { CredentialsRefusedError } from "./credentials-refused.js";
export { SecretScrubber } from "./msal-logging.js";
export type { MsalTokenProviderDeps } from "./msal-token-provider.js";

export function createAccessTokenProvider(
  credentials: CredentialsConfig,
  deps: { logger: Logger; now?: () => number } & Omit<MsalTokenProviderDeps, "logger" | "now">,
): AccessTokenProvider {
  switch (credentials.kind) {
    case "access-token":
      return createStaticTokenProvider(credentials.accessToken);
    case "app+user":
      return createMsalTokenProvider(credentials, deps);
  }
}
