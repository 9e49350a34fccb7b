// The emulator's identity endpoint: an https server on loopback that MSAL talks to as it would to
// Microsoft Entra ID (login.microsoftonline.com or a sovereign cloud's authority host). Serves the
// tenant's OpenID configuration, the authorize endpoint of the consent (authorization.ts) and a v2.0
// token endpoint for refresh_token and authorization_code grants; owns the TLS certificate made at
// start and the endpoint's counters. Access tokens it mints go into the shared
// TokenStore, which the Partner Center side of the emulator checks.
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { IdentityState } from "../state-file.js";
import type { TokenStore } from "../token-store.js";
import { aadErrorBody, openIdConfiguration } from "./aad-responses.js";
import { AuthorizationEndpoint, type AuthorizeAnswer } from "./authorization.js";
import { makeLoopbackCertificate } from "./certificate.js";
import { RefreshTokenRegistry, type RefreshTokenUsePolicy } from "./refresh-token-registry.js";
import { answerTokenRequest, type GrantOutcome } from "./token-grant.js";

export const DEFAULT_ACCESS_TOKEN_LIFETIME_SECONDS = 3600;
/** A rotated refresh token keeps working this long (see README): shards started together share one. */
export const DEFAULT_ROTATION_GRACE_SECONDS = 600;
const MAX_BODY_BYTES = 64 * 1024;
/** How many issued tokens of each kind issuedTokens() remembers: bounded for long-running emulators. */
const ISSUED_MEMORY = 1000;
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

const COUNTER_BY_OUTCOME: Record<GrantOutcome, string> = {
  issued: "tokensIssued",
  invalid_grant: "invalidGrant",
  invalid_client: "invalidClient",
  unauthorized_client: "unauthorizedClient",
  invalid_request: "invalidRequest",
  invalid_scope: "invalidScope",
  unsupported_grant_type: "unsupportedGrantType",
};

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
  const counters: Record<string, number> = {
    tokenRequests: 0,
    tokensIssued: 0,
    refreshTokensRotated: 0,
    supersededRefreshTokensRedeemed: 0,
    invalidGrant: 0,
    invalidClient: 0,
    unauthorizedClient: 0,
    invalidRequest: 0,
    invalidScope: 0,
    unsupportedGrantType: 0,
    invalidTenant: 0,
    openIdConfigurationRequests: 0,
    notFound: 0,
    authorizeRequests: 0,
    consentsAccepted: 0,
    consentsDeclined: 0,
    codesRedeemed: 0,
    codesRefused: 0,
    pkceMismatches: 0,
  };
  const count = (name: string): void => {
    counters[name] = (counters[name] ?? 0) + 1;
  };

  const issuedAccessTokens: string[] = [];
  const issuedRefreshTokens: string[] = [];
  const issuedCodes: string[] = [];
  const presentedCodeVerifiers: string[] = [];
  const remember = (list: string[], token: unknown): void => {
    if (typeof token !== "string") return;
    list.push(token);
    if (list.length > ISSUED_MEMORY) list.shift();
  };

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
      if (answer.kind === "redirect") remember(issuedCodes, new URL(answer.location).searchParams.get("code") ?? undefined);
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
    remember(presentedCodeVerifiers, params.get("code_verifier") ?? undefined);
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
    count(COUNTER_BY_OUTCOME[answer.outcome]);
    if (answer.outcome === "issued") {
      remember(issuedAccessTokens, answer.body.access_token);
      remember(issuedRefreshTokens, answer.body.refresh_token);
    }
    if (answer.code === "redeemed") count("codesRedeemed");
    if (answer.code === "refused" || answer.code === "pkce-mismatch") count("codesRefused");
    if (answer.code === "pkce-mismatch") count("pkceMismatches");
    if (answer.rotated) {
      count("refreshTokensRotated");
      if (answer.rotated.presentedWasSuperseded) count("supersededRefreshTokensRedeemed");
    }
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
    counters: () => ({ ...counters }),
    setAccessTokenLifetime: (seconds: number) => {
      accessTokenLifetimeSeconds = seconds;
    },
    revokeAllRefreshTokens: () => refreshTokens.revokeAll(),
    issuedTokens: () => ({
      accessTokens: [...issuedAccessTokens],
      refreshTokens: [...issuedRefreshTokens],
      codes: [...issuedCodes],
      codeVerifiers: [...presentedCodeVerifiers],
    }),
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

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(payload),
    // Token responses must never be cached by anything in between (RFC 6749 5.1).
    "cache-control": "no-store, no-cache",
    pragma: "no-cache",
    "x-ms-request-id": randomUUID(),
  });
  res.end(payload);
}

/** The consent page, or the browser's redirect back to the client's loopback listener. */
function sendAuthorize(res: ServerResponse, answer: AuthorizeAnswer): void {
  if (answer.kind === "redirect") {
    res.writeHead(302, { location: answer.location, "cache-control": "no-store", "content-length": 0 });
    res.end();
    return;
  }
  res.writeHead(answer.status, {
    "content-type": "text/html; charset=utf-8",
    "content-length": Buffer.byteLength(answer.html),
    "cache-control": "no-store",
    // No scripts, styles or frames: the page is one plain form (no form-action: the browser must
    // follow the redirect to the client's loopback listener).
    "content-security-policy": "default-src 'none'",
    "x-frame-options": "DENY",
  });
  res.end(answer.html);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error("body too large"));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
