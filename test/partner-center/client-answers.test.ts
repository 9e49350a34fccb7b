// What the client makes of answers as Partner Center (or what stands in front of it) really sends
// them: compressed bodies, 2xx answers that confirm nothing, the contract header, both users-paging
// shapes, and a pooled connection the server closed while it sat idle.
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { createPartnerCenterClient } from "../../dist/partner-center/client.js";
import type { AccessTokenProvider, CallContext } from "../../dist/partner-center/api.js";
import { useRecordingServer, type Handler } from "../support/recording-server.js";

const recording = useRecordingServer();
const { seen } = recording;

const tokens: AccessTokenProvider = { getToken: async () => "token" };
const ctx: CallContext = { requestId: "5d0b3c1e-2f4a-4b6c-8d9e-0a1b2c3d4e5f", correlationId: "c73c9570-c352-459e-98a3-dafe4bd8c821" };
const CUSTOMER = "0c39d6d5-c70d-4c55-bc02-f620844f3fd1";
const USER = "554526aa-cf5e-46fa-95df-98dbc55d8a1e";
const SKU = "f8a1db68-be16-40ed-86d5-cb42ce701560";
const update = { licensesToAssign: [{ skuId: SKU, excludedPlans: null }], licensesToRemove: null, attributes: { objectType: "LicenseUpdate" as const } };
const CONFIRMED = JSON.stringify({ licensesToAssign: [{ skuId: SKU }], licenseWarnings: [], attributes: { objectType: "LicenseUpdate" } });
const USERS = JSON.stringify({ totalCount: 1, items: [{ id: USER, userPrincipalName: "a@b.example" }], attributes: { objectType: "Collection" } });

function encoded(status: number, body: Buffer, encoding: string, contentType = "application/json"): Handler {
  return (_req, res) => {
    res.writeHead(status, { "Content-Type": contentType, "Content-Encoding": encoding, "Content-Length": body.length });
    res.end(body);
  };
}

