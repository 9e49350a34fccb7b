// The one place a ConfidentialClientApplication is built, for the run's token provider and for
// `login`: the partner's Entra app at its authority, MSAL's logging routed through the scrubber,
// the token cache plugin when there is a cache file, and the network client the caller passes in
// (the proxy-aware one, when there is one).
import { ConfidentialClientApplication, type ICachePlugin, type INetworkModule } from "@azure/msal-node";
import type { Logger } from "pino";
import { msalLoggerOptions, type SecretScrubber } from "./msal-logging.js";

/** What MSAL sends its HTTP requests through; undefined: MSAL's own client. */
export type MsalNetworkClient = INetworkModule;

export interface PartnerAppIdentity {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** Authority origin, e.g. https://login.microsoftonline.com or a sovereign cloud's host. */
  authority: string;
}

export interface MsalAppOptions {
  logger: Logger;
  scrubber: SecretScrubber;
  cachePlugin?: ICachePlugin | undefined;
  networkClient?: MsalNetworkClient | undefined;
}

export function createPartnerMsalApp(app: PartnerAppIdentity, options: MsalAppOptions): ConfidentialClientApplication {
  const authorityOrigin = app.authority.replace(/\/+$/, "");
  return new ConfidentialClientApplication({
    auth: {
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      authority: `${authorityOrigin}/${app.tenantId}`,
      // A known authority skips instance discovery on login.microsoftonline.com: MSAL reads the
      // OpenID configuration from this host itself (sovereign clouds, the emulator).
      knownAuthorities: [new URL(authorityOrigin).host],
    },
    ...(options.cachePlugin ? { cache: { cachePlugin: options.cachePlugin } } : {}),
    system: {
      loggerOptions: msalLoggerOptions(options.logger, options.scrubber),
      ...(options.networkClient ? { networkClient: options.networkClient } : {}),
    },
  });
}
