import { describe, expect, it } from "vitest";
import { adviceFor } from "../../dist/results/advice.js";

describe("advice per error code", () => {
  it("advises on the common codes", () => {
    expect(adviceFor("60012")).toMatch(/buy more seats.*--resume/i);
    expect(adviceFor("60002")).toMatch(/user does not exist/);
    expect(adviceFor("60003")).toMatch(/tenant id/);
    expect(adviceFor("900150")).toMatch(/License Administrator, User Administrator or Directory Writers/);
    expect(adviceFor("20002")).toMatch(/relationship/);
    expect(adviceFor("900316")).toMatch(/App\+User token from the secure application model/);
    expect(adviceFor("900309")).toMatch(/Conditional Access/);
    expect(adviceFor("900421")).toMatch(/MFA/);
    expect(adviceFor("429")).toMatch(/throttled/);
    expect(adviceFor("UNKNOWN_SKU")).toBeDefined();
    expect(adviceFor("AMBIGUOUS_SKU")).toBeDefined();
    expect(adviceFor("UNKNOWN_USER")).toBeDefined();
    expect(adviceFor("DUPLICATE_ROW")).toBeDefined();
    expect(adviceFor("INVALID_CUSTOMER_ID")).toMatch(/fix the roster/);
    expect(adviceFor("INTERRUPTED")).toMatch(/--resume/);
    expect(adviceFor("503")).toMatch(/--resume/);
    expect(adviceFor("SOMETHING_ELSE")).toBeUndefined();
  });
});
