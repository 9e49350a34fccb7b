// Users: one user by id, and the paged list followed through links.next with the
// MS-ContinuationToken header, as "Get a list of all user accounts for a customer" describes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../dist/emulator/server.js";
import { IDS, get, start } from "../support/emulator-http.js";

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await start({ maxPageSize: 8 });
});
afterAll(() => emulator.close());

describe("GET users", () => {
  it("returns one user as a CustomerUser", async () => {
    const answer = await get(emulator, `/v1/customers/${IDS.contoso}/users/${IDS.contosoUser(1).toUpperCase()}`);
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({
      id: IDS.contosoUser(1),
      userPrincipalName: "adele.vance@contoso.example",
      firstName: "Adele",
      lastName: "Vance",
      displayName: "Adele Vance",
      usageLocation: "US",
      state: "active",
      attributes: { objectType: "CustomerUser" },
    });
  });

  it("pages through every user by following links.next with the continuation token header", async () => {
    const seen: string[] = [];
    let answer = await get(emulator, `/v1/customers/${IDS.contoso}/users?size=6`);
    let pages = 1;
    for (;;) {
      expect(answer.status).toBe(200);
      expect(answer.json.totalCount).toBe(answer.json.items.length);
      seen.push(...answer.json.items.map((u: { userPrincipalName: string }) => u.userPrincipalName));
      const next = answer.json.links?.next;
      if (!next) break;
      expect(next.method).toBe("GET");
      expect(next.uri).toBe(`/v1/customers/${IDS.contoso}/users?size=6&seekOperation=Next`);
      const header = next.headers.find((h: { key: string }) => h.key === "MS-ContinuationToken");
      answer = await get(emulator, next.uri, { headers: { "MS-ContinuationToken": header.value } });
      pages += 1;
    }
    expect(pages).toBe(4); // 20 users, 6 a page
    expect(seen).toHaveLength(20);
    expect(new Set(seen).size).toBe(20);
    expect(seen[0]).toBe("adele.vance@contoso.example");
    expect(seen[19]).toBe("pradeep.gupta@contoso.example");
  });

  it("cuts a page to maxPageSize and defaults to it", async () => {
    const big = await get(emulator, `/v1/customers/${IDS.contoso}/users?size=500`);
    expect(big.json.items).toHaveLength(8);
    expect(big.json.links.next.uri).toContain("size=8");
    const plain = await get(emulator, `/v1/customers/${IDS.contoso}/users`);
    expect(plain.json.items).toHaveLength(8);
  });

  it("refuses seekOperation=Next without a token, a token of another customer, and a bad size", async () => {
    const first = await get(emulator, `/v1/customers/${IDS.fabrikam}/users?size=5`);
    const fabrikamToken = first.json.links.next.headers[0].value;
    const noToken = await get(emulator, `/v1/customers/${IDS.contoso}/users?size=5&seekOperation=Next`);
    expect(noToken.status).toBe(400);
    expect(noToken.json.code).toBe(800002);
    const wrongCustomer = await get(emulator, `/v1/customers/${IDS.contoso}/users?size=5&seekOperation=Next`, {
      headers: { "MS-ContinuationToken": fabrikamToken },
    });
    expect(wrongCustomer.status).toBe(400);
    const badSize = await get(emulator, `/v1/customers/${IDS.contoso}/users?size=0`);
    expect(badSize.status).toBe(400);
  });

  it("shows a user without usage location as null", async () => {
    const answer = await get(emulator, `/v1/customers/${IDS.contoso}/users/${IDS.contosoNoUsageLocation}`);
    expect(answer.json.usageLocation).toBeNull();
  });
});
