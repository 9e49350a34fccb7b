import { describe, expect, it } from "vitest";
import { decideAnswer } from "../../dist/execute/answer-policy.js";
import { describeFailure, type Failure } from "../../dist/execute/call-failure.js";
import type { ApiResult } from "../../dist/partner-center/api.js";
import { customerId, httpFailure, outOfSeats, resetLines, row, SKU_A, SKU_B, SKU_C, userId } from "../support/execute-fixtures.js";

const c = customerId(1);
const u = userId(1);
const decide = (rows: Parameters<typeof decideAnswer>[0], result: ApiResult<never>, attempts = 1) => {
  const failure = result as Failure;
  return decideAnswer(rows, failure, describeFailure(failure, { attempts, requestId: "req" }));
};

describe("answer policy", () => {
  it("run-fatal stops the run and fails the answered rows", () => {
    resetLines();
    const rows = [row(c, u, SKU_A)];
    const d = decide(rows, httpFailure(403, "900309", "blocked"));
    expect(d.stopRun).toEqual({ kind: "run-fatal", errorCode: "900309", message: "blocked", httpStatus: 403 });
    expect(d.failed).toEqual(rows);
    expect(d.notSent).toEqual([]);
  });

  it("refused credentials before the request left: its rows are not sent, not failed", () => {
    resetLines();
    const rows = [row(c, u, SKU_A)];
    const d = decide(rows, { ok: false, kind: "credentials", error: { description: "no token", data: [] } }, 0);
    expect(d.stopRun).toMatchObject({ kind: "run-fatal", errorCode: "CREDENTIALS" });
    expect(d.notSent).toEqual(rows);
    expect(d.failed).toEqual([]);
  });

  it("a 401 left after a renewal stops the run without a code of its own", () => {
    resetLines();
    const failure = httpFailure(401) as Failure;
    const d = decideAnswer([row(c, u, SKU_A)], failure, describeFailure(failure, { attempts: 2, requestId: "r", tokenRenewed: true }));
    expect(d.stopRun).toEqual({ kind: "run-fatal", message: "refused", httpStatus: 401 });
  });

  it("customer-fatal fails the rows and remembers the customer", () => {
    resetLines();
    const rows = [row(c, u, SKU_A)];
    const d = decide(rows, httpFailure(403, "900150", "no GDAP role"));
    expect(d.failed).toEqual(rows);
    expect(d.remember).toEqual([{ kind: "customer", customerId: c, decided: { errorCode: "900150", message: expect.stringMatching(/line 2 \(403 900150: no GDAP role\)/) } }]);
    expect(d.stopRun).toBeUndefined();
  });

  it("404 60002 remembers the user; 60002 on another status does not", () => {
    resetLines();
    const rows = [row(c, u, SKU_A)];
    expect(decide(rows, httpFailure(404, "60002")).remember).toEqual([{ kind: "user", customerId: c, userId: u, decided: { errorCode: "60002", message: expect.stringContaining("not found") } }]);
    expect(decide(rows, httpFailure(400, "60002")).remember).toEqual([]);
  });

  it("60012 naming one SKU fails that SKU's rows, remembers it, and resends the rest as one request", () => {
    resetLines();
    const rows = [row(c, u, SKU_A), row(c, u, SKU_B), row(c, u, SKU_C, "remove")];
    const d = decide(rows, outOfSeats(c, SKU_B));
    expect(d.failed).toEqual([rows[1]]);
    expect(d.remember).toEqual([{ kind: "sku", customerId: c, skuId: SKU_B, decided: { errorCode: "60012", message: expect.stringContaining(SKU_B) } }]);
    expect(d.resend).toEqual([[rows[0], rows[2]]]);
  });

  it("60012 naming none of the request's SKUs splits it per SKU, failing nothing yet", () => {
    resetLines();
    const rows = [row(c, u, SKU_A), row(c, u, SKU_B)];
    const d = decide(rows, httpFailure(400, "60012", "out of licenses"));
    expect(d.failed).toEqual([]);
    expect(d.resend).toEqual([[rows[0]], [rows[1]]]);
    expect(d.split).toBe(2);
  });

  it("60012 on a one-SKU request fails it whatever SKU it names", () => {
    resetLines();
    const rows = [row(c, u, SKU_A)];
    const d = decide(rows, httpFailure(400, "60012", "out of licenses"));
    expect(d.failed).toEqual(rows);
    expect(d.resend).toEqual([]);
  });

  it("any other refusal fails the request's rows only", () => {
    resetLines();
    const rows = [row(c, u, SKU_A), row(c, u, SKU_B)];
    const d = decide(rows, httpFailure(400, "800002"));
    expect(d).toEqual({ failed: rows, notSent: [], remember: [], resend: [] });
  });
});
