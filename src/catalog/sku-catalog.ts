// One customer's subscribed SKUs, both license groups, indexed so a roster's `sku` (id, part number
// or product name) becomes a productSku id with its license group, and `excludedPlans` (ids or
// service names) become service plan ids. Pure: built from the API's answer, no I/O.
import type { LicenseGroupId, SubscribedSku } from "../partner-center/types.js";

export interface CatalogSku {
  skuId: string; // lower case
  name: string;
  skuPartNumber: string;
  licenseGroup: LicenseGroupId;
  availableUnits: number;
  servicePlans: { id: string; serviceName: string; displayName: string }[];
}

export type Match<T> = { ok: true; value: T } | { ok: false; errorCode: string; message: string };

/** The answer for a row without excluded plans; frozen because every such row shares it. */
const NO_PLANS: Match<string[]> = Object.freeze({ ok: true, value: Object.freeze([]) as unknown as string[] });

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LISTED_AT_MOST = 12;

export class SkuCatalog {
  readonly skus: readonly CatalogSku[];
  private readonly byId = new Map<string, CatalogSku>();
  private readonly byPartNumber = new Map<string, CatalogSku[]>();
  private readonly byName = new Map<string, CatalogSku[]>();
  private readonly matchCache = new Map<string, Match<CatalogSku>>();

  constructor(subscribed: readonly SubscribedSku[]) {
    this.skus = subscribed.map(toCatalogSku);
    for (const sku of this.skus) {
      this.byId.set(sku.skuId, sku);
      pushTo(this.byPartNumber, sku.skuPartNumber.toLowerCase(), sku);
      pushTo(this.byName, sku.name.toLowerCase(), sku);
    }
  }

  /** The SKU a roster names, by id, part number or name (all case-insensitive). */
  match(written: string): Match<CatalogSku> {
    const cached = this.matchCache.get(written);
    if (cached) return cached;
    const result = this.lookUp(written);
    this.matchCache.set(written, result);
    return result;
  }

  /** Service plan ids for `excludedPlans` given as ids or service names of that SKU. */
  excludedPlanIds(sku: CatalogSku, written: readonly string[]): Match<string[]> {
    if (written.length === 0) return NO_PLANS; // the usual case: one shared answer, no allocation per row
    const ids: string[] = [];
    for (const entry of written) {
      const key = entry.toLowerCase();
      const plan = sku.servicePlans.find((p) => p.id === key || p.serviceName.toLowerCase() === key);
      if (!plan) {
        const plans = sku.servicePlans.map((p) => `${p.serviceName} (${p.id})`).join(", ") || "none";
        return { ok: false, errorCode: "UNKNOWN_PLAN", message: `excluded plan "${entry}" is not a service plan of ${sku.name}; its plans: ${plans}` };
      }
      if (!ids.includes(plan.id)) ids.push(plan.id);
    }
    return { ok: true, value: ids };
  }

  private lookUp(written: string): Match<CatalogSku> {
    const key = written.trim().toLowerCase();
    if (GUID.test(key)) {
      const sku = this.byId.get(key);
      return sku ? { ok: true, value: sku } : this.unknown(written);
    }
    for (const [index, kind] of [
      [this.byPartNumber, "part number"],
      [this.byName, "name"],
    ] as const) {
      const found = index.get(key);
      if (found?.length === 1 && found[0]) return { ok: true, value: found[0] };
      if (found && found.length > 1) {
        return {
          ok: false,
          errorCode: "AMBIGUOUS_SKU",
          message: `SKU ${kind} "${written}" matches ${found.length} of the customer's SKUs (${found.map(describe).join(", ")}); give the SKU id instead`,
        };
      }
    }
    return this.unknown(written);
  }

  private unknown(written: string): Match<CatalogSku> {
    const listed = this.skus.slice(0, LISTED_AT_MOST).map(describe).join(", ");
    const more = this.skus.length > LISTED_AT_MOST ? ` and ${this.skus.length - LISTED_AT_MOST} more` : "";
    const has = this.skus.length === 0 ? "the customer has no subscribed SKUs" : `the customer's SKUs: ${listed}${more}`;
    return { ok: false, errorCode: "UNKNOWN_SKU", message: `no subscribed SKU matches "${written}"; ${has}` };
  }
}

/**
 * Why an answer's items cannot be a catalog (an item without productSku, id or licenseGroupId),
 * or undefined: such an answer fails that customer's rows (MALFORMED_ANSWER), never the run.
 */
export function malformedSkuItem(items: readonly unknown[]): string | undefined {
  for (const [index, item] of items.entries()) {
    const sku = (item as { productSku?: Record<string, unknown> } | null)?.productSku;
    if (typeof sku !== "object" || sku === null) return `subscribed SKU item ${index} has no productSku`;
    for (const field of ["id", "licenseGroupId"] as const) {
      if (typeof sku[field] !== "string") return `subscribed SKU item ${index} has no productSku.${field}`;
    }
  }
  return undefined;
}

function describe(sku: CatalogSku): string {
  return `${sku.name} [${sku.skuPartNumber}, ${sku.skuId}]`;
}

function toCatalogSku(s: SubscribedSku): CatalogSku {
  return {
    skuId: s.productSku.id.toLowerCase(),
    name: s.productSku.name ?? "",
    skuPartNumber: s.productSku.skuPartNumber ?? "",
    licenseGroup: s.productSku.licenseGroupId.toLowerCase() as LicenseGroupId,
    availableUnits: s.availableUnits ?? 0,
    servicePlans: (Array.isArray(s.servicePlans) ? s.servicePlans : [])
      .filter((p) => typeof p?.id === "string")
      .map((p) => ({ id: p.id.toLowerCase(), serviceName: p.serviceName ?? "", displayName: p.displayName ?? "" })),
  };
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
