// GET /v1/customers/{id}/subscribedskus: the customer's SKUs of the asked license groups, with
// live seat counts.
import { invalidInput } from "../errors.js";
import { collection, renderSubscribedSku } from "../resources.js";
import { parseLicenseGroups } from "./license-groups.js";
import type { RouteAnswer, RouteRequest } from "./route.js";

export function getSubscribedSkus(request: RouteRequest): RouteAnswer {
  const parsed = parseLicenseGroups(request.query);
  if ("error" in parsed) return invalidInput(parsed.error);
  const items = request.customer.skuList.filter((sku) => parsed.groups.has(sku.group)).map(renderSubscribedSku);
  return { status: 200, body: collection(items), errorCode: null };
}
