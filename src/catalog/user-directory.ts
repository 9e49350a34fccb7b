// One customer's users by principal name, from paging the user list once. There is no documented
// lookup by UPN, so this is the only way ("Get a list of all user accounts for a customer").
//
// Paging follows both shapes Microsoft's material shows: `links.next` with MS-ContinuationToken in
// its headers (the SDK's enumerator sends every links.next header), and the .NET SDK's top-level
// `continuationToken` (SeekBasedResourceCollection), sent back as MS-ContinuationToken with
// seekOperation=Next. A server that repeats itself (a continuation token already followed, or a
// page of users all seen before) or pages past MAX_USERS_PAGES fails that customer with
// USERS_PAGING_LOOP instead of looping: every loop over server data is bounded.
import type { UsersContinuation } from "../partner-center/api.js";
import type { Collection, CustomerUser } from "../partner-center/types.js";
import type { Fetched } from "../model.js";

/** 2,000 pages: a million users at 500 a page, far beyond any customer tenant a CSP manages. */
export const MAX_USERS_PAGES = 2_000;
export const USERS_PAGING_LOOP = "USERS_PAGING_LOOP";

export class UserDirectory {
  private readonly byPrincipalName = new Map<string, string>();
  /** Each user's usage location by user id (upper case), null when it has none. */
  readonly usageLocations = new Map<string, string | null>();

  add(userPrincipalName: string, userId: string, usageLocation?: unknown): void {
    this.byPrincipalName.set(userPrincipalName.toLowerCase(), userId.toLowerCase());
    this.usageLocations.set(userId.toLowerCase(), typeof usageLocation === "string" && usageLocation !== "" ? usageLocation.toUpperCase() : null);
  }

  /** The user id for a principal name, matched case-insensitively. */
  idOf(userPrincipalName: string): string | undefined {
    return this.byPrincipalName.get(userPrincipalName.toLowerCase());
  }

  get size(): number {
    return this.byPrincipalName.size;
  }
}

/** Where the page after `page` is, in either shape; undefined on the last page. */
export function nextUsersPage(page: Collection<CustomerUser>): UsersContinuation | undefined {
  const next = page.links?.next;
  const linkToken = next?.headers?.find((h) => typeof h?.key === "string" && h.key.toLowerCase() === "ms-continuationtoken")?.value;
  if (next && typeof next.uri === "string" && typeof linkToken === "string" && linkToken !== "") return { uri: next.uri, token: linkToken };
  const topLevel = page.continuationToken;
  if (typeof topLevel === "string" && topLevel !== "") return next && typeof next.uri === "string" ? { uri: next.uri, token: topLevel } : { token: topLevel };
  return undefined;
}

/** Pages through a customer's users with `fetchPage` (one logical call per page) into a directory. */
export async function readUserDirectory(
  fetchPage: (continuation: UsersContinuation | undefined) => Promise<Fetched<Collection<CustomerUser>>>,
  maxPages: number = MAX_USERS_PAGES,
): Promise<Fetched<UserDirectory>> {
  const directory = new UserDirectory();
  const seenTokens = new Set<string>();
  const seenIds = new Set<string>();
  let continuation: UsersContinuation | undefined;
  let attempts = 0;
  let requestId = "";
  const loop = (why: string): Fetched<UserDirectory> => ({
    ok: false,
    failure: { scope: "customer", errorCode: USERS_PAGING_LOOP, message: `paging the customer's users stopped: ${why}`, requestId, attempts },
  });
  for (let pages = 1; ; pages++) {
    const page = await fetchPage(continuation);
    if (!page.ok) return page;
    attempts += page.attempts;
    requestId = page.requestId;
    const items = Array.isArray(page.value.items) ? page.value.items : [];
    let fresh = 0;
    for (const user of items) {
      if (typeof user?.id !== "string" || typeof user.userPrincipalName !== "string") continue;
      const key = user.id.toLowerCase();
      if (!seenIds.has(key)) fresh++;
      seenIds.add(key);
      directory.add(user.userPrincipalName, user.id, user.usageLocation);
    }
    const next = nextUsersPage(page.value);
    if (!next) return { ok: true, value: directory, attempts, requestId };
    if (items.length > 0 && fresh === 0) return loop(`page ${pages} repeats users already listed`);
    if (seenTokens.has(next.token)) return loop(`page ${pages} sends back a continuation token already followed`);
    if (pages >= maxPages) return loop(`more than ${maxPages} pages`);
    seenTokens.add(next.token);
    continuation = next;
  }
}