describe("partner center client: answers", () => {
  it("sends MS-Contract-Version v1 and the run's one MS-CorrelationId", async () => {
    recording.handler = encoded(200, Buffer.from(USERS), "identity");
    const client = createPartnerCenterClient({ baseUrl: recording.url, tokens });
    await client.getUsersPage(CUSTOMER, undefined, ctx);
    await client.getUsersPage(CUSTOMER, undefined, { ...ctx, requestId: "6e1c4d2f-3a5b-4c7d-9e0f-1a2b3c4d5e6f" });
    expect(seen.map((r) => r.headers["ms-contract-version"])).toEqual(["v1", "v1"]);
    expect(new Set(seen.map((r) => r.headers["ms-correlationid"]))).toEqual(new Set([ctx.correlationId]));
  });

  it.each([
    ["gzip", gzipSync],
    ["x-gzip", gzipSync],
    ["deflate", deflateSync],
    ["deflate", deflateRawSync],
    ["br", brotliCompressSync],
  ] as const)("decodes a %s body", async (encoding, compress) => {
    recording.handler = encoded(201, compress(Buffer.from(`\uFEFF${CONFIRMED}`)), encoding);
    const result = await createPartnerCenterClient({ baseUrl: recording.url, tokens }).postLicenseUpdate(CUSTOMER, USER, update, ctx);
    expect(result).toMatchObject({ ok: true, body: { licensesToAssign: [{ skuId: SKU }] }, meta: { status: 201 } });
  });

  it("decodes two encodings applied in turn", async () => {
    recording.handler = encoded(200, brotliCompressSync(gzipSync(Buffer.from(USERS))), "gzip, br");
    const result = await createPartnerCenterClient({ baseUrl: recording.url, tokens }).getUsersPage(CUSTOMER, undefined, ctx);
    expect(result).toMatchObject({ ok: true, body: { items: [{ id: USER }] } });
  });

  it("takes a gzip body that does not decode for an unconfirmed 2xx, and an unknown encoding too", async () => {
    recording.handler = encoded(201, gzipSync(Buffer.from(CONFIRMED)).subarray(0, 20), "gzip");
    const client = createPartnerCenterClient({ baseUrl: recording.url, tokens });
    expect(await client.postLicenseUpdate(CUSTOMER, USER, update, ctx)).toMatchObject({ ok: false, kind: "unconfirmed", meta: { status: 201 } });
    recording.handler = encoded(201, Buffer.from(CONFIRMED), "compress");
    expect(await client.postLicenseUpdate(CUSTOMER, USER, update, ctx)).toMatchObject({ ok: false, kind: "unconfirmed", meta: { status: 201 } });
  });

  it.each([
    ["a captive portal's HTML page", 200, "<html><body>Sign in to the hotel Wi-Fi</body></html>", "text/html", "not JSON (text/html)"],
    ["a JSON body that is no LicenseUpdate", 200, '{"status":"ok"}', "application/json", "is not a LicenseUpdate"],
    ["a LicenseUpdate naming another SKU", 201, JSON.stringify({ licensesToAssign: [{ skuId: "11111111-2222-4333-8444-555555555555" }], attributes: { objectType: "LicenseUpdate" } }), "application/json", "did not carry"],
  ])("returns %s as an unconfirmed write", async (_what, status, body, contentType, says) => {
    recording.handler = encoded(status, Buffer.from(body), "identity", contentType);
    const result = await createPartnerCenterClient({ baseUrl: recording.url, tokens }).postLicenseUpdate(CUSTOMER, USER, update, ctx);
    expect(result).toMatchObject({ ok: false, kind: "unconfirmed", meta: { status } });
    expect(result.ok ? "" : result.error.description).toContain(says);
  });

  it("returns a 201 whose body is cut short as unconfirmed (the write may have landed), not as a reset", async () => {
    recording.handler = (_req, res) => {
      res.writeHead(201, { "Content-Type": "application/json", "Content-Length": String(CONFIRMED.length) });
      res.write(CONFIRMED.slice(0, 20));
      setImmediate(() => res.socket?.destroy());
    };
    const result = await createPartnerCenterClient({ baseUrl: recording.url, tokens }).postLicenseUpdate(CUSTOMER, USER, update, ctx);
    expect(result).toMatchObject({ ok: false, kind: "unconfirmed", meta: { status: 201 } });
  });

  it("returns an empty 200 collection body as unconfirmed (never as no SKUs at all)", async () => {
    recording.handler = encoded(200, Buffer.alloc(0), "identity");
    const result = await createPartnerCenterClient({ baseUrl: recording.url, tokens }).getSubscribedSkus(CUSTOMER, ["group1", "group2"], ctx);
    expect(result).toMatchObject({ ok: false, kind: "unconfirmed", meta: { status: 200 } });
  });

  it("reads a user's licenses of both groups", async () => {
    recording.handler = encoded(200, Buffer.from(JSON.stringify({ totalCount: 0, items: [], attributes: { objectType: "Collection" } })), "identity");
    const result = await createPartnerCenterClient({ baseUrl: recording.url, tokens }).getUserLicenses!(CUSTOMER, USER, ["group1", "group2"], ctx);
    expect(result.ok).toBe(true);
    expect(seen[0]!.url).toBe(`/v1/customers/${CUSTOMER}/users/${USER}/licenses?licenseGroupIds=Group1&licenseGroupIds=Group2`);
  });

  it("seeks the next users page with a top-level continuationToken: seekOperation=Next and the token as MS-ContinuationToken", async () => {
    recording.handler = encoded(200, Buffer.from(USERS), "identity");
    await createPartnerCenterClient({ baseUrl: recording.url, tokens, usersPageSize: 50 }).getUsersPage(CUSTOMER, { token: "tok-2" }, ctx);
    expect(seen[0]!.url).toBe(`/v1/customers/${CUSTOMER}/users?size=50&seekOperation=Next`);
    expect(seen[0]!.headers["ms-continuationtoken"]).toBe("tok-2");
  });

  it("sends a request again, uncounted and with the same MS-RequestId, when the pooled connection it went out on was closed by the server", async () => {
    let served = 0;
    recording.handler = (_req, res) => {
      served++;
      // The second request lands on the kept-alive connection: the server closes it without a word,
      // as a server whose idle timer fired at that moment does.
      if (served === 2) return void res.socket?.destroy();
      res.writeHead(201, { "Content-Type": "application/json" });
      res.end(CONFIRMED);
    };
    const client = createPartnerCenterClient({ baseUrl: recording.url, tokens });
    expect((await client.postLicenseUpdate(CUSTOMER, USER, update, ctx)).ok).toBe(true);
    // undici hands the connection back to its pool a turn of the event loop after the answer.
    await new Promise((resolve) => setImmediate(resolve));
    const second = await client.postLicenseUpdate(CUSTOMER, USER, update, ctx);
    expect(second).toMatchObject({ ok: true, meta: { status: 201 } });
    expect(seen).toHaveLength(3);
    expect(seen[1]!.port).toBe(seen[0]!.port);
    expect(seen[2]!.port).not.toBe(seen[1]!.port);
    expect(new Set(seen.map((r) => r.headers["ms-requestid"]))).toEqual(new Set([ctx.requestId]));
  });

  it("reports a reset on a fresh connection as a reset (it counts as an attempt)", async () => {
    recording.handler = (_req, res) => void res.socket?.destroy();
    const client = createPartnerCenterClient({ baseUrl: recording.url, tokens });
    const result = await client.postLicenseUpdate(CUSTOMER, USER, update, ctx);
    expect(result).toMatchObject({ ok: false, kind: "network", error: { cause: "reset" } });
    expect(seen).toHaveLength(1);
  });
});
