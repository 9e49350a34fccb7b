// The token scope follows the API's cloud: a run against 21Vianet's Partner Center asks the
// authority for 21Vianet's user_impersonation scope, a run against the global one for the global
// scope. The authority here is a small recording HTTPS endpoint on loopback that refuses the grant,
// so the run stops at sign-in and never calls the (unreachable) API.
import { afterEach, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeLoopbackCertificate, type LoopbackCertificate } from "../../dist/emulator/identity/certificate.js";
import { cleanEnv, runCli } from "../support/cli.js";
import { roster } from "../support/state-builder.js";

const TENANT = "7e2a4c61-1b3d-4e5f-8a9b-0c1d2e3f4a5b";
let server: Server | undefined;
let certificate: LoopbackCertificate | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await certificate?.dispose();
  server = certificate = undefined;
});

/** An authority that serves its OpenID configuration and records the scope of every token request (then refuses it). */
async function recordingAuthority(): Promise<{ url: string; caPath: string; scopes: string[] }> {
  certificate = await makeLoopbackCertificate();
  const scopes: string[] = [];
  let origin = "";
  server = createServer({ key: certificate.keyPem, cert: certificate.certPem }, (req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      if (req.method === "GET" && (req.url ?? "").endsWith("/v2.0/.well-known/openid-configuration")) {
        return res.end(
          JSON.stringify({
            token_endpoint: `${origin}/${TENANT}/oauth2/v2.0/token`,
            authorization_endpoint: `${origin}/${TENANT}/oauth2/v2.0/authorize`,
            issuer: `${origin}/${TENANT}/v2.0`,
            jwks_uri: `${origin}/${TENANT}/discovery/v2.0/keys`,
          }),
        );
      }
      scopes.push(new URLSearchParams(body).get("scope") ?? "");
      res.statusCode = 400;
      res.end(JSON.stringify({ error: "invalid_grant", error_description: "AADSTS70000: refused by the test authority.", error_codes: [70000] }));
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url: origin, caPath: certificate.certPath, scopes };
}

async function signInFor(baseUrl: string): Promise<{ code: number | null; scopes: string[] }> {
  const authority = await recordingAuthority();
  const dir = await mkdtemp(join(tmpdir(), "lr-e2e-cloud-"));
  const input = join(dir, "roster.csv");
  await writeFile(input, roster([["c0000001-0000-4000-8000-000000000000", "a0000001-0000-4000-8000-000000000001", "f8a1db68-be16-40ed-86d5-cb42ce701560", "assign"]]));
  const cli = await runCli(["run", "--input", input, "--output", join(dir, "results.csv"), "--base-url", baseUrl, "--log-format", "json", "--no-progress"], {
    env: cleanEnv({
      NODE_EXTRA_CA_CERTS: authority.caPath,
      PARTNER_CENTER_AUTHORITY: authority.url,
      PARTNER_CENTER_TENANT_ID: TENANT,
      PARTNER_CENTER_CLIENT_ID: "3c4d5e6f-0000-4000-8000-0000000e2e01",
      PARTNER_CENTER_CLIENT_SECRET: "cloud-test-secret",
      PARTNER_CENTER_REFRESH_TOKEN: "cloud-test-refresh-token",
      NO_PROXY: "*",
    }),
  });
  return { code: cli.code, scopes: authority.scopes };
}

describe("sovereign clouds", () => {
  it("a 21Vianet base URL asks for the 21Vianet scope", async () => {
    const { code, scopes } = await signInFor("https://partner.partnercenterapi.microsoftonline.cn");
    expect(code).toBe(4);
    expect(scopes.length).toBeGreaterThanOrEqual(1);
    for (const scope of scopes) {
      expect(scope.split(" ")).toContain("https://partner.partnercenterapi.microsoftonline.cn/user_impersonation");
      expect(scope).not.toContain("api.partnercenter.microsoft.com");
    }
  });

  it("the global base URL asks for the global scope", async () => {
    const { scopes } = await signInFor("https://api.partnercenter.microsoft.com");
    expect(scopes[0]!.split(" ")).toContain("https://api.partnercenter.microsoft.com/user_impersonation");
  });
});
