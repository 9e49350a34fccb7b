// The emulator's identity endpoint: an https server on loopback that MSAL talks to as it would to
// Microsoft Entra ID (login.microsoftonline.com or a sovereign cloud's authority host). Serves the
// tenant's OpenID configuration, the authorize endpoint of the consent (authorization.ts) and a v2.0
// token endpoint for refresh_token and authorization_code grants; owns the TLS certificate made at
// start and the endpoint's counters. Access tokens it mints go into the shared
// TokenStore, which the Partner Center side of the emulator checks.
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { IdentityState } from "../state-file.js";
import type { TokenStore } from "../token-store.js";
import { aadErrorBody, openIdConfiguration } from "./aad-responses.js";
import { AuthorizationEndpoint } from "./authorization.js";
import { makeLoopbackCertificate } from "./certificate.js";
import { RefreshTokenRegistry, type RefreshTokenUsePolicy } from "./refresh-token-registry.js";
import { IdentityLedger, type IdentityCounter } from "./identity-ledger.js";
import { readBody, sendAuthorize, sendJson } from "./identity-http-io.js";
import { answerTokenRequest } from "./token-grant.js";

export const DEFAULT_ACCESS_TOKEN_LIFETIME_SECONDS = 3600;
/** A rotated refresh token keeps working this long (see README): shards started together share one. */
export const DEFAULT_ROTATION_GRACE_SECONDS = 600;
/** Tenants MSAL may put in the path besides the partner tenant itself. */
const MULTI_TENANT_ALIASES = new Set(["organizations", "common"]);

export interface RunningIdentityServer {
  /** `https://127.0.0.1:PORT`: what PARTNER_CENTER_AUTHORITY is set to. */
  authorityHost: string;
  /** `${authorityHost}/${partnerTenantId}` */
  authority: string;
  port: number;
  caCertPem: string;
  /** A temp file holding caCertPem, for NODE_EXTRA_CA_CERTS; removed by close(). */
  caCertPath: string;
  /**
   * tokenRequests, tokensIssued, refreshTokensRotated, supersededRefreshTokensRedeemed,
   * invalidGrant, invalidClient, unauthorizedClient, invalidRequest, invalidScope,
   * unsupportedGrantType, invalidTenant, openIdConfigurationRequests, notFound, authorizeRequests,
   * consentsAccepted, consentsDeclined, codesRedeemed, codesRefused, pkceMismatches.
   */
  counters(): Record<string, number>;
  /** Lifetime of access tokens minted from now on (tests shorten it to force renewals). */
  setAccessTokenLifetime(seconds: number): void;
  /** Revoke every refresh token, as when the partner withdraws consent mid-run. */
  revokeAllRefreshTokens(): void;
  /**
   * The most recent access and refresh tokens and authorization codes this server issued, and the
   * PKCE code verifiers presented to it (the last 1,000 of each), so tests can check that none of
   * them leaks into a client's logs or outputs.
   */
  issuedTokens(): { accessTokens: string[]; refreshTokens: string[]; codes: string[]; codeVerifiers: string[] };
  close(): Promise<void>;
}

export interface IdentityServerOptions {
  identity: IdentityState;
  partnerTenantId: string;
  tokens: TokenStore;
  /** Default 127.0.0.1. */
  host?: string;
  now?: () => number;
  /** Seconds a rotated refresh token still works; default 600. 0: only the newest works. */
  rotationGraceSeconds?: number;
  /** Added before every token answer (AAD takes its time too); default 0. */
  tokenLatencyMs?: number;
  /** When a used refresh token expires; overrides the state's refreshTokenMaxUses / refreshTokenExpirySecondsAfterUse. */
  refreshTokenUse?: RefreshTokenUsePolicy;
}

