// End-to-end sign-in tests: an emulator with its identity (token) server, the App+User
// environment a partner sets, one CLI run with all its outputs collected (results, summary JSON,
// GITHUB_STEP_SUMMARY), and the secrets a run must never show.
import { readFile, writeFile } from "node:fs/promises";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { afterEach } from "vitest";
import type { EmulatorStateFile, StateCustomer, StaticAccessToken } from "../../dist/emulator/state-file.js";
import { cleanEnv, readableStderr, readResults, runCli, startCli, type CliRun, type ResultRow } from "./cli.js";
import { startTestEmulator, type RunningEmulator } from "./emulator.js";
import type { EmulatorOptions } from "../../dist/emulator/server.js";
import { roster } from "./state-builder.js";
import { tempDir } from "./temp-dir.js";

export const PARTNER_TENANT_ID = "7e2a4c61-1b3d-4e5f-8a9b-0c1d2e3f4a5b";
export const CLIENT_ID = "3c4d5e6f-0000-4000-8000-0000000e2e01";
export const CLIENT_SECRET = "Zk7~e2e-client-SECRET-value-4b3a2f1e0d9c";
/** Known to the emulator under CLIENT_ID with another secret: the "wrong secret" of a run. */
export const WRONG_CLIENT_SECRET = "Wq1~e2e-wrong-SECRET-value-8h7g6f5e4d3c";
export const REFRESH_TOKEN = "1.AXoB-e2e-partner-REFRESH-token-value-9a8b7c6d5e4f";
export const EXPIRED_REFRESH_TOKEN = "1.AXoB-e2e-expired-REFRESH-token-value-1q2w3e";
export const REVOKED_REFRESH_TOKEN = "1.AXoB-e2e-revoked-REFRESH-token-value-4r5t6y";
export const APP_ONLY_REFRESH_TOKEN = "1.AXoB-e2e-app-only-REFRESH-token-value-7u8i9o";
export const NO_MFA_REFRESH_TOKEN = "1.AXoB-e2e-no-mfa-REFRESH-token-value-0p1a2s";
export const BLOCKED_REFRESH_TOKEN = "1.AXoB-e2e-ca-blocked-REFRESH-token-value-3d4f5g";

/** Static access tokens of every kind the API judges (PARTNER_CENTER_ACCESS_TOKEN runs). */
export const STATIC = {
  appUser: "eyJ0eXAi.e2e-static-APPUSER-access-token.sig1",
  appOnly: "eyJ0eXAi.e2e-static-APPONLY-access-token.sig2",
  blocked: "eyJ0eXAi.e2e-static-CA-BLOCKED-access-token.sig3",
  noMfa: "eyJ0eXAi.e2e-static-NO-MFA-access-token.sig4",
  expired: "eyJ0eXAi.e2e-static-EXPIRED-access-token.sig5",
} as const;

/** Every secret value the state file knows: none may ever appear in a run's output. */
export const KNOWN_SECRETS: readonly string[] = [
  CLIENT_SECRET,
  WRONG_CLIENT_SECRET,
  REFRESH_TOKEN,
  EXPIRED_REFRESH_TOKEN,
  REVOKED_REFRESH_TOKEN,
  APP_ONLY_REFRESH_TOKEN,
  NO_MFA_REFRESH_TOKEN,
  BLOCKED_REFRESH_TOKEN,
  ...Object.values(STATIC),
];

export interface AuthStateOptions {
  accessTokenLifetimeSeconds?: number;
  /** Extra static access tokens (e.g. one expiring during the run). */
  accessTokens?: StaticAccessToken[];
}

/** A state with the partner tenant, one confidential client, refresh tokens of every kind and static tokens. */
export function authState(customers: StateCustomer[], options: AuthStateOptions = {}): EmulatorStateFile {
  return {
    partner: { tenantId: PARTNER_TENANT_ID, name: "E2E Partner" },
    accessTokens: [
      { token: STATIC.appUser, kind: "app+user" },
      { token: STATIC.appOnly, kind: "app-only" },
      { token: STATIC.blocked, kind: "conditional-access-blocked" },
      { token: STATIC.noMfa, kind: "no-mfa" },
      { token: STATIC.expired, kind: "app+user", expiresAt: "2020-01-01T00:00:00Z" },
      ...(options.accessTokens ?? []),
    ],
    identity: {
      clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }],
      refreshTokens: [
        { token: REFRESH_TOKEN, clientId: CLIENT_ID },
        { token: EXPIRED_REFRESH_TOKEN, clientId: CLIENT_ID, expiresAt: "2020-01-01T00:00:00Z" },
        { token: REVOKED_REFRESH_TOKEN, clientId: CLIENT_ID, revoked: true },
        { token: APP_ONLY_REFRESH_TOKEN, clientId: CLIENT_ID, kind: "app-only" },
        { token: NO_MFA_REFRESH_TOKEN, clientId: CLIENT_ID, kind: "no-mfa" },
        { token: BLOCKED_REFRESH_TOKEN, clientId: CLIENT_ID, kind: "conditional-access-blocked" },
      ],
      ...(options.accessTokenLifetimeSeconds === undefined ? {} : { accessTokenLifetimeSeconds: options.accessTokenLifetimeSeconds }),
    },
    customers,
  };
}

