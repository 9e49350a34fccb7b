// The client's transport (node:http(s) on a keep-alive Agent) against local servers on loopback:
// connections reused, never a broken one; the timeout covering the body; the caller's signal and
// its listeners; redirects not followed; refused connections; https; no process kept alive.
import { execFile } from "node:child_process";
import { getEventListeners } from "node:events";
import { createServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createPartnerCenterClient } from "../../dist/partner-center/client.js";
import type { AccessTokenProvider, CallContext } from "../../dist/partner-center/api.js";
import { useRecordingServer, type Handler } from "../support/recording-server.js";
import { makeLoopbackCertificate } from "../../dist/emulator/identity/certificate.js";

const recording = useRecordingServer();
const { seen } = recording;

const tokens: AccessTokenProvider = { getToken: async () => "token" };
const ctx: CallContext = { requestId: "a37d3009-665d-4e12-b76e-1aa10cf80140", correlationId: "c73c9570-c352-459e-98a3-dafe4bd8c821" };
const CUSTOMER = "0c39d6d5-c70d-4c55-bc02-f620844f3fd1";
const USER = "554526aa-cf5e-46fa-95df-98dbc55d8a1e";
const update = { licensesToAssign: [{ skuId: "f8a1db68-be16-40ed-86d5-cb42ce701560", excludedPlans: null }], licensesToRemove: null, attributes: { objectType: "LicenseUpdate" as const } };
const EMPTY = '{"totalCount":0,"items":[],"attributes":{"objectType":"Collection"}}';

