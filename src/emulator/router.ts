// Which API endpoint a request is for: the fixed words of the path match case-insensitively, the
// ids are percent-decoded but not yet checked (a malformed id is a 400, decided later in order).

export type Endpoint = "customer" | "subscribedSkus" | "users" | "user" | "userUpdate" | "userLicenses" | "licenseUpdates";

export type RouteMatch =
  | { kind: "api"; endpoint: Endpoint; method: "GET" | "POST" | "PATCH"; customerId: string; userId?: string; query: URLSearchParams }
  | { kind: "unknown"; path: string };

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** `method` picks between the endpoints of one path (GET or PATCH of a user). */
export function matchRoute(url: string, method = "GET"): RouteMatch {
  const q = url.indexOf("?");
  const path = q === -1 ? url : url.slice(0, q);
  const query = new URLSearchParams(q === -1 ? "" : url.slice(q + 1));
  const segments = path.split("/");
  if (segments[segments.length - 1] === "" && segments.length > 1) segments.pop(); // trailing slash
  const [root, version, customers, customerId, resource, userId, sub] = segments;
  const unknown: RouteMatch = { kind: "unknown", path };
  if (root !== "" || version?.toLowerCase() !== "v1" || customers?.toLowerCase() !== "customers" || !customerId) return unknown;
  const customer = decode(customerId);
  if (segments.length === 4) return { kind: "api", endpoint: "customer", method: "GET", customerId: customer, query };
  const word = resource?.toLowerCase();
  if (segments.length === 5 && word === "subscribedskus") {
    return { kind: "api", endpoint: "subscribedSkus", method: "GET", customerId: customer, query };
  }
  if (word !== "users") return unknown;
  if (segments.length === 5) return { kind: "api", endpoint: "users", method: "GET", customerId: customer, query };
  if (!userId) return unknown;
  const user = decode(userId);
  if (segments.length === 6) {
    if (method.toUpperCase() === "PATCH") return { kind: "api", endpoint: "userUpdate", method: "PATCH", customerId: customer, userId: user, query };
    return { kind: "api", endpoint: "user", method: "GET", customerId: customer, userId: user, query };
  }
  if (segments.length !== 7) return unknown;
  switch (sub?.toLowerCase()) {
    case "licenses":
      return { kind: "api", endpoint: "userLicenses", method: "GET", customerId: customer, userId: user, query };
    case "licenseupdates":
      return { kind: "api", endpoint: "licenseUpdates", method: "POST", customerId: customer, userId: user, query };
    default:
      return unknown;
  }
}
