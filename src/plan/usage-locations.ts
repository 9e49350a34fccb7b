// Which users need their usage location set before their license update: a user whose request
// assigns something, whose rows (or --usage-location) give a location, and whose current one is
// none or another. Never one when it already matches. Pure.
import type { LicenseUpdateRequest } from "../model.js";

export interface UsageLocationChange {
  userId: string;
  usageLocation: string;
  /** The user's current usage location; null: none; undefined: the user is not in the customer's list. */
  current: string | null | undefined;
}

/** The usage location a request wants for its user: its first row's, else the default; only when it assigns. */
export function wantedUsageLocation(request: LicenseUpdateRequest, fallback: string | undefined): string | undefined {
  if (!request.rows.some((row) => row.action === "assign")) return undefined;
  return request.rows.find((row) => row.usageLocation !== undefined)?.usageLocation ?? fallback;
}

export function usageLocationChanges(
  requests: readonly LicenseUpdateRequest[],
  fallback: string | undefined,
  currentOf: (userId: string) => string | null | undefined,
): UsageLocationChange[] {
  const wanted = new Map<string, string>();
  for (const request of requests) {
    const location = wantedUsageLocation(request, fallback);
    if (location !== undefined && !wanted.has(request.userId)) wanted.set(request.userId, location);
  }
  const changes: UsageLocationChange[] = [];
  for (const [userId, usageLocation] of wanted) {
    const current = currentOf(userId);
    if (current?.toUpperCase() !== usageLocation) changes.push({ userId, usageLocation, current });
  }
  return changes;
}

/** Whether any row of these requests could need a usage location set (so the users list is worth reading). */
export function mayNeedUsageLocations(requests: readonly LicenseUpdateRequest[], fallback: string | undefined): boolean {
  return requests.some((request) => wantedUsageLocation(request, fallback) !== undefined);
}
