// Binding a LicenseUpdate request body the way the service does: property names matched
// case-insensitively (the docs send PascalCase, clients camelCase), `null` or absent lists empty.
// Only the shape is checked here; whether the SKUs and plans exist is the route's business.
import { isGuid } from "../ids.js";

export interface RequestedAssignment {
  skuId: string;
  /** Service plan ids; empty when null or absent. */
  excludedPlans: string[];
}

export interface RequestedLicenseUpdate {
  assign: RequestedAssignment[];
  remove: string[];
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value of `name` in `object`, whatever the case of its key. */
function property(object: JsonObject, name: string): unknown {
  if (name in object) return object[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(object)) if (key.toLowerCase() === lower) return object[key];
  return undefined;
}

function list(object: JsonObject, name: string): unknown[] | string {
  const value = property(object, name);
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : `${name} must be an array or null`;
}

export function parseLicenseUpdateBody(text: string): { ok: true; update: RequestedLicenseUpdate } | { ok: false; message: string } {
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch {
    return { ok: false, message: "the body is not JSON" };
  }
  if (!isObject(json)) return { ok: false, message: "the body must be a LicenseUpdate object" };
  const toAssign = list(json, "licensesToAssign");
  if (typeof toAssign === "string") return { ok: false, message: toAssign };
  const toRemove = list(json, "licensesToRemove");
  if (typeof toRemove === "string") return { ok: false, message: toRemove };

  const assign: RequestedAssignment[] = [];
  for (const [index, item] of toAssign.entries()) {
    if (!isObject(item)) return { ok: false, message: `licensesToAssign[${index}] must be an object` };
    const skuId = property(item, "skuId");
    if (typeof skuId !== "string" || !isGuid(skuId)) return { ok: false, message: `licensesToAssign[${index}].skuId must be a GUID` };
    const excluded = list(item, "excludedPlans");
    if (typeof excluded === "string") return { ok: false, message: `licensesToAssign[${index}].${excluded}` };
    const bad = excluded.findIndex((plan) => typeof plan !== "string" || !isGuid(plan));
    if (bad !== -1) return { ok: false, message: `licensesToAssign[${index}].excludedPlans[${bad}] must be a service plan id (GUID)` };
    assign.push({ skuId, excludedPlans: excluded as string[] });
  }
  const remove: string[] = [];
  for (const [index, item] of toRemove.entries()) {
    if (typeof item !== "string" || !isGuid(item)) return { ok: false, message: `licensesToRemove[${index}] must be a SKU id (GUID)` };
    remove.push(item);
  }
  if (assign.length === 0 && remove.length === 0) return { ok: false, message: "nothing to assign or remove" };
  return { ok: true, update: { assign, remove } };
}