/** `promise`, or a failure after `ms`: a guard, so a connection left open fails fast instead of hanging. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

function ok(body = EMPTY): Handler {
  return (_req, res) => {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(body);
  };
}

describe("partner center client transport", () => {
  it("keeps the connection for the next call, sends the body with its length and asks for gzip, deflate or br", async () => {
    recording.handler = ok('{"licensesToAssign":null,"licensesToRemove":null,"attributes":{"objectType":"LicenseUpdate"}}');
    const client = createPartnerCenterClient({ baseUrl: recording.url, tokens });
    expect((await client.postLicenseUpdate(CUSTOMER, USER, update, ctx)).ok).toBe(true);
    // undici hands the connection back to its pool a turn of the event loop after the answer.
    await new Promise((resolve) => setImmediate(resolve));
    expect((await client.postLicenseUpdate(CUSTOMER, USER, update, ctx)).ok).toBe(true);
    expect(seen).toHaveLength(2);
    expect(seen[1]!.port).toBe(seen[0]!.port);
    expect(seen[0]!.headers["content-length"]).toBe(String(Buffer.byteLength(seen[0]!.body)));
    expect(seen[0]!.headers["transfer-encoding"]).toBeUndefined();
    expect(seen[0]!.headers["accept-encoding"]).toBe("gzip, deflate, br");
  });

  it("resolves the path as a URL would: dot segments and stray characters of a continuation link", async () => {
    recording.handler = ok();
    const client = createPartnerCenterClient({ baseUrl: `${recording.url}/`, tokens });
    await client.getUsersPage(CUSTOMER, { uri: "/customers/c/./users/../users?seek=a b#frag", token: "tok" }, ctx);
    expect(seen[0]!.url).toBe("/v1/customers/c/users?seek=a%20b");
  });

  it("joins a repeated header as fetch did and reads the meta from it", async () => {
    recording.handler = (_req, res) => {
      res.setHeader("MS-CV", ["cv1", "cv2"]);
      res.writeHead(200, { "Content-Type": "application/json", "MS-ServerId": "s1" });
      res.end(EMPTY);
    };
    const result = await createPartnerCenterClient({ baseUrl: recording.url, tokens }).getSubscribedSkus(CUSTOMER, ["group1"], ctx);
    expect(result).toMatchObject({ ok: true, meta: { status: 200, cv: "cv1, cv2", serverId: "s1" } });
  });

  it("never follows a redirect: a 3xx is an http failure and only one request is made", async () => {
    recording.handler = (_req, res) => {
      res.writeHead(302, { Location: "/elsewhere" });
      res.end();
    };
    const result = await createPartnerCenterClient({ baseUrl: recording.url, tokens }).postLicenseUpdate(CUSTOMER, USER, update, ctx);
    expect(result).toMatchObject({ ok: false, kind: "http", meta: { status: 302 }, error: { description: "HTTP 302 Found" } });
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toHaveLength(1);
  });

  it("reports a failure's body cut short as a reset, and the next call gets a fresh connection", async () => {
    recording.handler = (_req, res) => {
      res.writeHead(503, { "Content-Type": "application/json", "Content-Length": "200" });
      res.write('{"totalCount":0,');
      setImmediate(() => res.socket?.destroy());
    };
    const client = createPartnerCenterClient({ baseUrl: recording.url, tokens });
    const cut = await client.getSubscribedSkus(CUSTOMER, ["group1"], ctx);
    expect(cut).toMatchObject({ ok: false, kind: "network", error: { cause: "reset" } });
    recording.handler = ok();
    expect((await client.getSubscribedSkus(CUSTOMER, ["group1"], ctx)).ok).toBe(true);
    expect(seen[1]!.port).not.toBe(seen[0]!.port);
  });

  it("times out a body that stalls after the headers, and does not reuse that connection", async () => {
    recording.handler = (_req, res) => {
      res.writeHead(503, { "Content-Type": "application/json", "Content-Length": "200" });
      res.write('{"totalCount":0,');
    };
    const client = createPartnerCenterClient({ baseUrl: recording.url, tokens, timeoutMs: 100 });
    const stalled = await client.getSubscribedSkus(CUSTOMER, ["group1"], ctx);
    expect(stalled).toEqual({ ok: false, kind: "network", error: { cause: "timeout", description: "no answer within 100 ms", data: [] } });
    // The abandoned connection is closed, not left half-read (nor pooled).
    await within(seen[0]!.closed, 2_000, "the abandoned connection closes");
    recording.handler = ok();
    expect((await client.getSubscribedSkus(CUSTOMER, ["group1"], ctx)).ok).toBe(true);
    expect(seen[1]!.port).not.toBe(seen[0]!.port);
  });

  it("stops when the caller's signal aborts, and leaves no listener on it", async () => {
    recording.handler = () => undefined; // never answers
    const client = createPartnerCenterClient({ baseUrl: recording.url, tokens });
    const controller = new AbortController();
    const pending = client.postLicenseUpdate(CUSTOMER, USER, update, { ...ctx, signal: controller.signal });
    while (seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
    controller.abort();
    expect(await pending).toEqual({ ok: false, kind: "network", error: { cause: "other", description: "request aborted by the runner", data: [] } });
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
    await within(seen[0]!.closed, 2_000, "the abandoned connection closes");

    // An answered call leaves none either; an already aborted signal sends nothing.
    recording.handler = ok();
    const live = new AbortController();
    expect((await client.getSubscribedSkus(CUSTOMER, ["group1"], { ...ctx, signal: live.signal })).ok).toBe(true);
    expect(getEventListeners(live.signal, "abort")).toHaveLength(0);
    recording.forget();
    const aborted = await client.getSubscribedSkus(CUSTOMER, ["group1"], { ...ctx, signal: AbortSignal.abort() });
    expect(aborted).toMatchObject({ ok: false, kind: "network", error: { cause: "other", description: "request aborted by the runner" } });
    expect(seen).toHaveLength(0);
  });

  it("reports a refused connection as another network error, naming its code", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await createPartnerCenterClient({ baseUrl: `http://127.0.0.1:${port}`, tokens }).getSubscribedSkus(CUSTOMER, ["group1"], ctx);
    expect(result).toEqual({ ok: false, kind: "network", error: { cause: "other", description: "network error (ECONNREFUSED)", data: [] } });
  });

  it("refuses a header value with a line break before sending anything, without echoing it", async () => {
    const result = await createPartnerCenterClient({ baseUrl: recording.url, tokens }).getUsersPage(CUSTOMER, { uri: "/customers/c/users", token: "tok\r\nX-Evil: 1" }, ctx);
    expect(result).toMatchObject({ ok: false, kind: "network", error: { cause: "other" } });
    expect(JSON.stringify(result)).not.toContain("X-Evil");
    expect(seen).toHaveLength(0);
  });

  it("speaks https to an https base URL, and an idle client does not keep the process alive", async () => {
    const cert = await makeLoopbackCertificate();
    const secure = createHttpsServer({ key: cert.keyPem, cert: cert.certPem }, ok());
    // A long server keep-alive: only the client's unref'd idle socket could hold the child.
    secure.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => secure.listen(0, "127.0.0.1", resolve));
    try {
      const secureUrl = `https://127.0.0.1:${(secure.address() as AddressInfo).port}`;
      const clientModule = fileURLToPath(new URL("../../dist/partner-center/client.js", import.meta.url));
      const script = `
        const { createPartnerCenterClient } = await import(${JSON.stringify(clientModule)});
        const client = createPartnerCenterClient({ baseUrl: ${JSON.stringify(secureUrl)}, tokens: { getToken: async () => "t" } });
        const ctx = { requestId: "r", correlationId: "c" };
        const first = await client.getSubscribedSkus("c", ["group1"], ctx);
        const second = await client.getSubscribedSkus("c", ["group1"], ctx);
        process.stdout.write(JSON.stringify({ first: first.ok, second: second.ok, at: performance.now() }));
      `;
      const started = performance.now();
      const { stdout, exitedAfterAnswerMs } = await new Promise<{ stdout: string; exitedAfterAnswerMs: number }>((resolve, reject) => {
        const child = execFile(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, NODE_EXTRA_CA_CERTS: cert.certPath }, timeout: 20_000 }, (error, out) => {
          if (error) reject(error);
          else {
            const childUptimeAtAnswer = (JSON.parse(out) as { at: number }).at;
            resolve({ stdout: out, exitedAfterAnswerMs: performance.now() - started - childUptimeAtAnswer });
          }
        });
        child.stdin?.end();
      });
      expect(JSON.parse(stdout)).toMatchObject({ first: true, second: true });
      // Held by a pooled socket, the child would live on for the Agent's 4 s idle time.
      expect(exitedAfterAnswerMs).toBeLessThan(2_500);
    } finally {
      secure.closeAllConnections();
      await new Promise<void>((resolve) => secure.close(() => resolve()));
      await cert.dispose();
    }
  });
});
