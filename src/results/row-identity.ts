// Whether a results line recorded for a line number is the outcome of this roster row: a done
// line counts for --resume only if its customer, user, SKU and action are the row's. Line numbers
// alone prove nothing once a roster was edited, sorted or swapped.
import type { RowOutcome } from "../model.js";

export interface RowIdentity {
  customerId: string;
  userId?: string;
  userPrincipalName?: string;
  sku: string;
  action: string;
}

export function isOutcomeOfRow(previous: RowOutcome, row: RowIdentity): boolean {
  const same = (a: string | undefined, b: string | undefined): boolean => (a ?? "").toLowerCase() === (b ?? "").toLowerCase();
  if (!same(previous.customerId, row.customerId) || previous.sku !== row.sku || !same(previous.action, row.action)) return false;
  if (!row.userId && !row.userPrincipalName) return false;
  // A row naming its user by principal name only gets the user id resolved into its outcome.
  if (row.userId && !same(previous.userId, row.userId)) return false;
  if (row.userPrincipalName && !same(previous.userPrincipalName, row.userPrincipalName)) return false;
  return true;
}
