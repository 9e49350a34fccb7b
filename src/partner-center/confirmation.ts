// Whether a 2xx body is the answer Partner Center gives for the call made, so a gateway, a captive
// portal or a misrouted base URL answering 200 is never taken for a committed write. A
// LicenseUpdate answer ("Assign licenses to a user": 201 with the LicenseUpdate) must say it is one,
// and the SKUs it lists as assigned or removed must be among those the request carried.

/** undefined: the body confirms the call; otherwise why it does not. */
export type Confirmation = (body: unknown) => string | undefined;

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function objectType(body: Record<string, unknown>): string | undefined {
  const attributes = body.attributes;
  return isRecord(attributes) && typeof attributes.objectType === "string" ? attributes.objectType : undefined;
}

/** A Collection: an object with an `items` array. */
export const confirmsCollection: Confirmation = (body) => {
  if (!isRecord(body)) return "the body is not a JSON object";
  if (!Array.isArray(body.items)) return "the body is not a collection (no items)";
  return undefined;
};

function skuIds(list: unknown, pick: (entry: unknown) => unknown): string[] | undefined {
  if (list === null || list === undefined) return [];
  if (!Array.isArray(list)) return undefined;
  const ids: string[] = [];
  for (const entry of list) {
    const id = pick(entry);
    if (typeof id !== "string") return undefined;
    ids.push(id.toLowerCase());
  }
  return ids;
}

/** The LicenseUpdate answer of `request`. */
export function confirmsLicenseUpdate(body: unknown, request: { licensesToAssign: { skuId: string }[] | null; licensesToRemove: string[] | null }): string | undefined {
  if (!isRecord(body)) return "the body is not a JSON object";
  if (objectType(body)?.toLowerCase() !== "licenseupdate") return "the body is not a LicenseUpdate";
  const assigned = skuIds(body.licensesToAssign, (e) => (isRecord(e) ? e.skuId : undefined));
  const removed = skuIds(body.licensesToRemove, (e) => (isRecord(e) ? e.skuId : e));
  if (assigned === undefined || removed === undefined) return "the LicenseUpdate lists its licenses in an unreadable form";
  // A handful of SKUs, for every write answered: arrays searched, no sets built.
  const askedAssign = (request.licensesToAssign ?? []).map((l) => l.skuId.toLowerCase());
  const askedRemove = (request.licensesToRemove ?? []).map((id) => id.toLowerCase());
  const stray = assigned.find((id) => !askedAssign.includes(id)) ?? removed.find((id) => !askedRemove.includes(id));
  if (stray !== undefined) return `the LicenseUpdate names SKU ${stray}, which the request did not carry`;
  return undefined;
}

/** One resource of `type` ("Customer", "CustomerUser"): an object with an id, of that objectType when it names one. */
export function confirmsResource(type: string): Confirmation {
  return (body) => {
    if (!isRecord(body)) return "the body is not a JSON object";
    if (typeof body.id !== "string") return `the body is not a ${type} (no id)`;
    const named = objectType(body);
    if (named !== undefined && named.toLowerCase() !== type.toLowerCase()) return `the body is a ${named}, not a ${type}`;
    return undefined;
  };
}
