// What a resource route receives once the common checks (token, throttling, faults, customer,
// access, user) have passed, and what it answers.
import type { ApiAnswer } from "../errors.js";
import type { CustomerRecord, UserRecord } from "../state.js";

export interface RouteRequest {
  customer: CustomerRecord;
  /** Present on the user-scoped routes. */
  user?: UserRecord;
  /** The customer id as the path spelled it (links echo it back). */
  pathCustomerId: string;
  query: URLSearchParams;
  continuationToken?: string;
  bodyText: string;
  maxPageSize: number;
  usersPaging: "links-next" | "continuation-token";
}

export interface RouteAnswer extends ApiAnswer {
  /** Set when a write was committed: the seats it took and gave back. */
  committed?: { assigned: number; removed: number };
}
