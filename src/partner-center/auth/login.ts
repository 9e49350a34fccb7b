// The consent of the secure application model, run by `login`: the authorization code flow with
// PKCE ("Microsoft identity platform and OAuth 2.0 authorization code flow") to a loopback redirect
// listener, with @azure/msal-node's getAuthCodeUrl and acquireTokenByCode. The partner admin signs
// in (MFA is the identity provider's business) and consents in a browser; the tokens land in the
// token cache. Expected failures (declined, state mismatch, no answer in time, a refused code) are
// values with a message safe to show: no code, verifier, token or secret ever reaches one.
import { randomBytes } from "node:crypto";
import { CryptoProvider } from "@azure/msal-node";
import type { Logger } from "pino";
import { userImpersonationScope } from "../cloud.js";
import { refusalFromMsalError } from "./credentials-refused.js";
import { loginPage } from "./login-messages.js";
import { startLoopbackListener, type RedirectAnswer } from "./loopback-listener.js";
import { createPartnerMsalApp, type MsalNetworkClient, type PartnerAppIdentity } from "./msal-app.js";
import { SecretScrubber } from "./msal-logging.js";
import { refreshTokenOf, type TokenCacheFile } from "./token-cache-file.js";

/** The Partner Center scope of the API's cloud plus offline_access, so the answer carries a refresh token. */
export function loginScopes(apiBaseUrl: string | undefined): string[] {
  return [userImpersonationScope(apiBaseUrl), "offline_access"];
}

export interface InteractiveLoginOptions {
  app: PartnerAppIdentity;
  tokenCache?: TokenCacheFile | undefined;
  /** 0: a free port. */
  port: number;
  timeoutMs: number;
  logger: Logger;
  /** Shows the sign-in URL (stderr); called once, before waiting. */
  showSignInUrl(url: string, redirectUri: string): void;
  /** Opens the URL in a browser, when there is one. */
  openBrowser?: ((url: string) => void) | undefined;
  networkClient?: MsalNetworkClient | undefined;
  /** The Partner Center base URL the consent is for: its cloud decides the scope. */
  apiBaseUrl?: string | undefined;
}

export type LoginOutcome =
  | { ok: true; username: string | undefined; refreshToken: string | undefined }
  | { ok: false; reason: "declined" | "refused" | "state-mismatch" | "timeout" | "token-request" | "listener"; message: string };

export async function loginInteractively(options: InteractiveLoginOptions): Promise<LoginOutcome> {
  const logger = options.logger.child({ component: "login" });
  let listener;
  try {
    listener = await startLoopbackListener(options.port);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    return { ok: false, reason: "listener", message: `cannot listen for the sign-in's redirect on localhost port ${options.port} (${code}): choose another --port` };
  }
  try {
    const scrubber = new SecretScrubber();
    scrubber.remember(options.app.clientSecret);
    const msal = createPartnerMsalApp(options.app, { logger, scrubber, cachePlugin: options.tokenCache?.plugin, networkClient: options.networkClient });
    const authorityOrigin = options.app.authority.replace(/\/+$/, "");
    const pkce = await new CryptoProvider().generatePkceCodes();
    scrubber.remember(pkce.verifier);
    const state = randomBytes(24).toString("base64url");
    const redirectUri = listener.redirectUri;
    const scopes = loginScopes(options.apiBaseUrl);

    let url: string;
    try {
      url = await msal.getAuthCodeUrl({
        scopes,
        redirectUri,
        codeChallenge: pkce.challenge,
        codeChallengeMethod: "S256",
        state,
        prompt: "select_account",
      });
    } catch (error) {
      return { ok: false, reason: "token-request", message: refusalFromMsalError(error, { authority: authorityOrigin }).message };
    }
    logger.info({ port: listener.port }, "waiting for the browser's redirect");
    options.showSignInUrl(url, redirectUri);
    options.openBrowser?.(url);

    const answer = await waitForAnswer(listener.next.bind(listener), options.timeoutMs);
    if (!answer) {
      return {
        ok: false,
        reason: "timeout",
        message: `no answer from the browser within ${formatWait(options.timeoutMs)}: the sign-in was not completed; run license-runner login again`,
      };
    }
    if (answer.query.get("state") !== state) {
      answer.respond(400, loginPage("Sign-in not accepted", "This answer does not belong to the sign-in that is waiting. Start it again from the terminal."));
      return {
        ok: false,
        reason: "state-mismatch",
        message: "the browser's answer does not carry this sign-in's state (an old browser tab, or another login): nothing was kept; run license-runner login again",
      };
    }
    const error = answer.query.get("error");
    if (error) {
      const aadsts = /AADSTS(\d{4,9})/.exec(answer.query.get("error_description") ?? "")?.[1];
      const codeText = aadsts ? `${error}, AADSTS${aadsts}` : error;
      const declined = error === "access_denied";
      answer.respond(
        200,
        loginPage(declined ? "Consent declined" : "Sign-in refused", declined ? "Nothing was kept. You can close this window." : `The identity provider answered ${codeText}.`),
      );
      return declined
        ? {
            ok: false,
            reason: "declined",
            message: `the consent was declined (${codeText}): nothing was kept; a partner admin must accept the app's permissions for the runner to sign in`,
          }
        : { ok: false, reason: "refused", message: `the identity provider refused the sign-in (${codeText}): check the app registration (its redirect URI ${redirectUri}, its API permissions) and run license-runner login again` };
    }
    const code = answer.query.get("code") ?? "";
    scrubber.remember(code);

    const redeem = () => msal.acquireTokenByCode({ code, scopes, redirectUri, codeVerifier: pkce.verifier });
    let result;
    try {
      result = options.tokenCache ? await options.tokenCache.exclusive(redeem) : await redeem();
    } catch (failure) {
      const refusal = refusalFromMsalError(failure, { authority: authorityOrigin });
      answer.respond(200, loginPage("Sign-in failed", "The app could not redeem the sign-in. See the terminal."));
      return { ok: false, reason: "token-request", message: `the sign-in could not be completed: ${refusal.message}` };
    }
    if (options.tokenCache?.lastWriteError()) {
      answer.respond(200, loginPage("Sign-in failed", "The token cache could not be written. See the terminal."));
      return { ok: false, reason: "token-request", message: `signed in, but the token cache ${options.tokenCache.path} could not be written (${options.tokenCache.lastWriteError()})` };
    }
    answer.respond(200, loginPage("Signed in", "license-runner has its refresh token. You can close this window."));
    const refreshToken = refreshTokenOf(JSON.parse(msal.getTokenCache().serialize()) as Record<string, unknown>);
    return { ok: true, username: result?.account?.username || undefined, refreshToken };
  } finally {
    await listener.close();
  }
}

async function waitForAnswer(next: (signal: AbortSignal) => Promise<RedirectAnswer>, timeoutMs: number): Promise<RedirectAnswer | undefined> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    return await next(timeout);
  } catch {
    return undefined;
  }
}

function formatWait(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds % 60 === 0 && seconds >= 60) return `${seconds / 60} minute${seconds === 60 ? "" : "s"}`;
  return `${seconds} second${seconds === 1 ? "" : "s"}`;
}