export type IdentityEmulator = RunningEmulator & { identity: NonNullable<RunningEmulator["identity"]> };

export async function startIdentityEmulator(options: Omit<EmulatorOptions, "identity">): Promise<IdentityEmulator> {
  const emulator = await startTestEmulator({ ...options, identity: true });
  if (!emulator.identity) throw new Error("the emulator started without its identity server");
  return emulator as IdentityEmulator;
}

/**
 * For a test file whose tests each start their own emulator with its identity server: the
 * returned function starts one (closing the one before) and every test's emulator is closed after it.
 */
export function useIdentityEmulator(): (options: Omit<EmulatorOptions, "identity">) => Promise<IdentityEmulator> {
  let running: IdentityEmulator | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });
  return async (options) => {
    await running?.close();
    running = await startIdentityEmulator(options);
    return running;
  };
}

/** The environment of an App+User run through MSAL against the emulator's identity server. */
export function appUserEnv(emulator: IdentityEmulator, overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return cleanEnv({
    NODE_EXTRA_CA_CERTS: emulator.identity.caCertPath,
    PARTNER_CENTER_AUTHORITY: emulator.identity.authorityHost,
    PARTNER_CENTER_TENANT_ID: PARTNER_TENANT_ID,
    PARTNER_CENTER_CLIENT_ID: CLIENT_ID,
    PARTNER_CENTER_CLIENT_SECRET: CLIENT_SECRET,
    PARTNER_CENTER_REFRESH_TOKEN: REFRESH_TOKEN,
    ...overrides,
  });
}

/** The environment of a run with a ready access token (no renewal possible). */
export function staticTokenEnv(token: string): NodeJS.ProcessEnv {
  return cleanEnv({ PARTNER_CENTER_ACCESS_TOKEN: token });
}

export interface AuthRun {
  run: CliRun;
  results: ResultRow[];
  /** The --summary-json file's text ("" when not written). */
  summaryJson: string;
  /** The GITHUB_STEP_SUMMARY file's text ("" when not written). */
  stepSummary: string;
  resultsText: string;
}

/** One `run` of the built CLI against the emulator with the roster rows [customerId, userId, sku, action?]. */
export async function runRoster(
  emulator: RunningEmulator,
  rows: readonly (readonly string[])[],
  env: NodeJS.ProcessEnv,
  extraArgs: string[] = [],
): Promise<AuthRun> {
  const dir = await tempDir("lr-e2e-auth-");
  const input = join(dir, "roster.csv");
  const output = join(dir, "results.csv");
  const summaryPath = join(dir, "summary.json");
  const stepSummaryPath = join(dir, "step-summary.md");
  await writeFile(input, roster(rows));
  await writeFile(stepSummaryPath, "");
  const run = await runCli(
    ["run", "--input", input, "--output", output, "--base-url", emulator.url, "--summary-json", summaryPath, "--log-format", "json", "--no-progress", ...extraArgs],
    { env: { ...env, GITHUB_STEP_SUMMARY: stepSummaryPath } },
  );
  const read = (path: string): Promise<string> => readFile(path, "utf8").catch(() => "");
  const resultsText = await read(output);
  const results = resultsText ? await readResults(output) : [];
  return { run, results, resultsText, summaryJson: await read(summaryPath), stepSummary: await read(stepSummaryPath) };
}

/** Every place a secret could leak to from a run, labelled. */
export function outputsOf(run: AuthRun): Record<string, string> {
  return { stdout: run.run.stdout, stderr: run.run.stderr, results: run.resultsText, summaryJson: run.summaryJson, stepSummary: run.stepSummary };
}

/** "where: secret-prefix" for every secret found in any output; [] when clean. */
export function leaks(run: AuthRun, secrets: readonly string[]): string[] {
  const found: string[] = [];
  for (const [where, text] of Object.entries(outputsOf(run))) {
    for (const secret of secrets) {
      if (secret && text.includes(secret)) found.push(`${where}: ${secret.slice(0, 12)}...`);
    }
  }
  return found;
}

/** The lines of stderr that are not pino JSON: what a person reads (the summary, the stop line). */
export function humanStderr(stderr: string): string {
  return readableStderr(stderr)
    .split("\n")
    .filter((line) => !line.startsWith("{"))
    .join("\n");
}

/** Each roster line (2..rows+1) has exactly one results line. */
export function linesOf(results: ResultRow[]): number[] {
  return results.map((r) => Number(r.line)).sort((a, b) => a - b);
}

export function rosterLines(rowCount: number): number[] {
  return Array.from({ length: rowCount }, (_, i) => i + 2);
}

type TokenStoreCheck = RunningEmulator["tokens"]["check"];
type TokenCheckResult = ReturnType<TokenStoreCheck>;

/**
 * Lets a test change what the emulator's API side decides about bearer tokens from the n-th
 * check on (a token that turns app-only or blocked mid-run, consent revoked mid-run, a clock
 * jump): `judge` sees the real verdict and the 1-based number of the check.
 */
