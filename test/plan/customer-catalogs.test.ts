// The per-customer catalogs: one lookup per customer however many ask, both license groups, users
// paged once, a failure handed back as a value, forget() dropping what is held.
import { describe, expect, it } from "vitest";
import { CustomerCatalogs, type CallApi } from "../../dist/catalog/customer-catalogs.js";
import type { ApiResult, CallContext, PartnerCenterApi, UserAccountsApi } from "../../dist/partner-center/api.js";
import type { Collection, CustomerUser, SubscribedSku } from "../../dist/partner-center/types.js";
import { skus } from "../support/state-builder.js";

const CUSTOMER = "c0000001-0000-4000-8000-000000000000";

function ok<T>(body: T): ApiResult<T> {
  return { ok: true, body, meta: { status: 200 } };
}

function collection<T>(items: T[], next?: string): Collection<T> {
  return {
    totalCount: items.length,
    items,
    attributes: { objectType: "Collection" },
    ...(next ? { links: { next: { uri: "/v1/customers/x/users?seekOperation=Next", method: "GET", headers: [{ key: "MS-ContinuationToken", value: next }] } } } : {}),
  };
}

function user(n: number): CustomerUser {
  return { id: `A0000001-0000-4000-8000-00000000000${n}`, userPrincipalName: `User${n}@x.example`, usageLocation: n === 1 ? "US" : null, attributes: { objectType: "CustomerUser" } };
}

function fakeApi(calls: string[], fail = false): PartnerCenterApi & UserAccountsApi {
  const subscribed = skus({ e3: 2, minecraft: 1 }).map((s) => ({ ...s, availableUnits: s.activeUnits }) as unknown as SubscribedSku);
  return {
    async getSubscribedSkus(customerId, groups) {
      calls.push(`skus ${customerId} ${groups.join("+")}`);
      if (fail) return { ok: false, kind: "http", error: { code: "900150", description: "no role", data: [] }, meta: { status: 403 } };
      return ok(collection(subscribed));
    },
    async getUsersPage(customerId, continuation) {
      calls.push(`users ${continuation?.token ?? "first"}`);
      if (!continuation) return ok(collection([user(1), user(2)], "page2"));
      if (continuation.token === "page2") return ok(collection([user(3)])); // the last page (a repeated token: test/e2e/users-paging.test.ts)
      return ok(collection([]));
    },
    async postLicenseUpdate() {
      throw new Error("no writes here");
    },
    async getCustomer(customerId) {
      calls.push(`customer ${customerId}`);
      return ok({ id: customerId, companyProfile: { companyName: " Contoso Ltd " }, attributes: { objectType: "Customer" as const } });
    },
    async getUserLicenses() {
      throw new Error("not used");
    },
    async updateUser() {
      throw new Error("not used");
    },
  } as PartnerCenterApi & UserAccountsApi;
}

const callOnce: CallApi = async (_customerId, attempt) => {
  const result = await attempt({ requestId: "r", correlationId: "c" } as CallContext);
  if (result.ok) return { ok: true, value: result.body, attempts: 1, requestId: "r" };
  return { ok: false, failure: { scope: "customer", httpStatus: result.meta?.status, errorCode: result.error.code, message: result.error.description, attempts: 1 } };
};

describe("CustomerCatalogs", () => {
  it("reads a customer's SKUs of both license groups once, however many ask at once", async () => {
    const calls: string[] = [];
    const catalogs = new CustomerCatalogs(fakeApi(calls), callOnce);
    const [a, b] = await Promise.all([catalogs.skus(CUSTOMER), catalogs.skus(CUSTOMER)]);
    expect(calls).toEqual([`skus ${CUSTOMER} group1+group2`]);
    expect(a.ok && a.value.skus.map((s) => s.licenseGroup)).toEqual(["group1", "group2"]);
    expect(b).toBe(a);
    catalogs.forget(CUSTOMER);
    await catalogs.skus(CUSTOMER);
    expect(calls).toHaveLength(2);
  });

  it("pages the users once, to the last page, and matches principal names case-insensitively", async () => {
    const calls: string[] = [];
    const catalogs = new CustomerCatalogs(fakeApi(calls), callOnce);
    const users = await catalogs.users(CUSTOMER);
    expect(calls).toEqual(["users first", "users page2"]);
    expect(users.ok && users.value.idOf("user3@X.EXAMPLE")).toBe("a0000001-0000-4000-8000-000000000003");
    expect(users.ok && users.value.size).toBe(3);
  });

  it("hands a failed lookup back as a value", async () => {
    const catalogs = new CustomerCatalogs(fakeApi([], true), callOnce);
    const result = await catalogs.skus(CUSTOMER);
    expect(result.ok ? "ok" : [result.failure.scope, result.failure.errorCode]).toEqual(["customer", "900150"]);
  });
});

describe("CustomerCatalogs.companyName", () => {
  it("reads the company name once, trimmed; a failed read leaves none", async () => {
    const calls: string[] = [];
    const catalogs = new CustomerCatalogs(fakeApi(calls), callOnce);
    expect(await Promise.all([catalogs.companyName(CUSTOMER), catalogs.companyName(CUSTOMER)])).toEqual(["Contoso Ltd", "Contoso Ltd"]);
    expect(calls.filter((c) => c.startsWith("customer"))).toHaveLength(1);
    const failing: CallApi = async () => ({ ok: false, failure: { scope: "customer", httpStatus: 403, message: "no", attempts: 1 } });
    expect(await new CustomerCatalogs(fakeApi([]), failing).companyName(CUSTOMER)).toBeUndefined();
  });

  it("keeps each listed user's usage location, upper case, null when unset", async () => {
    const catalogs = new CustomerCatalogs(fakeApi([]), callOnce);
    const locations = await catalogs.usageLocations(CUSTOMER);
    expect(locations.ok && [...locations.value]).toEqual([
      ["a0000001-0000-4000-8000-000000000001", "US"],
      ["a0000001-0000-4000-8000-000000000002", null],
      ["a0000001-0000-4000-8000-000000000003", null],
    ]);
  });
});
