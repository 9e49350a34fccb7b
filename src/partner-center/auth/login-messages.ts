// Every string `login` shows: the page the browser lands on, and the lines on stderr. Pure
// functions; no token, code or secret is ever an argument.

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page the browser shows after the redirect to the loopback listener. */
export function loginPage(title: string, text: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>license-runner login: ${escapeHtml(title)}</title></head>
<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body></html>
`;
}

/** Before waiting: what to do, then the URL alone on its line (so it can be copied or read by a script). */
export function renderSignInPrompt(url: string, redirectUri: string, timeoutMs: number): string {
  const minutes = Math.max(1, Math.round(timeoutMs / 60_000));
  return (
    "license-runner login: a partner admin signs in (with MFA) and consents to the app in a browser. Open this URL:\n" +
    `${url}\n` +
    `Waiting for the browser's redirect to ${redirectUri} (${timeoutMs < 60_000 ? `${Math.round(timeoutMs / 1000)} seconds` : `up to ${minutes} minute${minutes === 1 ? "" : "s"}`})...\n`
  );
}

export function renderSignedIn(facts: { username: string | undefined; tokenCache: string | undefined; printedRefreshToken: boolean }): string {
  const who = facts.username ? `Signed in as ${facts.username}.` : "Signed in.";
  const lines = [who];
  if (facts.tokenCache) {
    lines.push(
      `The token cache ${facts.tokenCache} (mode 0600) holds the refresh token: runs with --token-cache ${facts.tokenCache} ` +
        "(or PARTNER_CENTER_TOKEN_CACHE) use it and keep the one each renewal rotates in.",
    );
  }
  if (facts.printedRefreshToken) lines.push("The refresh token was written to stdout (and nowhere else).");
  return `license-runner login: ${lines.join(" ")}\n`;
}