export function interceptTokenChecks(emulator: RunningEmulator, judge: (verdict: TokenCheckResult, checkNumber: number) => TokenCheckResult): void {
  const store = emulator.tokens;
  const original = store.check.bind(store);
  let checks = 0;
  store.check = (authorization: string | undefined) => judge(original(authorization), ++checks);
}

/** One entry of the emulator's request log (GET /_emulator/log). */
import type { RequestLogEntry as LogEntry } from "../../dist/emulator/request-log.js";
export type { LogEntry };

// ---- login and the token cache (the consent of the secure application model) ----

/** The environment of `login` (and of runs that take the refresh token from the cache): the app, no refresh token. */
export function loginEnv(emulator: IdentityEmulator, overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = appUserEnv(emulator, overrides);
  if (!("PARTNER_CENTER_REFRESH_TOKEN" in overrides)) delete env.PARTNER_CENTER_REFRESH_TOKEN;
  return env;
}

export interface LoginProcess {
  /** The sign-in URL `login` printed on a line of its own on stderr. */
  signInUrl: Promise<string>;
  done: Promise<CliRun>;
}

/** Starts `license-runner login` (never a real browser) and watches its stderr for the sign-in URL. */
export function startLogin(emulator: IdentityEmulator, args: string[], env: NodeJS.ProcessEnv): LoginProcess {
  const { child, done } = startCli(["login", "--no-browser", ...args], { env: { ...env, DISPLAY: "", WAYLAND_DISPLAY: "" } });
  let seen = "";
  const signInUrl = new Promise<string>((resolve, reject) => {
    child.stderr!.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      const line = seen.split("\n").find((l) => l.startsWith(`${emulator.identity.authorityHost}/`));
      if (line) resolve(line.trim());
    });
    void done.then(() => reject(new Error(`login ended without printing a sign-in URL:\n${seen}`)));
  });
  signInUrl.catch(() => undefined);
  return { signInUrl, done };
}

interface IdentityAnswer {
  status: number;
  location: string | undefined;
  body: string;
}

/** One request to the emulator's identity endpoint as a browser makes it (its certificate trusted; redirects not followed). */
export function identityRequest(emulator: IdentityEmulator, url: string, form?: Record<string, string>): Promise<IdentityAnswer> {
  const body = form ? new URLSearchParams(form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method: form ? "POST" : "GET",
        ca: emulator.identity.caCertPem,
        headers: form ? { "content-type": "application/x-www-form-urlencoded", "content-length": Buffer.byteLength(body!) } : {},
      },
      (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => (text += chunk.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body: text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

export interface ConsentChoice {
  decision: "accept" | "decline";
  user?: string;
  mfa?: boolean;
  /** Rewrites the state of the redirect before following it (a forged or stale answer). */
  tamperState?: boolean;
}

export interface BrowserVisit {
  /** The redirect the identity endpoint sent the browser to (the login's loopback listener). */
  redirect: URL;
  listenerStatus: number;
  listenerPage: string;
}

/** Plays the browser: opens the sign-in URL, submits the consent form, follows the redirect to the listener. */
export async function playBrowser(emulator: IdentityEmulator, signInUrl: string, choice: ConsentChoice): Promise<BrowserVisit> {
  const page = await identityRequest(emulator, signInUrl);
  if (page.status !== 200) throw new Error(`the authorize endpoint answered ${page.status}: ${page.body}`);
  const action = /<form method="post" action="([^"]+)"/.exec(page.body)?.[1];
  const requestId = /name="request" value="([^"]+)"/.exec(page.body)?.[1];
  if (!action || !requestId) throw new Error(`no consent form on the page:\n${page.body}`);
  const form: Record<string, string> = { request: requestId, user: choice.user ?? "admin@partner.emulator.local", decision: choice.decision };
  if (choice.mfa ?? true) form.mfa = "1";
  const submitted = await identityRequest(emulator, new URL(action, signInUrl).toString(), form);
  if (submitted.status !== 302 || !submitted.location) throw new Error(`the consent form answered ${submitted.status}: ${submitted.body}`);
  const redirect = new URL(submitted.location);
  if (choice.tamperState) redirect.searchParams.set("state", "forged-state-value");
  const listener = await fetch(redirect);
  return { redirect, listenerStatus: listener.status, listenerPage: await listener.text() };
}

/** Every secret the emulator knows or handed out: none may appear in any output of a run or a login. */
export function everySecret(emulator: IdentityEmulator): string[] {
  const issued = emulator.identity.issuedTokens();
  return [...KNOWN_SECRETS, ...issued.accessTokens, ...issued.refreshTokens, ...issued.codes, ...issued.codeVerifiers];
}

/** "where: secret-prefix" for every secret found in the texts; [] when clean. */
export function leaksIn(texts: Record<string, string>, secrets: readonly string[]): string[] {
  const found: string[] = [];
  for (const [where, text] of Object.entries(texts)) {
    for (const secret of secrets) if (secret && text.includes(secret)) found.push(`${where}: ${secret.slice(0, 12)}...`);
  }
  return found;
}
