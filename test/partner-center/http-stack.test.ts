// What may be said about the proxy in a log or an error: never its user name or password.
import { describe, expect, it } from "vitest";
import { describeProxyEnvironment, redactProxyUrl, redactUrlCredentials } from "../../dist/partner-center/http-stack.js";

describe("proxy settings as logged", () => {
  it("masks the credentials of a proxy URL and keeps the rest", () => {
    expect(redactProxyUrl("http://msp-svc:S3cret%21@proxy.corp.example:3128")).toBe("http://***@proxy.corp.example:3128");
    expect(redactProxyUrl("http://proxy.corp.example:3128/")).toBe("http://proxy.corp.example:3128");
    expect(redactProxyUrl("not a url :// user:pw@x")).toBe("(unreadable proxy URL)");
  });

  it("masks URL credentials anywhere in a text", () => {
    expect(redactUrlCredentials("connect to http://user:pw@proxy:8080 failed; https://a:b@c/ too")).toBe("connect to http://***@proxy:8080 failed; https://***@c/ too");
  });

  it("describes the environment's proxies, lower-case spellings first, NO_PROXY as given", () => {
    const described = describeProxyEnvironment({ https_proxy: "http://u:p@lower:1", HTTPS_PROXY: "http://upper:2", HTTP_PROXY: "http://h:3", NO_PROXY: "localhost,.corp.example" });
    expect(described).toEqual({ httpsProxy: "http://***@lower:1", httpProxy: "http://h:3", noProxy: "localhost,.corp.example" });
    expect(JSON.stringify(described)).not.toContain(":p@");
    expect(describeProxyEnvironment({})).toEqual({});
  });
});
