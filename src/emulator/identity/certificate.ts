// The identity endpoint's TLS certificate: a self-signed one made at start (MSAL only talks https),
// valid for the loopback names, and written to a temp file so a child process can trust it through
// NODE_EXTRA_CA_CERTS (Node reads that variable only at process start).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generate } from "selfsigned";

export interface LoopbackCertificate {
  keyPem: string;
  certPem: string;
  /** A temp file holding certPem. */
  certPath: string;
  /** Removes the temp file. */
  dispose(): Promise<void>;
}

export async function makeLoopbackCertificate(): Promise<LoopbackCertificate> {
  const notBeforeDate = new Date(Date.now() - 60_000); // tolerate small clock differences
  const notAfterDate = new Date(notBeforeDate.getTime() + 7 * 24 * 3600_000);
  // EC keys: generated in milliseconds, where RSA 2048 would slow every test start.
  const pems = await generate([{ name: "commonName", value: "license-runner emulator identity" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate,
    extensions: [
      // It is its own trust anchor when a client adds it to its CA list.
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", digitalSignature: true, keyCertSign: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
          { type: 2, value: "localhost" },
          // Names a test resolves only through its forward proxy (a partner network with a proxy).
          { type: 2, value: "*.license-runner.invalid" },
        ],
      },
    ],
  });
  const dir = await mkdtemp(join(tmpdir(), "license-runner-identity-"));
  const certPath = join(dir, "emulator-ca.pem");
  await writeFile(certPath, pems.cert, { mode: 0o644 });
  return {
    keyPem: pems.private,
    certPem: pems.cert,
    certPath,
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
