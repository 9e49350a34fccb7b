// `license-runner login`: the one-time consent that gives the runner its refresh token. Options ->
// the partner's app from the environment -> the interactive sign-in -> the token cache (and, with
// --print-refresh-token, the refresh token alone on stdout) -> exit code: 0 signed in, 2 anything
// else the user must act on (configuration, declined, state mismatch, timeout, refused).
import type { Argv } from "yargs";
import type { LogFormat, LogLevel } from "../config.js";
import { createLogger } from "../logger.js";
import { appIdentityFromEnv } from "../partner-center/auth/credentials-from-env.js";
import { renderSignedIn, renderSignInPrompt } from "../partner-center/auth/login-messages.js";
import type { MsalNetworkClient } from "../partner-center/auth/msal-app.js";
import { openInBrowser } from "../partner-center/auth/open-browser.js";
import { TokenCacheFile } from "../partner-center/auth/token-cache-file.js";

const EXIT_OK = 0;
const EXIT_USAGE = 2;
const EXIT_INTERNAL = 70;
/** How long the consent may take in the browser: sign-in, MFA prompt, consent page. */
const DEFAULT_TIMEOUT_SECONDS = 300;
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

export function loginOptions(y: Argv) {
  return y
    .option("token-cache", { type: "string", describe: "the token cache file to keep the sign-in in (mode 0600; env PARTNER_CENTER_TOKEN_CACHE)" })
    .option("print-refresh-token", { type: "boolean", describe: "write the refresh token alone to stdout (for a pipe into a secret store)" })
    .option("port", { type: "number", default: 0, describe: "port of the loopback redirect listener http://localhost:PORT (default: a free port)" })
    .option("timeout", { type: "number", default: DEFAULT_TIMEOUT_SECONDS, describe: "seconds to wait for the browser" })
    .option("browser", { type: "boolean", default: true, describe: "open the sign-in URL in a browser when there is one (--no-browser: only print it)" })
    .option("log-level", { type: "string", default: "warn", describe: "fatal|error|warn|info|debug|trace|silent" })
    .option("log-format", { choices: ["json", "pretty"] as const, describe: "pino logs on stderr (default: pretty on a terminal)" });
}

type LoginArgs = Awaited<ReturnType<typeof loginOptions>["argv"]>;

export async function loginCommand(args: LoginArgs, deps: { networkClient?: MsalNetworkClient | undefined; env?: NodeJS.ProcessEnv }): Promise<number> {
  const env = deps.env ?? process.env;
  const fail = (message: string): number => {
    process.stderr.write(`license-runner login: ${message}\n`);
    return EXIT_USAGE;
  };
  try {
    if (!LOG_LEVELS.includes(args.logLevel)) return fail(`--log-level ${args.logLevel}: expected one of ${LOG_LEVELS.join(", ")}`);
    if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) return fail(`--port ${args.port}: expected 0 (a free port) to 65535`);
    if (!(args.timeout > 0)) return fail(`--timeout ${args.timeout}: expected a positive number of seconds`);
    const tokenCachePath = args.tokenCache ?? (env.PARTNER_CENTER_TOKEN_CACHE?.trim() || undefined);
    if (!tokenCachePath && !args.printRefreshToken) {
      return fail("nowhere to keep the sign-in: give --token-cache FILE (or PARTNER_CENTER_TOKEN_CACHE), or --print-refresh-token to pipe it into a secret store");
    }
    const app = appIdentityFromEnv(env);
    if (!app.ok) return fail(app.error);

    const tokenCache = tokenCachePath ? new TokenCacheFile(tokenCachePath, { replace: true }) : undefined;
    if (tokenCache) {
      // An existing cache is replaced, but one that others can read is refused, not silently reused.
      const checked = await tokenCache.checkAccess();
      if (!checked.ok) return fail(checked.error);
    }
    const logFormat: LogFormat = args.logFormat ?? (process.stderr.isTTY ? "pretty" : "json");
    const logger = createLogger(args.logLevel as LogLevel, logFormat);
    const timeoutMs = Math.round(args.timeout * 1000);

    // MSAL is loaded for the sign-in only: every other command starts without it.
    const { loginInteractively } = await import("../partner-center/auth/login.js");
    const outcome = await loginInteractively({
      app: app.app,
      tokenCache,
      port: args.port,
      timeoutMs,
      logger,
      networkClient: deps.networkClient,
      apiBaseUrl: env.PARTNER_CENTER_BASE_URL?.trim() || undefined,
      showSignInUrl: (url, redirectUri) => process.stderr.write(renderSignInPrompt(url, redirectUri, timeoutMs)),
      openBrowser: args.browser ? (url) => openInBrowser(url, env) : undefined,
    });
    if (!outcome.ok) return fail(outcome.message);
    if (args.printRefreshToken) {
      if (!outcome.refreshToken) return fail("the identity provider answered without a refresh token: check that the app may ask for offline_access");
      process.stdout.write(process.stdout.isTTY ? `${outcome.refreshToken}\n` : outcome.refreshToken);
    }
    process.stderr.write(renderSignedIn({ username: outcome.username, tokenCache: tokenCachePath, printedRefreshToken: Boolean(args.printRefreshToken) }));
    return EXIT_OK;
  } catch (error) {
    // A bug: one line, no stack (and never a token: nothing here holds one in its message).
    process.stderr.write(`license-runner login: internal error (${(error as Error)?.name ?? "Error"}): ${String((error as Error)?.message ?? error).slice(0, 200)}\n`);
    return EXIT_INTERNAL;
  }
}
