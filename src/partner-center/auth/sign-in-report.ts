// What the summary says about the run's sign-in: where the refresh token came from, when the one in
// use was issued, and the warnings a partner must act on before the nightly job stops (a refresh
// token near its 90 days, a token cache that could not be written, no cache at all). Pure
// functions over data; no token ever appears here.

/** Refresh tokens expire after 90 days ("Refresh tokens in the Microsoft identity platform"): warn with a month left. */
export const REFRESH_TOKEN_WARNING_AGE_DAYS = 60;
const DAY_MS = 24 * 3600_000;

export interface SignInReport {
  /** Where the refresh token of the run's first sign-in came from. */
  refreshTokenSource: "token-cache" | "environment";
  /** When the refresh token in use (the newest one kept) was issued, ISO 8601; null when unknown (no cache). */
  refreshTokenIssuedAt: string | null;
  refreshTokenAgeDays: number | null;
  /** The token cache file, or null without one. */
  tokenCache: string | null;
  /** false when the last write of the cache failed. */
  tokenCacheWritable: boolean | null;
  warnings: string[];
}

export interface SignInFacts {
  refreshTokenSource: "token-cache" | "environment";
  tokenCachePath: string | undefined;
  refreshTokenIssuedAt: string | undefined;
  /** The errno code of the cache's last failed write. */
  tokenCacheWriteError: string | undefined;
}

export function buildSignInReport(facts: SignInFacts, nowMs: number): SignInReport {
  const issuedMs = facts.refreshTokenIssuedAt ? Date.parse(facts.refreshTokenIssuedAt) : NaN;
  const ageDays = Number.isFinite(issuedMs) ? Math.max(0, Math.floor((nowMs - issuedMs) / DAY_MS)) : null;
  const warnings: string[] = [];
  if (ageDays !== null && ageDays > REFRESH_TOKEN_WARNING_AGE_DAYS) {
    warnings.push(
      `the refresh token in use was issued ${ageDays} days ago and was not rotated since: refresh tokens expire after 90 days; ` +
        "sign in again with license-runner login before then",
    );
  }
  if (facts.tokenCachePath && facts.tokenCacheWriteError) {
    warnings.push(
      `the token cache ${facts.tokenCachePath} could not be written (${facts.tokenCacheWriteError}): the refresh token this run rotated is lost ` +
        "and the next run presents an older one; make the file and its folder writable by the runner",
    );
  }
  if (!facts.tokenCachePath) {
    warnings.push(
      "no token cache: the refresh token this run rotated is not kept, so PARTNER_CENTER_REFRESH_TOKEN stops working 90 days after its consent; " +
        "keep one with --token-cache FILE (or PARTNER_CENTER_TOKEN_CACHE)",
    );
  }
  return {
    refreshTokenSource: facts.refreshTokenSource,
    refreshTokenIssuedAt: Number.isFinite(issuedMs) ? new Date(issuedMs).toISOString() : null,
    refreshTokenAgeDays: ageDays,
    tokenCache: facts.tokenCachePath ?? null,
    tokenCacheWritable: facts.tokenCachePath ? !facts.tokenCacheWriteError : null,
    warnings,
  };
}

/** The console lines of the summary about the sign-in. */
export function renderSignInLines(report: SignInReport): string {
  const source = report.refreshTokenSource === "token-cache" ? "from the token cache" : "from PARTNER_CENTER_REFRESH_TOKEN";
  const issued = report.refreshTokenIssuedAt
    ? `the refresh token in use was issued ${report.refreshTokenIssuedAt} (${report.refreshTokenAgeDays} days ago)`
    : "the refresh token's issue date is unknown";
  const kept = report.tokenCache ? `kept in ${report.tokenCache}` : "not kept (no token cache)";
  const lines = [`Sign-in: App+User ${source}; ${issued}; ${kept}`];
  for (const warning of report.warnings) lines.push(`  warning: ${warning}`);
  return `${lines.join("\n")}\n`;
}

/** The same for the Markdown job summary ($GITHUB_STEP_SUMMARY): the warnings are where a person reads them. */
export function renderSignInMarkdown(report: SignInReport): string {
  const [first, ...warnings] = renderSignInLines(report).trimEnd().split("\n");
  const lines = ["", `**${first}**`, ...warnings.map((w) => `- :warning: ${w.replace(/^\s*warning: /, "")}`), ""];
  return `${lines.join("\n")}\n`;
}
