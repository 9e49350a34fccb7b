// A TLS certificate the runner does not trust (a TLS-inspecting proxy's, say) fails every call
// alike: the run stops (exit 4) once two customers' lookups met it, with one message naming
// NODE_EXTRA_CA_CERTS, instead of failing every customer one by one.
import { afterEach, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeLoopbackCertificate, type LoopbackCertificate } from "../../dist/emulator/identity/certificate.js";
import { cleanEnv, readResults, runCli } from "../support/cli.js";
import { humanStderr } from "../support/auth-e2e.js";
import { customer, roster, TOKEN } from "../support/state-builder.js";

let server: Server | undefined;
let certificate: LoopbackCertificate | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await certificate?.dispose();
  server = certificate = undefined;
});

describe("an untrusted TLS certificate", () => {
  it("stops the run with NETWORK_TLS after the lookups in flight, saying to trust the CA", async () => {
    certificate = await makeLoopbackCertificate();
    let handshakes = 0;
    server = createServer({ key: certificate.keyPem, cert: certificate.certPem }, (_req, res) => res.end("{}"));
    server.on("tlsClientError", () => handshakes++);
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const customers = Array.from({ length: 10 }, (_, i) => customer(i + 1, 1, { powerBiPro: 1 }));
    const dir = await mkdtemp(join(tmpdir(), "lr-e2e-tls-"));
    const input = join(dir, "roster.csv");
    const output = join(dir, "results.csv");
    await writeFile(input, roster(customers.map((c) => [c.id, c.users[0]!.id, "Power BI Pro", "assign"])));
    const cli = await runCli(["run", "--input", input, "--output", output, "--base-url", baseUrl, "--log-format", "json", "--no-progress", "--max-attempts", "2"], {
      env: cleanEnv({ PARTNER_CENTER_ACCESS_TOKEN: TOKEN, NO_PROXY: "*" }),
    });
    expect(cli.code, cli.stderr).toBe(4);
    expect(humanStderr(cli.stderr)).toContain("NODE_EXTRA_CA_CERTS");
    const results = await readResults(output);
    expect(results).toHaveLength(10);
    expect(results.filter((r) => r.status === "aborted").every((r) => r.errorCode === "NETWORK_TLS")).toBe(true);
    expect(results.filter((r) => r.status === "aborted").length).toBeGreaterThanOrEqual(5);
    // The first customer and the four read ahead of it, two lookups each (SKUs, company name), two
    // attempts each; and, on a loaded machine, one customer more (CI measured 22 once; 13 to 20 in
    // 24 runs here, 12 of them beside two CPU burners): most likely the first customer's failure
    // came back before any other's and the plan read one further ahead before the second
    // customer's stopped the run. Far fewer than the ten customers' 40.
    expect(handshakes).toBeLessThanOrEqual(6 * 2 * 2);
  });
});
