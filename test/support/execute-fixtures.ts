// Shared test material for execute/: requests, rows, API results and a silent logger.
import pino from "pino";
import type { ApiResult, ResponseMeta } from "../../dist/partner-center/api.js";
import type { LicenseUpdate } from "../../dist/partner-center/types.js";
import type { LicenseUpdateRequest, ResolvedRow, RowAction } from "../../dist/model.js";

export const silentLogger = pino({ level: "silent" });

export const SKU_A = "f8a1db68-be16-40ed-86d5-cb42ce701560";
export const SKU_B = "c7df2760-2c81-4ef7-b578-5b5392b571df";
export const SKU_C = "6fd2c87f-b296-42f0-b197-1e91e994b900";

let nextLine = 2;
export function resetLines(): void {
  nextLine = 2;
}

export function customerId(n: number): string {
  return `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
}
export function userId(n: number): string {
  return `11111111-0000-4000-8000-${String(n).padStart(12, "0")}`;
}

export function row(customer: string, user: string, skuId: string, action: RowAction = "assign"): ResolvedRow {
  return { line: nextLine++, customerId: customer, userId: user, sku: skuId, skuId, skuName: `SKU ${skuId}`, excludedPlans: [], excludedPlanIds: [], action, licenseGroup: "group1" };
}

export function request(rows: ResolvedRow[]): LicenseUpdateRequest {
  const first = rows[0]!;
  const assign = rows.filter((r) => r.action === "assign").map((r) => ({ skuId: r.skuId, excludedPlans: null }));
  const remove = rows.filter((r) => r.action === "remove").map((r) => r.skuId);
  const update: LicenseUpdate = {
    licensesToAssign: assign.length ? assign : null,
    licensesToRemove: remove.length ? remove : null,
    attributes: { objectType: "LicenseUpdate" },
  };
  return { customerId: first.customerId, userId: first.userId, licenseGroup: "group1", rows, update };
}

export function created(update: LicenseUpdate, meta: Partial<ResponseMeta> = {}): ApiResult<LicenseUpdate> {
  return {
    ok: true,
    body: { licensesToAssign: update.licensesToAssign, licensesToRemove: null, licenseWarnings: [], attributes: { objectType: "LicenseUpdate" } },
    meta: { status: 201, cv: "cv.0", ...meta },
  };
}

export function httpFailure(status: number, code?: string, description = "refused", data: string[] = [], meta: Partial<ResponseMeta> = {}): ApiResult<never> {
  return { ok: false, kind: "http", error: { ...(code !== undefined ? { code } : {}), description, data }, meta: { status, ...meta } };
}

export function throttled(retryAfterSeconds?: number): ApiResult<never> {
  return httpFailure(429, undefined, "Rate limit is exceeded.", [], retryAfterSeconds === undefined ? {} : { retryAfterSeconds });
}

export function outOfSeats(customer: string, skuId: string): ApiResult<never> {
  return httpFailure(400, "60012", "We are sorry, it looks like you have run out of licenses. Buy more licenses, and then try again.", [
    `LicenseQuotaExceededException : Subscription with Account ${customer} and SKU ${skuId} does not have any available licenses left.`,
  ]);
}
