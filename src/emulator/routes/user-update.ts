// PATCH /v1/customers/{id}/users/{uid} ("Update user accounts for a customer"): the emulator applies
// the usage location, the one property this project changes, and answers 200 with the user.
// A body that is not a CustomerUser with a two-letter usageLocation is 400 with the emulator's own
// code for an invalid usage location.
import { invalidInput, invalidUsageLocationValue } from "../errors.js";
import { renderUser } from "../resources.js";
import type { RouteAnswer, RouteRequest } from "./route.js";

/** An ISO 3166-1 alpha-2 country code. */
const USAGE_LOCATION = /^[A-Za-z]{2}$/;

export function patchUser(request: RouteRequest): RouteAnswer {
  const { user } = request;
  if (!user) return invalidInput("no user in the path");
  let body: unknown;
  try {
    body = JSON.parse(request.bodyText.replace(/^\uFEFF/, ""));
  } catch {
    return invalidInput("the body is not JSON");
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) return invalidInput("the body must be a CustomerUser object");
  // The service binds property names case-insensitively.
  const entry = Object.entries(body).find(([key]) => key.toLowerCase() === "usagelocation");
  if (entry === undefined) return invalidInput("the body sets no usageLocation");
  const location = entry[1];
  if (typeof location !== "string" || !USAGE_LOCATION.test(location)) return invalidUsageLocationValue(String(location));
  user.usageLocation = location.toUpperCase();
  return { status: 200, body: renderUser(user), errorCode: null };
}
