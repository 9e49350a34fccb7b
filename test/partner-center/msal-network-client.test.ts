// MSAL's network module on the client's HTTP stack: what MSAL's own HttpClient returns (JSON of any
// status, flat headers) and throws (AuthError network_error / token_parsing_error), through a proxy
// when one is set, and never with a proxy's credentials in an error.
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMsalNetworkClient } from "../../dist/partner-center/msal-network-client.js";
import { createDispatcher } from "../../dist/partner-center/http-stack.js";
import { userImpersonationScope, cloudOfBaseUrl } from "../../dist/partner-center/cloud.js";
import { startRecordingServer, type RecordingServer } from "../support/recording-server.js";
import { startForwardProxy, type ForwardProxy } from "../support/forward-proxy.js";

let recording: RecordingServer;
let proxy: ForwardProxy;

beforeAll(async () => {
  recording = await startRecordingServer();
  proxy = await startForwardProxy({ hosts: { "login.only-via-proxy.invalid": "127.0.0.1" } });
});
afterAll(async () => {
  await recording.close();
  await proxy.close();
});

describe("MSAL network client", () => {
  it("GETs JSON and POSTs a form, returning status, flat headers and the parsed body of any status", async () => {
    recording.forget();
    recording.handler = (req, res) => {
      const status = req.method === "POST" ? 400 : 200;
      res.writeHead(status, { "Content-Type": "application/json", "X-Ms-Request-Id": "abc" });
      res.end(req.method === "POST" ? '{"error":"invalid_grant","error_codes":[700082]}' : '{"token_endpoint":"https://x/token"}');
    };
    const client = createMsalNetworkClient(createDispatcher());
    const get = await client.sendGetRequestAsync<{ token_endpoint: string }>(`${recording.url}/tenant/v2.0/.well-known/openid-configuration`, { headers: { "x-client-sku": "msal.js.node" } });
    expect(get).toMatchObject({ status: 200, body: { token_endpoint: "https://x/token" }, headers: { "x-ms-request-id": "abc" } });
    const post = await client.sendPostRequestAsync<{ error: string }>(`${recording.url}/tenant/oauth2/v2.0/token`, { headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "grant_type=refresh_token" });
    expect(post).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    expect(recording.seen[0]!.headers["x-client-sku"]).toBe("msal.js.node");
    expect(recording.seen[1]).toMatchObject({ method: "POST", body: "grant_type=refresh_token" });
  });

  it("decodes a gzip answer", async () => {
    recording.handler = (_req, res) => {
      const body = gzipSync('{"ok":true}');
      res.writeHead(200, { "Content-Type": "application/json", "Content-Encoding": "gzip", "Content-Length": body.length });
      res.end(body);
    };
    expect((await createMsalNetworkClient(createDispatcher()).sendGetRequestAsync(`${recording.url}/x`)).body).toEqual({ ok: true });
  });

  it("throws token_parsing_error for a body that is not JSON, and network_error when nothing answers", async () => {
    recording.handler = (_req, res) => res.writeHead(502, { "Content-Type": "text/html" }).end("<html>gateway</html>");
    const client = createMsalNetworkClient(createDispatcher());
    await expect(client.sendGetRequestAsync(`${recording.url}/x`)).rejects.toMatchObject({ errorCode: "token_parsing_error" });
    await expect(client.sendGetRequestAsync("http://127.0.0.1:1/x")).rejects.toMatchObject({ errorCode: "network_error" });
  });

  it("goes through the proxy to a name only the proxy resolves, and a refusing proxy's credentials never appear in the error", async () => {
    recording.handler = (_req, res) => res.writeHead(200, { "Content-Type": "application/json" }).end("{}");
    const port = new URL(recording.url).port;
    const through = createMsalNetworkClient(createDispatcher({ httpProxy: proxy.url, httpsProxy: proxy.url }));
    expect((await through.sendGetRequestAsync(`http://login.only-via-proxy.invalid:${port}/x`)).status).toBe(200);
    expect(proxy.seen.map((s) => s.target)).toContain(`login.only-via-proxy.invalid:${port}`);

    const guarded = await startForwardProxy({ requireAuthorization: "Basic never" });
    try {
      const proxyUrl = new URL(guarded.url);
      proxyUrl.username = "svc-user";
      proxyUrl.password = "Pr0xy-Pa55word";
      const refused = createMsalNetworkClient(createDispatcher({ httpProxy: proxyUrl.toString(), httpsProxy: proxyUrl.toString() }));
      const error = await refused.sendGetRequestAsync(`http://127.0.0.1:${port}/x`).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error).toMatchObject({ errorCode: "network_error" });
      expect(`${error?.message} ${JSON.stringify(error)}`).not.toContain("Pr0xy-Pa55word");
      expect(guarded.seen).toHaveLength(1);
    } finally {
      await guarded.close();
    }
  });
});

describe("cloud of a base URL", () => {
  it.each([
    ["https://api.partnercenter.microsoft.com", "https://api.partnercenter.microsoft.com/user_impersonation"],
    ["https://api.partnercenter.microsoft.com/", "https://api.partnercenter.microsoft.com/user_impersonation"],
    ["https://partner.partnercenterapi.microsoftonline.cn", "https://partner.partnercenterapi.microsoftonline.cn/user_impersonation"],
    ["https://PARTNER.partnercenterapi.microsoftonline.cn/v1/", "https://partner.partnercenterapi.microsoftonline.cn/user_impersonation"],
    ["http://127.0.0.1:4010", "https://api.partnercenter.microsoft.com/user_impersonation"],
    [undefined, "https://api.partnercenter.microsoft.com/user_impersonation"],
  ])("%s asks for %s", (baseUrl, scope) => {
    expect(userImpersonationScope(baseUrl)).toBe(scope);
  });

  it("names 21Vianet's authority for its API", () => {
    expect(cloudOfBaseUrl("https://partner.partnercenterapi.microsoftonline.cn")).toMatchObject({ name: "china", authority: "https://login.chinacloudapi.cn" });
  });
});
