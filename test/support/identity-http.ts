// Shared by the auth tests: an identity state, direct https calls to the identity server (trusting
// its certificate), and running the token provider in a child process (msal-driver.mjs).
import { spawn } from "node:child_process";
import { request } from "node:https";
import { fileURLToPath } from "node:url";
import type { IdentityState } from "../../dist/emulator/state-file.js";

export const PARTNER_TENANT_ID = "6f1d2b3c-4a5e-4f60-8a7b-9c0d1e2f3a4b";
export const CLIENT_ID = "0a1b2c3d-0000-4000-8000-00000000c11e";
export const CLIENT_SECRET = "Xq8~client-secret-VALUE-0f9e8d7c6b5a";
export const OTHER_CLIENT_ID = "0a1b2c3d-0000-4000-8000-0000000000b2";
export const OTHER_CLIENT_SECRET = "Yr9~other-secret-VALUE-1a2b3c4d5e6f";
export const REFRESH_TOKEN = "0.AXoA-partner-refresh-token-VALUE-abc123def456";
export const EXPIRED_REFRESH_TOKEN = "0.AXoA-expired-refresh-token-VALUE-987zyx";
export const REVOKED_REFRESH_TOKEN = "0.AXoA-revoked-refresh-token-VALUE-555qqq";
export const APP_ONLY_REFRESH_TOKEN = "0.AXoA-app-only-refresh-token-VALUE-777www";
export const OTHER_CLIENT_REFRESH_TOKEN = "0.AXoA-other-client-refresh-token-VALUE-31x";

export const ALL_SECRETS = [CLIENT_SECRET, OTHER_CLIENT_SECRET, REFRESH_TOKEN, EXPIRED_REFRESH_TOKEN, REVOKED_REFRESH_TOKEN, OTHER_CLIENT_REFRESH_TOKEN];

export function identityState(accessTokenLifetimeSeconds?: number): IdentityState {
  return {
    clients: [
      { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
      { clientId: OTHER_CLIENT_ID, clientSecret: OTHER_CLIENT_SECRET },
    ],
    refreshTokens: [
      { token: REFRESH_TOKEN, clientId: CLIENT_ID },
      { token: EXPIRED_REFRESH_TOKEN, clientId: CLIENT_ID, expiresAt: "2020-01-01T00:00:00Z" },
      { token: REVOKED_REFRESH_TOKEN, clientId: CLIENT_ID, revoked: true },
      { token: APP_ONLY_REFRESH_TOKEN, clientId: CLIENT_ID, kind: "app-only" },
      { token: OTHER_CLIENT_REFRESH_TOKEN, clientId: OTHER_CLIENT_ID },
    ],
    ...(accessTokenLifetimeSeconds === undefined ? {} : { accessTokenLifetimeSeconds }),
  };
}

export interface HttpsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: Record<string, unknown>;
}

/** One https call to the identity server, trusting its self-signed certificate. */
export function callIdentity(url: string, caCertPem: string, form?: Record<string, string>): Promise<HttpsAnswer> {
  const body = form ? new URLSearchParams(form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: form ? "POST" : "GET",
        ca: caCertPem,
        agent: false,
        headers: form ? { "content-type": "application/x-www-form-urlencoded", "content-length": Buffer.byteLength(body ?? "") } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(text) as Record<string, unknown> });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

export function refreshGrant(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const form: Record<string, string | undefined> = {
    grant_type: "refresh_token",
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    refresh_token: REFRESH_TOKEN,
    scope: "https://api.partnercenter.microsoft.com/user_impersonation openid profile offline_access",
    ...overrides,
  };
  return Object.fromEntries(Object.entries(form).filter((e): e is [string, string] => e[1] !== undefined));
}

export type DriverEvent =
  | { type: "token"; token: string; atMs: number }
  | { type: "error"; credentialsRefused: boolean; name: string; reason: string; aadsts?: number; message: string }
  | { type: "mark"; name: string }
  | { type: "done"; fetchedUrls: string[] };

export interface DriverScript {
  credentials: unknown;
  steps: unknown[];
  deps?: Record<string, unknown>;
  logLevel?: string;
}

export interface DriverRun {
  events: DriverEvent[];
  stdout: string;
  stderr: string;
  exitCode: number | null;
}

const DRIVER = fileURLToPath(new URL("./msal-driver.mjs", import.meta.url));

/** Runs the built provider in a child process; `onEvent` sees each event as it arrives. */
export function runDriver(script: DriverScript, caCertPath: string | undefined, onEvent?: (e: DriverEvent) => void): Promise<DriverRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, AUTH_DRIVER_SCRIPT: JSON.stringify(script) };
  delete env.NODE_EXTRA_CA_CERTS;
  if (caCertPath) env.NODE_EXTRA_CA_CERTS = caCertPath;
  const child = spawn(process.execPath, [DRIVER], { env, stdio: ["ignore", "pipe", "pipe"] });
  const events: DriverEvent[] = [];
  let stdout = "";
  let stderr = "";
  let pending = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (!line.trim()) continue;
      const event = JSON.parse(line) as DriverEvent;
      events.push(event);
      onEvent?.(event);
    }
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (exitCode) => resolve({ events, stdout, stderr, exitCode }));
  });
}

export function appUser(authorityHost: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    kind: "app+user",
    tenantId: PARTNER_TENANT_ID,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    refreshToken: REFRESH_TOKEN,
    authority: authorityHost,
    ...overrides,
  };
}

export const tokensOf = (run: DriverRun): string[] => run.events.flatMap((e) => (e.type === "token" ? [e.token] : []));
export const errorsOf = (run: DriverRun) => run.events.flatMap((e) => (e.type === "error" ? [e] : []));
