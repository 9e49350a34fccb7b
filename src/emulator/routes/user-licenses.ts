// GET /v1/customers/{id}/users/{uid}/licenses: the licenses the user holds in the asked groups.
import { invalidInput } from "../errors.js";
import { collection, renderLicense } from "../resources.js";
import { parseLicenseGroups } from "./license-groups.js";
import type { RouteAnswer, RouteRequest } from "./route.js";
import type { License } from "../../partner-center/types.js";

export function getUserLicenses(request: RouteRequest): RouteAnswer {
  const parsed = parseLicenseGroups(request.query);
  if ("error" in parsed) return invalidInput(parsed.error);
  const items: License[] = [];
  for (const [skuKey, held] of request.user?.licenses ?? []) {
    const sku = request.customer.skus.get(skuKey);
    if (sku && parsed.groups.has(sku.group)) items.push(renderLicense(held, sku));
  }
  return { status: 200, body: collection(items), errorCode: null };
}
