// The HTTP client against a tiny local server on loopback: headers, URLs, BOM, entities, error
// shapes, response meta, network failures and token failures.
import { describe, expect, it } from "vitest";
import { continuationPath, createPartnerCenterClient } from "../../dist/partner-center/client.js";
import type { AccessTokenProvider, CallContext } from "../../dist/partner-center/api.js";
import { useRecordingServer, type Handler } from "../support/recording-server.js";

const recording = useRecordingServer();
const { seen } = recording;

const TOKEN = "secret-token-value";
const tokens: AccessTokenProvider = { getToken: async () => TOKEN };
const ctx: CallContext = { requestId: "a37d3009-665d-4e12-b76e-1aa10cf80140", correlationId: "c73c9570-c352-459e-98a3-dafe4bd8c821" };
const CUSTOMER = "0c39d6d5-c70d-4c55-bc02-f620844f3fd1";
const USER = "554526aa-cf5e-46fa-95df-98dbc55d8a1e";

function reply(status: number, body: string, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", ...headers });
    res.end(body);
  };
}

const update = { licensesToAssign: [{ skuId: "f8a1db68-be16-40ed-86d5-cb42ce701560", excludedPlans: null }], licensesToRemove: null, attributes: { objectType: "LicenseUpdate" as const } };

describe("partner center client", () => {
  it("sends the documented request headers and a camelCase body, and reads a BOM-prefixed PascalCase answer", async () => {
    recording.handler = reply(201, '\uFEFF{"LicensesToAssign":[{"SkuId":"f8a1db68-be16-40ed-86d5-cb42ce701560"}],"LicenseWarnings":[{"Code":"w","Message":"m","ServicePlans":[]}],"Attributes":{"ObjectType":"LicenseUpdate"}}', {
      "MS-RequestId": ctx.requestId,
      "MS-CorrelationId": ctx.correlationId,
      "MS-CV": "5AnzcZQrvUqCq3kd.0",
      "MS-ServerId": "030020525",
    });
    const client = createPartnerCenterClient({ baseUrl: recording.url, tokens });
    const result = await client.postLicenseUpdate(CUSTOMER, USER, update, ctx);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.body.licensesToAssign?.[0]?.skuId).toBe("f8a1db68-be16-40ed-86d5-cb42ce701560");
    expect(result.body.licenseWarnings).toEqual([{ code: "w", message: "m", servicePlans: [] }]);
    expect(result.meta).toEqual({ status: 201, requestId: ctx.requestId, correlationId: ctx.correlationId, cv: "5AnzcZQrvUqCq3kd.0", serverId: "030020525" });
    const request = seen[0]!;
    expect(request.method).toBe("POST");
    expect(request.url).toBe(`/v1/customers/${CUSTOMER}/users/${USER}/licenseupdates`);
    expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request.headers.accept).toBe("application/json");
    expect(request.headers["ms-requestid"]).toBe(ctx.requestId);
    expect(request.headers["ms-correlationid"]).toBe(ctx.correlationId);
    expect(request.headers["x-locale"]).toBe("en-US");
    expect(request.headers["content-type"]).toBe("application/json");
    expect(request.headers["ms-partnercenter-application"]).toBe("license-runner");
    expect(JSON.parse(request.body)).toEqual(update);
  });

  it("asks for the license groups and encodes path ids", async () => {
    recording.handler = reply(200, '{"totalCount":0,"items":[],"attributes":{"objectType":"Collection"}}');
    const client = createPartnerCenterClient({ baseUrl: recording.url, tokens, applicationName: "tests" });
    const result = await client.getSubscribedSkus("../x?y/%2e", ["group1", "group2"], ctx);
    expect(result.ok).toBe(true);
    expect(seen[0]!.url).toBe("/v1/customers/..%2Fx%3Fy%2F%252e/subscribedskus?licenseGroupIds=Group1&licenseGroupIds=Group2");
    expect(seen[0]!.method).toBe("GET");
    expect(seen[0]!.headers["content-type"]).toBeUndefined();
    expect(seen[0]!.headers["ms-partnercenter-application"]).toBe("tests");
  });

  it("pages users: size on the first page, then the continuation link on our own host with its token", async () => {
    recording.handler = reply(200, '{"totalCount":1,"items":[{"id":"u","userPrincipalName":"a@b"}],"links":{"next":{"uri":"/customers/c/users?size=2&seekOperation=Next","method":"GET","headers":[{"key":"MS-ContinuationToken","value":"tok"}]}},"attributes":{"objectType":"Collection"}}');
    const client = createPartnerCenterClient({ baseUrl: recording.url, tokens, usersPageSize: 2 });
    const first = await client.getUsersPage(CUSTOMER, undefined, ctx);
    expect(seen[0]!.url).toBe(`/v1/customers/${CUSTOMER}/users?size=2`);
    expect(first.ok && first.body.links?.next?.headers[0]).toEqual({ key: "MS-ContinuationToken", value: "tok" });
    await client.getUsersPage(CUSTOMER, { uri: "/customers/c/users?size=2&seekOperation=Next", token: "tok" }, ctx);
    expect(seen[1]!.url).toBe("/v1/customers/c/users?size=2&seekOperation=Next");
    expect(seen[1]!.headers["ms-continuationtoken"]).toBe("tok");
    // A link naming another host is followed on ours (the token never leaves for elsewhere).
    await client.getUsersPage(CUSTOMER, { uri: "https://evil.example/v1/customers/c/users?seek=1", token: "tok" }, ctx);
    expect(seen[2]!.url).toBe("/v1/customers/c/users?seek=1");
    expect(continuationPath("customers/c/users")).toBe("/v1/customers/c/users");
  });

  it("reads the documented error body: code as a string, entities decoded, data kept", async () => {
    recording.handler = reply(400, '\uFEFF{"code":60012,"description":"You don&#39;t have &quot;seats&quot; &amp; more &lt;x&gt; &#x41;&#66;","data":["LicenseQuotaExceededException : Subscription with Account a and SKU b does not have any available licenses left."],"source":"PartnerFD"}', {
      "MS-CV": "cv",
    });
    const client = createPartnerCenterClient({ baseUrl: recording.url, tokens });
    const result = await client.postLicenseUpdate(CUSTOMER, USER, update, ctx);
    expect(result).toMatchObject({ ok: false, kind: "http", meta: { status: 400, cv: "cv" } });
    if (result.ok || result.kind !== "http") return;
    expect(result.error.code).toBe("60012");
    expect(result.error.description).toBe('You don\'t have "seats" & more <x> AB');
    expect(result.error.data).toHaveLength(1);
  });

  it("reads the 429 body without a code, and Retry-After as seconds or an HTTP date", async () => {
    recording.handler = reply(429, '{"statusCode":429,"message":"Rate limit is exceeded. Try again in 57 seconds."}', { "Retry-After": "57" });
    const client = createPartnerCenterClient({ baseUrl: recording.url, tokens });
    const result = await client.postLicenseUpdate(CUSTOMER, USER, update, ctx);
    expect(result).toMatchObject({ ok: false, kind: "http", meta: { status: 429, retryAfterSeconds: 57 }, error: { description: "Rate limit is exceeded. Try again in 57 seconds." } });
    if (!result.ok && result.kind === "http") expect(result.error.code).toBeUndefined();

    recording.handler = reply(429, "", { "Retry-After": new Date(Date.now() + 30_000).toUTCString() });
    const dated = await client.postLicenseUpdate(CUSTOMER, USER, update, ctx);
    expect(dated.ok).toBe(false);
    if (!dated.ok && dated.kind === "http") {
      expect(dated.meta.retryAfterSeconds).toBeGreaterThanOrEqual(28);
      expect(dated.meta.retryAfterSeconds).toBeLessThanOrEqual(31);
    }
  });

  it("describes a non-JSON failure by its status", async () => {
    recording.handler = (_req, res) => {
      res.writeHead(502, { "Content-Type": "text/html" });
      res.end("<html>bad gateway</html>");
    };
    const client = createPartnerCenterClient({ baseUrl: recording.url, tokens });
    const result = await client.postLicenseUpdate(CUSTOMER, USER, update, ctx);
    expect(result).toMatchObject({ ok: false, kind: "http", meta: { status: 502 }, error: { description: "HTTP 502 Bad Gateway", data: [] } });
  });

  it("returns an empty 2xx body as unconfirmed, never as a success", async () => {
    recording.handler = (_req, res) => {
      res.writeHead(201);
      res.end();
    };
    const client = createPartnerCenterClient({ baseUrl: recording.url, tokens });
    expect(await client.postLicenseUpdate(CUSTOMER, USER, update, ctx)).toMatchObject({ ok: false, kind: "unconfirmed", meta: { status: 201 }, error: { description: "HTTP 201 with an empty body" } });
  });

  it("reports a dropped connection as a reset and no answer as a timeout", async () => {
    recording.handler = (req) => req.socket.destroy();
    const client = createPartnerCenterClient({ baseUrl: recording.url, tokens, timeoutMs: 150 });
    const reset = await client.postLicenseUpdate(CUSTOMER, USER, update, ctx);
    expect(reset).toMatchObject({ ok: false, kind: "network", error: { cause: "reset" } });
    recording.handler = () => undefined; // never answers
    const timeout = await client.postLicenseUpdate(CUSTOMER, USER, update, ctx);
    expect(timeout).toMatchObject({ ok: false, kind: "network", error: { cause: "timeout" } });
  });

  it("returns a credentials failure when no token can be had, and never shows a token", async () => {
    const refusing: AccessTokenProvider = {
      getToken: async () => {
        throw Object.assign(new Error("the refresh token was refused (AADSTS70000)"), { reason: "invalid_grant" });
      },
    };
    const client = createPartnerCenterClient({ baseUrl: recording.url, tokens: refusing });
    const result = await client.getSubscribedSkus(CUSTOMER, ["group1"], ctx);
    expect(result).toEqual({ ok: false, kind: "credentials", error: { code: "invalid_grant", description: "the refresh token was refused (AADSTS70000)", data: [] } });
    expect(seen).toHaveLength(0);

    recording.handler = reply(401, "");
    const unauthorized = await createPartnerCenterClient({ baseUrl: recording.url, tokens }).getSubscribedSkus(CUSTOMER, ["group1"], ctx);
    expect(JSON.stringify(unauthorized)).not.toContain(TOKEN);
  });
});
