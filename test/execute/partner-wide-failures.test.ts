// When failures of different customers are the partner's (credentials, role, network), the run stops.
import { describe, expect, it } from "vitest";
import { PartnerWideFailures } from "../../dist/execute/partner-wide-failures.js";
import type { CallFailure } from "../../dist/model.js";

const C = ["0c39d6d5-c70d-4c55-bc02-f620844f3fd1", "1d4ae7e6-d81e-4d66-8d13-0731955a4fe2", "2e5bf8f7-e92f-4e77-9e24-18420a6b5af3", "3f6c0908-fa30-4f88-af35-29531b7c6b04"];
const appOnly: CallFailure = { scope: "row", httpStatus: 403, errorCode: "403", message: "This resource can't be accessed by application credentials.", attempts: 1, requestId: "r" };
const appOnly500: CallFailure = { ...appOnly, httpStatus: 500, errorCode: "500", scope: "row" };
const role: CallFailure = { scope: "customer", httpStatus: 403, errorCode: "900150", message: "The supplied role does not have the rights to perform the requested operation", attempts: 1, requestId: "r" };
const dns: CallFailure = { scope: "row", errorCode: "NETWORK_DNS", message: "the host name does not resolve (ENOTFOUND)", attempts: 6, requestId: "r" };
const seats: CallFailure = { scope: "row", httpStatus: 400, errorCode: "60012", message: "out of licenses", attempts: 1, requestId: "r" };

describe("PartnerWideFailures", () => {
  it("lets the first customer's app-only refusal stand, and stops the run on a second customer's", () => {
    const policy = new PartnerWideFailures();
    expect(policy.escalate(C[0]!, appOnly)).toBe(appOnly);
    expect(policy.escalate(C[0]!, appOnly)).toBe(appOnly); // the same customer again is no spread
    const stop = policy.escalate(C[1]!, appOnly500);
    expect(stop).toMatchObject({ scope: "run", errorCode: "APP_CREDENTIALS_REFUSED", httpStatus: 500 });
    expect(stop.message).toContain("App+User");
  });

  it.each([
    ["NETWORK_DNS", "HTTPS_PROXY"],
    ["NETWORK_TLS", "NODE_EXTRA_CA_CERTS"],
    ["NETWORK_PROXY", "HTTPS_PROXY"],
  ])("stops on %s from two customers, saying what to fix", (code, fix) => {
    const policy = new PartnerWideFailures();
    const failure = { ...dns, errorCode: code };
    expect(policy.escalate(C[0]!, failure).scope).toBe("row");
    const stop = policy.escalate(C[1]!, failure);
    expect(stop).toMatchObject({ scope: "run", errorCode: code });
    expect(stop.message).toContain(fix);
  });

  it("a success in between ends the streak", () => {
    const policy = new PartnerWideFailures();
    policy.escalate(C[0]!, dns);
    policy.noteSuccess();
    expect(policy.escalate(C[1]!, dns).scope).toBe("row");
    expect(policy.escalate(C[2]!, dns).scope).toBe("run");
  });

  it("900150 is partner-wide from five customers while nothing has succeeded, and stays per customer once something did", () => {
    const many = [...C, "4a7d1a19-0b41-4f99-b046-3a642c8d7c15", "5b8e2b2a-1c52-4aaa-8157-4b753d9e8d26"];
    const fresh = new PartnerWideFailures();
    for (const customer of many.slice(0, 4)) expect(fresh.escalate(customer, role).scope).toBe("customer");
    expect(fresh.escalate(many[4]!, role)).toMatchObject({ scope: "run", errorCode: "PARTNER_ROLE_MISSING" });

    const seasoned = new PartnerWideFailures();
    seasoned.noteSuccess();
    for (const customer of many) expect(seasoned.escalate(customer, role).scope).toBe("customer");
  });

  it("leaves business failures and failures already run-fatal alone", () => {
    const policy = new PartnerWideFailures();
    for (const customer of C) expect(policy.escalate(customer, seats)).toBe(seats);
    const fatal: CallFailure = { ...appOnly, scope: "run", errorCode: "900316" };
    expect(policy.escalate(C[0]!, fatal)).toBe(fatal);
  });
});
