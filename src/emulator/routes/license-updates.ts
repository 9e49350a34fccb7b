// POST /v1/customers/{id}/users/{uid}/licenseupdates: assign and remove licenses, atomically.
// Everything is validated before anything changes ("Assign licenses to a user"): the SKUs exist,
// they share one license group, excluded plans belong to their SKU, the user has a usage location
// when something is assigned, and every SKU newly assigned has a free seat (else the seed's 60012
// naming the first one short). Not-held removes succeed and change nothing; an already-held assign
// consumes no seat and replaces the license's excluded plans with the request's.
import type { LicenseGroupId } from "../../partner-center/types.js";
import {
  assignAndRemoveSameSku,
  excludedPlanNotInSku,
  invalidInput,
  invalidUsageLocation,
  mixedLicenseGroups,
  outOfLicenses,
  unknownSku,
} from "../errors.js";
import { idKey } from "../ids.js";
import { availableUnits, type SkuRecord } from "../state.js";
import { parseLicenseUpdateBody } from "./license-update-body.js";
import type { RouteAnswer, RouteRequest } from "./route.js";

/** A usage location is an ISO 3166-1 alpha-2 country code; anything else counts as none. */
const USAGE_LOCATION = /^[A-Za-z]{2}$/;

interface PlannedAssignment {
  key: string;
  sku: SkuRecord;
  excludedPlans: string[];
}

export function postLicenseUpdate(request: RouteRequest): RouteAnswer {
  const { customer, user } = request;
  if (!user) return invalidInput("no user in the path");
  const parsed = parseLicenseUpdateBody(request.bodyText);
  if (!parsed.ok) return invalidInput(parsed.message);
  const { assign, remove } = parsed.update;

  // Every SKU named must be one the customer subscribes to.
  const assignments = new Map<string, PlannedAssignment>();
  for (const item of assign) {
    const key = idKey(item.skuId);
    const sku = customer.skus.get(key);
    if (!sku) return unknownSku(item.skuId);
    if (!assignments.has(key)) assignments.set(key, { key, sku, excludedPlans: item.excludedPlans });
  }
  const removals = new Map<string, SkuRecord>();
  for (const skuId of remove) {
    const key = idKey(skuId);
    const sku = customer.skus.get(key);
    if (!sku) return unknownSku(skuId);
    if (assignments.has(key)) return assignAndRemoveSameSku(sku.sku.productSku.id);
    removals.set(key, sku);
  }

  const groups = new Set<LicenseGroupId>();
  for (const { sku } of assignments.values()) groups.add(sku.group);
  for (const sku of removals.values()) groups.add(sku.group);
  if (groups.size > 1) return mixedLicenseGroups([...groups]);

  for (const { sku, excludedPlans } of assignments.values()) {
    const stray = excludedPlans.find((plan) => !sku.planIds.has(idKey(plan)));
    if (stray) return excludedPlanNotInSku(stray, sku.sku.productSku.id);
  }

  if (assignments.size > 0 && !USAGE_LOCATION.test(user.usageLocation ?? "")) return invalidUsageLocation(user.user.id);

  const newlyAssigned = [...assignments.values()].filter((a) => !user.licenses.has(a.key));
  const short = newlyAssigned.find((a) => availableUnits(a.sku) < 1);
  if (short) return outOfLicenses(customer.customer.id, short.sku.sku.productSku.id);

  // Validated: apply every change.
  let removed = 0;
  for (const [key, sku] of removals) {
    if (user.licenses.delete(key)) {
      sku.holders -= 1;
      removed += 1;
    }
  }
  for (const a of assignments.values()) {
    const held = user.licenses.get(a.key);
    // A held SKU assigned again takes the new excluded plans ("updates existing license"): no seat moves.
    if (held) held.excludedPlans = [...a.excludedPlans];
    else {
      user.licenses.set(a.key, { skuId: a.sku.sku.productSku.id, excludedPlans: [...a.excludedPlans] });
      a.sku.holders += 1;
    }
  }

  const body: Record<string, unknown> = {
    licensesToAssign: [...assignments.values()].map((a) => ({ skuId: a.sku.sku.productSku.id })),
  };
  if (removals.size > 0) body.licensesToRemove = [...removals.values()].map((sku) => sku.sku.productSku.id);
  body.licenseWarnings = [];
  body.attributes = { objectType: "LicenseUpdate" };
  return { status: 201, body, errorCode: null, committed: { assigned: newlyAssigned.length, removed } };
}
