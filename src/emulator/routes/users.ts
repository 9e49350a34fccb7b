// GET /v1/customers/{id}/users (paged) and GET /v1/customers/{id}/users/{uid}.
// Paging follows "Get a list of all user accounts for a customer": a page of `size` users (at most maxPageSize), and while
// more remain a links.next whose uri carries seekOperation=Next and whose headers carry the
// MS-ContinuationToken the next request must send. With usersPaging "continuation-token" the page
// carries a top-level continuationToken instead (the .NET SDK's SeekBasedResourceCollection), to be
// sent back as MS-ContinuationToken with seekOperation=Next. The token is opaque to clients: it
// names the customer and the offset of the next page.
import type { Link } from "../../partner-center/types.js";
import { invalidInput } from "../errors.js";
import { idKey } from "../ids.js";
import { collection, renderUser } from "../resources.js";
import type { RouteAnswer, RouteRequest } from "./route.js";

function queryValue(query: URLSearchParams, name: string): string | undefined {
  for (const [key, value] of query) if (key.toLowerCase() === name) return value;
  return undefined;
}

function encodeToken(customerKey: string, offset: number): string {
  return Buffer.from(`${customerKey}|${offset}`, "utf8").toString("base64url");
}

function decodeToken(token: string, customerKey: string): number | undefined {
  const [customer, offset] = Buffer.from(token, "base64url").toString("utf8").split("|");
  if (customer !== customerKey || offset === undefined || !/^\d+$/.test(offset)) return undefined;
  return Number(offset);
}

export function listUsers(request: RouteRequest): RouteAnswer {
  const sizeText = queryValue(request.query, "size");
  let size = request.maxPageSize;
  if (sizeText !== undefined) {
    if (!/^\d+$/.test(sizeText) || Number(sizeText) < 1) return invalidInput(`size "${sizeText}" is not a positive integer`);
    size = Math.min(Number(sizeText), request.maxPageSize);
  }
  const customerKey = idKey(request.customer.customer.id);
  let offset = 0;
  const seek = queryValue(request.query, "seekoperation");
  if (seek !== undefined) {
    if (seek.toLowerCase() !== "next") return invalidInput(`seekOperation "${seek}" is not supported; use Next`);
    if (!request.continuationToken) return invalidInput("seekOperation=Next needs the MS-ContinuationToken header");
    const decoded = decodeToken(request.continuationToken, customerKey);
    if (decoded === undefined) return invalidInput("MS-ContinuationToken is not valid for this customer");
    offset = decoded;
  }
  const all = request.customer.userList;
  const items = all.slice(offset, offset + size).map(renderUser);
  const base = `/v1/customers/${request.pathCustomerId}/users?size=${size}`;
  const links: { self: Link; next?: Link } = { self: { uri: base, method: "GET", headers: [] } };
  const more = offset + size < all.length;
  if (more && request.usersPaging === "links-next") {
    links.next = {
      uri: `${base}&seekOperation=Next`,
      method: "GET",
      headers: [{ key: "MS-ContinuationToken", value: encodeToken(customerKey, offset + size) }],
    };
  }
  const body = collection(items, links);
  // The .NET SDK's SeekBasedResourceCollection shape: the token at the top level, no next link.
  if (more && request.usersPaging === "continuation-token") return { status: 200, body: { ...body, continuationToken: encodeToken(customerKey, offset + size) }, errorCode: null };
  return { status: 200, body, errorCode: null };
}

export function getUser(request: RouteRequest): RouteAnswer {
  // The user was found before the route runs (404 60002 otherwise).
  return request.user
    ? { status: 200, body: renderUser(request.user), errorCode: null }
    : invalidInput("no user in the path");
}
