// Response headers (MS-RequestId/MS-CorrelationId echoed or made, MS-CV, MS-ServerId, JSON content
// type, optional BOM), the /_emulator control path (counters, log, state, reset, config), starting
// from a state file path, refusing a bad state, and the identity server started alongside.
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startEmulator, type RunningEmulator } from "../../dist/emulator/server.js";
import { DEMO_STATE_PATH, IDS, SKU, assign, control, demoState, get, licenseUpdatesPath, newRequestId, post, start } from "../support/emulator-http.js";

let emulator: RunningEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

const skus = `/v1/customers/${IDS.contoso}/subscribedskus`;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("response headers and body encoding", () => {
  it("echoes MS-RequestId and MS-CorrelationId and adds MS-CV and MS-ServerId", async () => {
    emulator = await start();
    const requestId = newRequestId();
    const correlationId = newRequestId();
    const answer = await get(emulator, skus, { headers: { "MS-RequestId": requestId, "MS-CorrelationId": correlationId } });
    expect(answer.headers.get("ms-requestid")).toBe(requestId);
    expect(answer.headers.get("ms-correlationid")).toBe(correlationId);
    expect(answer.headers.get("ms-cv")).toMatch(/^[A-Za-z0-9_-]{16}\.0$/);
    expect(answer.headers.get("ms-serverid")).toBeTruthy();
    expect(answer.headers.get("content-type")).toBe("application/json; charset=utf-8");
    // Errors carry them too.
    const refused = await get(emulator, skus, { token: null, headers: { "MS-RequestId": requestId } });
    expect(refused.headers.get("ms-requestid")).toBe(requestId);
    expect(refused.headers.get("ms-cv")).toBeTruthy();
  });

  it("makes up request and correlation ids when the client sends none", async () => {
    emulator = await start();
    const answer = await get(emulator, skus);
    expect(answer.headers.get("ms-requestid")).toMatch(GUID);
    expect(answer.headers.get("ms-correlationid")).toMatch(GUID);
  });

  it("puts a UTF-8 byte-order mark before every API body when asked, never on the control path", async () => {
    emulator = await start({ bom: true });
    const response = await fetch(emulator.url + skus, { headers: { Authorization: "Bearer emulator-app-user-token" } });
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(Number(response.headers.get("content-length"))).toBe(bytes.length);
    const refused = await fetch(emulator.url + skus);
    expect([...new Uint8Array(await refused.arrayBuffer()).slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const counters = new Uint8Array(await (await fetch(`${emulator.url}/_emulator/counters`)).arrayBuffer());
    expect(counters[0]).toBe("{".charCodeAt(0));
  });

  it("reads a request body that starts with a byte-order mark", async () => {
    emulator = await start();
    const answer = await post(emulator, licenseUpdatesPath(IDS.contoso, IDS.contosoUser(1)), `\uFEFF${JSON.stringify(assign(SKU.powerBiPro))}`);
    expect(answer.status).toBe(201);
  });
});

describe("control path", () => {
  it("counts requests by endpoint, by customer and endpoint, and by status", async () => {
    emulator = await start();
    await get(emulator, skus);
    await get(emulator, skus);
    await get(emulator, `/v1/customers/${IDS.fabrikam}/users`);
    await post(emulator, licenseUpdatesPath(IDS.contoso, IDS.contosoUser(1)), assign(SKU.powerBiPro));
    await get(emulator, `/v1/customers/${IDS.northwind}/users`);
    const counters = (await control(emulator, "counters")).json;
    expect(counters.requests.total).toBe(5);
    expect(counters.requests.byEndpoint).toEqual({ subscribedSkus: 2, users: 2, licenseUpdates: 1 });
    expect(counters.requests.byCustomer[IDS.contoso]).toEqual({ subscribedSkus: 2, licenseUpdates: 1 });
    expect(counters.requests.byCustomer[IDS.fabrikam]).toEqual({ users: 1 });
    expect(counters.requests.byStatus).toEqual({ "200": 3, "201": 1, "403": 1 });
    expect(counters.writesApplied).toBe(1);
    expect(counters.licensesAssigned).toBe(1);
    expect(counters.identity).toBeUndefined();
  });

  it("logs every API request with times, ids, status and error code", async () => {
    let clock = 1_700_000_000_000.25;
    emulator = await startEmulator({ state: demoState(), now: () => (clock += 0.5) });
    const requestId = newRequestId();
    const correlationId = newRequestId();
    await post(emulator, licenseUpdatesPath(IDS.contoso, IDS.contosoNoUsageLocation), assign(SKU.powerBiPro), {
      headers: { "MS-RequestId": requestId, "MS-CorrelationId": correlationId },
    });
    await get(emulator, skus);
    const log = (await control(emulator, "log")).json;
    expect(log.total).toBe(2);
    expect(log.dropped).toBe(0);
    const [write, read] = log.entries;
    expect(write).toMatchObject({
      seq: 0,
      method: "POST",
      endpoint: "licenseUpdates",
      customerId: IDS.contoso,
      userId: IDS.contosoNoUsageLocation,
      requestId,
      correlationId,
      status: 400,
      errorCode: "990004",
      retryAfterSeconds: null,
      fault: null,
      replayed: false,
      applied: false,
    });
    expect(write.answerMs).toBeGreaterThan(write.arrivalMs);
    expect(write.arrivalMs % 1).not.toBe(0); // sub-millisecond precision kept
    expect(read).toMatchObject({ seq: 1, method: "GET", endpoint: "subscribedSkus", userId: null, status: 200, errorCode: null });
    expect(read.arrivalMs).toBeGreaterThan(write.answerMs);
    expect((await control(emulator, "log?limit=1")).json.entries).toEqual([read]);
    expect((await control(emulator, "log?since=1")).json.entries).toEqual([read]);
  });

  it("shows the live state and resets to the initial one, clearing counters and log", async () => {
    emulator = await start();
    const user = IDS.contosoUser(1);
    await post(emulator, licenseUpdatesPath(IDS.contoso, user), {
      licensesToAssign: [{ skuId: SKU.e3, excludedPlans: ["57ff2da0-773e-42df-b2af-ffb7a2317929"] }],
    });
    const state = (await control(emulator, `state?customerId=${IDS.contoso.toUpperCase()}`)).json;
    expect(state.customers).toHaveLength(1);
    const contoso = state.customers[0];
    expect(contoso).toMatchObject({ id: IDS.contoso, companyName: "Contoso Ltd", access: "granted" });
    expect(contoso.subscribedSkus.find((s: { productSku: { id: string } }) => s.productSku.id === SKU.e3)).toMatchObject({ consumedUnits: 3, availableUnits: 7 });
    expect(contoso.users[0]).toMatchObject({
      id: user,
      userPrincipalName: "adele.vance@contoso.example",
      usageLocation: "US",
      licenses: [{ skuId: SKU.e3, excludedPlans: ["57ff2da0-773e-42df-b2af-ffb7a2317929"] }],
    });
    expect((await control(emulator, "state")).json.customers.map((c: { access: string }) => c.access)).toEqual([
      "granted",
      "granted",
      "missing-gdap-role",
      "no-relationship",
    ]);

    expect((await control(emulator, "reset", {})).status).toBe(200);
    const after = (await control(emulator, `state?customerId=${IDS.contoso}`)).json.customers[0];
    expect(after.users[0].licenses).toEqual([]);
    expect(after.subscribedSkus.find((s: { productSku: { id: string } }) => s.productSku.id === SKU.e3).consumedUnits).toBe(2);
    expect((await control(emulator, "counters")).json.requests.total).toBe(0);
    expect((await control(emulator, "log")).json.total).toBe(0);
  });

  it("changes latency, BOM and faults at run time and refuses bad settings", async () => {
    emulator = await start();
    const changed = await control(emulator, "config", { latencyMs: 40, bom: true });
    expect(changed.status).toBe(200);
    expect(changed.json).toMatchObject({ latencyMs: 40, bom: true, maxPageSize: 100 });
    const answer = await get(emulator, skus);
    expect(answer.text.startsWith("\uFEFF")).toBe(true);
    const entry = (await control(emulator, "log")).json.entries.at(-1);
    expect(entry.answerMs - entry.arrivalMs).toBeGreaterThanOrEqual(39);

    expect((await control(emulator, "config", { faults: { errorRate: 1 } })).status).toBe(200);
    expect([500, 503]).toContain((await get(emulator, skus)).status);

    expect((await control(emulator, "config", { faults: { errorRate: 2 } })).status).toBe(400);
    expect((await control(emulator, "config", { rateLimit: "tenant=3" })).status).toBe(400);
    expect((await control(emulator, "config", { latency: 5 })).status).toBe(400);
    expect((await control(emulator, "config")).json.faults).toEqual({ errorRate: 1 });
    expect((await fetch(`${emulator.url}/_emulator/nothing`)).status).toBe(404);
  });
});

describe("starting", () => {
  it("starts from a state file path", async () => {
    emulator = await startEmulator({ state: DEMO_STATE_PATH });
    expect(emulator.url).toBe(`http://127.0.0.1:${emulator.port}`);
    expect((await get(emulator, skus)).status).toBe(200);
  });

  it("refuses a state whose references do not hold, naming the problem", async () => {
    const state = demoState();
    state.customers[0]!.users[0]!.licenses = [{ skuId: "11111111-2222-3333-4444-555555555555" }];
    await expect(startEmulator({ state })).rejects.toThrow(/does not subscribe to/);
    const dir = mkdtempSync(join(tmpdir(), "emulator-state-"));
    const file = join(dir, "bad.json");
    writeFileSync(file, JSON.stringify({ partner: { tenantId: "nope" }, accessTokens: [], customers: [] }));
    await expect(startEmulator({ state: file })).rejects.toThrow(/partner.tenantId/);
    const overbooked = demoState();
    overbooked.customers[1]!.subscribedSkus[0]!.activeUnits = 2; // Fabrikam: 3 Power BI Pro holders
    await expect(startEmulator({ state: overbooked })).rejects.toThrow(/3 seats consumed but only 2/);
  });

  it("starts the identity server alongside and reports its counters", async () => {
    emulator = await start({ identity: true });
    expect(emulator.identity?.authority).toMatch(/^https:\/\/127\.0\.0\.1:\d+\//);
    const counters = (await control(emulator, "counters")).json;
    expect(counters.identity).toBeTypeOf("object");
    expect(counters.identity.tokenRequests ?? 0).toBe(0);
  });
});
