// A write answered 2xx without a readable LicenseUpdate is recorded as what the user's licenses show.
import { describe, expect, it } from "vitest";
import { settleUnconfirmedWrite, UNCONFIRMED_WRITE, WRITE_NOT_APPLIED } from "../../dist/execute/unconfirmed-writes.js";
import type { ApiResult } from "../../dist/partner-center/api.js";
import type { Collection, License } from "../../dist/partner-center/types.js";
import { customerId, row, SKU_A, SKU_B, SKU_C, userId } from "../support/execute-fixtures.js";

const unconfirmed = { ok: false as const, kind: "unconfirmed" as const, error: { description: "HTTP 200 with an empty body", data: [] }, meta: { status: 200, requestId: "rid" } };
const sending = { attempts: 3, requestId: "rid", correlationId: "cid", finishedAt: "2026-12-01T12:00:00.000Z" };
const license = (skuId: string): License => ({ servicePlans: [], productSku: { id: skuId.toUpperCase(), name: "x", skuPartNumber: "X", licenseGroupId: "group1" }, attributes: { objectType: "License" } });
const licenses = (...skus: string[]): ApiResult<Collection<License>> => ({ ok: true, body: { totalCount: skus.length, items: skus.map(license), attributes: { objectType: "Collection" } }, meta: { status: 200 } });

describe("settleUnconfirmedWrite", () => {
  const c = customerId(1);
  const u = userId(1);
  const rows = [row(c, u, SKU_A), row(c, u, SKU_B), row(c, u, SKU_C, "remove")];

  it("records each row as the licenses read afterwards show it", () => {
    const outcomes = settleUnconfirmedWrite(rows, unconfirmed, licenses(SKU_A), sending);
    expect(outcomes.map((o) => [o.skuId, o.status, o.errorCode])).toEqual([
      [SKU_A, "assigned", undefined],
      [SKU_B, "failed", WRITE_NOT_APPLIED],
      [SKU_C, "removed", undefined],
    ]);
    expect(outcomes[0]).toMatchObject({ httpStatus: 200, requestId: "rid", attempts: 3 });
    expect(outcomes[0]!.errorMessage).toContain("confirmed by reading the user's licenses");
  });

  it("a removal whose SKU is still held was not applied", () => {
    const [outcome] = settleUnconfirmedWrite([row(c, u, SKU_C, "remove")], unconfirmed, licenses(SKU_C), sending);
    expect(outcome).toMatchObject({ status: "failed", errorCode: WRITE_NOT_APPLIED });
  });

  it("when the licenses cannot be read either, the rows fail with their own code saying it is not known", () => {
    const readFailed: ApiResult<Collection<License>> = { ok: false, kind: "network", error: { description: "connection reset (ECONNRESET)", data: [], cause: "reset" } };
    const outcomes = settleUnconfirmedWrite(rows, unconfirmed, readFailed, sending);
    expect(new Set(outcomes.map((o) => `${o.status} ${o.errorCode}`))).toEqual(new Set([`failed ${UNCONFIRMED_WRITE}`]));
    expect(outcomes[0]!.errorMessage).toContain("not known");
  });
});
