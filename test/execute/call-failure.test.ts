import { describe, expect, it } from "vitest";
import { describeFailure, type Failure } from "../../dist/execute/call-failure.js";
import { httpFailure, outOfSeats, SKU_A } from "../support/execute-fixtures.js";

const timeout: Failure = { ok: false, kind: "network", error: { description: "no answer within 30 s", data: [], cause: "timeout" } };

describe("call failure", () => {
  it("one answer for a timed-out call, lookup or write alike", () => {
    expect(describeFailure(timeout, { attempts: 4, requestId: "r" })).toEqual({ scope: "row", errorCode: "NETWORK_TIMEOUT", message: "no answer within 30 s", requestId: "r", attempts: 4 });
  });

  it("carries Partner Center's code, the status and the detail that names the SKU", () => {
    const described = describeFailure(outOfSeats("c", SKU_A) as Failure, { attempts: 1, requestId: "r" });
    expect(described).toMatchObject({ scope: "row", errorCode: "60012", httpStatus: 400, requestId: "r", attempts: 1 });
    expect(described.message).toContain(SKU_A);
  });

  it("an answer without a code is known by its status", () => {
    expect(describeFailure(httpFailure(503) as Failure, { attempts: 4, requestId: "r" })).toMatchObject({ scope: "row", errorCode: "503", httpStatus: 503 });
  });

  it("scopes: customer-fatal, run-fatal, and a 401 left after a renewal", () => {
    expect(describeFailure(httpFailure(403, "20002") as Failure, { attempts: 1, requestId: "r" }).scope).toBe("customer");
    expect(describeFailure(httpFailure(403, "900309") as Failure, { attempts: 1, requestId: "r" }).scope).toBe("run");
    expect(describeFailure(httpFailure(401) as Failure, { attempts: 2, requestId: "r", tokenRenewed: true }).scope).toBe("run");
  });
});