export async function startIdentityServer(options: IdentityServerOptions): Promise<RunningIdentityServer> {
  const now = options.now ?? Date.now;
  const host = options.host ?? "127.0.0.1";
  let accessTokenLifetimeSeconds = options.identity.accessTokenLifetimeSeconds ?? DEFAULT_ACCESS_TOKEN_LIFETIME_SECONDS;
  const refreshTokens = new RefreshTokenRegistry(
    options.identity,
    now,
    options.rotationGraceSeconds ?? DEFAULT_ROTATION_GRACE_SECONDS,
    {
      maxUses: options.refreshTokenUse?.maxUses ?? options.identity.refreshTokenMaxUses,
      expirySecondsAfterUse: options.refreshTokenUse?.expirySecondsAfterUse ?? options.identity.refreshTokenExpirySecondsAfterUse,
    },
  );
  const authorization = new AuthorizationEndpoint(options.identity.clients, options.partnerTenantId, now);
  const ledger = new IdentityLedger();
  const count = (name: IdentityCounter): void => ledger.count(name);

  const certificate = await makeLoopbackCertificate();
  let authorityHost = ""; // known once listening

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "https://emulator.invalid");
    const segments = url.pathname.split("/").filter(Boolean);
    const tenant = segments[0] ?? "";
    const route = segments.slice(1).join("/");

    const knownRoute =
      (req.method === "GET" && (route === "v2.0/.well-known/openid-configuration" || route === ".well-known/openid-configuration")) ||
      (req.method === "POST" && route === "oauth2/v2.0/token") ||
      ((req.method === "GET" || req.method === "POST") && route === "oauth2/v2.0/authorize") ||
      (req.method === "GET" && route === "discovery/v2.0/keys");
    if (!knownRoute) {
      count("notFound");
      return sendJson(res, 404, { error: "not_found", error_description: `The emulator's identity endpoint does not serve ${req.method} ${url.pathname}.` });
    }
    if (!isServedTenant(tenant, options.partnerTenantId)) {
      count("invalidTenant");
      if (route === "oauth2/v2.0/token") {
        count("tokenRequests");
        await readBody(req).catch(() => "");
      }
      return sendJson(
        res,
        400,
        aadErrorBody(
          {
            status: 400,
            error: "invalid_tenant",
            aadsts: 90002,
            text: `Tenant '${tenant}' not found. This emulator serves the partner tenant '${options.partnerTenantId}' only: check PARTNER_CENTER_TENANT_ID.`,
          },
          now(),
        ),
      );
    }

    if (route.endsWith("openid-configuration")) {
      count("openIdConfigurationRequests");
      // Under the name it was reached by (a proxy-only host name, say), as a real authority does:
      // MSAL checks the issuer against the authority it was given.
      const host = req.headers.host;
      return sendJson(res, 200, openIdConfiguration(host && /^[a-z0-9.:[\]-]+$/i.test(host) ? `https://${host}` : authorityHost, tenant));
    }
    if (route === "discovery/v2.0/keys") return sendJson(res, 200, { keys: [] });
    if (route === "oauth2/v2.0/authorize") {
      if (req.method === "GET") {
        count("authorizeRequests");
        return sendAuthorize(res, authorization.begin(url.searchParams, url.pathname));
      }
      const form = await readBody(req).catch(() => "");
      const answer = authorization.submit(new URLSearchParams(form));
      if (answer.kind === "redirect") count(answer.outcome === "consented" ? "consentsAccepted" : "consentsDeclined");
      if (answer.kind === "redirect") ledger.remember("codes", new URL(answer.location).searchParams.get("code"));
      return sendAuthorize(res, answer);
    }

    count("tokenRequests");
    let body: string;
    try {
      body = await readBody(req);
    } catch {
      count("invalidRequest");
      return sendJson(res, 413, aadErrorBody({ status: 413, error: "invalid_request", aadsts: 90056, text: "The request body is too large." }, now()));
    }
    if (options.tokenLatencyMs) await new Promise((resolve) => setTimeout(resolve, options.tokenLatencyMs));
    const params = new URLSearchParams(body);
    ledger.remember("codeVerifiers", params.get("code_verifier"));
    const answer = answerTokenRequest(params, {
      clients: options.identity.clients,
      refreshTokens,
      authorization,
      tokens: options.tokens,
      accessTokenLifetimeSeconds,
      tenantId: options.partnerTenantId,
      issuer: `${authorityHost}/${options.partnerTenantId}/v2.0`,
      now,
    });
    ledger.recordTokenAnswer(answer);
    return sendJson(res, answer.status, answer.body);
  };

  const server: Server = createServer({ key: certificate.keyPem, cert: certificate.certPem }, (req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) sendJson(res, 500, { error: "server_error", error_description: "AADSTS90033: A transient error has occurred in the emulator." });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  authorityHost = `https://${host.includes(":") ? `[${host}]` : host}:${port}`;

  return {
    authorityHost,
    authority: `${authorityHost}/${options.partnerTenantId}`,
    port,
    caCertPem: certificate.certPem,
    caCertPath: certificate.certPath,
    counters: () => ledger.snapshot(),
    setAccessTokenLifetime: (seconds: number) => {
      accessTokenLifetimeSeconds = seconds;
    },
    revokeAllRefreshTokens: () => refreshTokens.revokeAll(),
    issuedTokens: () => ledger.issuedSecrets(),
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // keep-alive sockets of fetch would hold close() open
      });
      await certificate.dispose();
    },
  };
}

function isServedTenant(tenant: string, partnerTenantId: string): boolean {
  const t = tenant.toLowerCase();
  return t === partnerTenantId.toLowerCase() || MULTI_TENANT_ALIASES.has(t);
}
