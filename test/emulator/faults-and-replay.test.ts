// Injected faults (5xx, resets, slow answers, writes committed then dropped), their determinism
// under a seed, and the MS-RequestId replay that makes a retried write safe: the first answer comes
// back and no second seat is consumed.
import { afterEach, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../dist/emulator/server.js";
import { IDS, SKU, assign, control, get, licenseUpdatesPath, newRequestId, post, remove, skuCounts, start } from "../support/emulator-http.js";

let emulator: RunningEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

const skus = (customerId: string) => `/v1/customers/${customerId}/subscribedskus`;

async function statuses(running: RunningEmulator, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i += 1) out.push((await get(running, skus(IDS.contoso))).status);
  return out;
}

describe("faults", () => {
  it("answers 500 or 503 at errorRate 1, applies nothing, and leaves the control path alone", async () => {
    emulator = await start({ faults: { errorRate: 1 }, seed: 7 });
    const seen = new Set(await statuses(emulator, 20));
    expect(seen).toEqual(new Set([500, 503]));
    const write = await post(emulator, licenseUpdatesPath(IDS.contoso, IDS.contosoUser(1)), assign(SKU.powerBiPro));
    expect([500, 503]).toContain(write.status);
    expect([990500, 990503]).toContain(write.json.code);
    const counters = await control(emulator, "counters");
    expect(counters.status).toBe(200);
    expect(counters.json.faults.error500 + counters.json.faults.error503).toBe(21);
    expect(counters.json.writesApplied).toBe(0);
    const state = (await control(emulator, "state")).json;
    const powerBi = state.customers[0].subscribedSkus[0];
    expect(powerBi.consumedUnits).toBe(12);
  });

  it("gives the same faults for the same seed", async () => {
    const first = await start({ faults: { errorRate: 0.5 }, seed: 42 });
    const second = await start({ faults: { errorRate: 0.5 }, seed: 42 });
    try {
      const a = await statuses(first, 30);
      const b = await statuses(second, 30);
      expect(a).toEqual(b);
      expect(a).toContain(200);
      expect(a.some((s) => s >= 500)).toBe(true);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it("resets the connection without an answer and without applying the write", async () => {
    emulator = await start({ faults: { resetRate: 1 }, seed: 1 });
    const requestId = newRequestId();
    const call = post(emulator, licenseUpdatesPath(IDS.contoso, IDS.contosoUser(1)), assign(SKU.powerBiPro), {
      headers: { "MS-RequestId": requestId },
    });
    await expect(call).rejects.toThrow();
    const log = (await control(emulator, "log")).json.entries;
    expect(log.at(-1)).toMatchObject({ requestId, status: null, fault: "reset", applied: false });

    // Not applied and not remembered: the retry with the same id is applied for the first time.
    await control(emulator, "config", { faults: null });
    expect(await skuCounts(emulator, IDS.contoso, SKU.powerBiPro)).toMatchObject({ consumedUnits: 12 });
    const retry = await post(emulator, licenseUpdatesPath(IDS.contoso, IDS.contosoUser(1)), assign(SKU.powerBiPro), {
      headers: { "MS-RequestId": requestId },
    });
    expect(retry.status).toBe(201);
    expect((await control(emulator, "log")).json.entries.at(-1)).toMatchObject({ requestId, replayed: false, applied: true });
  });

  it("delays slow answers by slowMs (measured by the emulator's own timestamps)", async () => {
    emulator = await start({ faults: { slowRate: 1, slowMs: 60 }, seed: 3 });
    expect((await get(emulator, skus(IDS.contoso))).status).toBe(200);
    const [entry] = (await control(emulator, "log")).json.entries;
    expect(entry.fault).toBe("slow");
    expect(entry.answerMs - entry.arrivalMs).toBeGreaterThanOrEqual(59);
    expect((await control(emulator, "counters")).json.faults.slow).toBe(1);
  });
});

describe("MS-RequestId replay", () => {
  it("drops a committed write, then replays its answer to the retry without consuming a second seat", async () => {
    emulator = await start({ faults: { dropAfterCommitRate: 1 }, seed: 9 });
    const path = licenseUpdatesPath(IDS.contoso, IDS.contosoUser(1));
    const requestId = newRequestId();
    await expect(post(emulator, path, assign(SKU.powerBiPro), { headers: { "MS-RequestId": requestId } })).rejects.toThrow();
    // Committed although the client saw no answer.
    expect(await skuCounts(emulator, IDS.contoso, SKU.powerBiPro)).toMatchObject({ consumedUnits: 13, availableUnits: 12 });

    const retry = await post(emulator, path, assign(SKU.powerBiPro), { headers: { "MS-RequestId": requestId } });
    expect(retry.status).toBe(201);
    expect(retry.json).toEqual({ licensesToAssign: [{ skuId: SKU.powerBiPro }], licenseWarnings: [], attributes: { objectType: "LicenseUpdate" } });
    expect(retry.headers.get("ms-requestid")).toBe(requestId);
    expect(await skuCounts(emulator, IDS.contoso, SKU.powerBiPro)).toMatchObject({ consumedUnits: 13, availableUnits: 12 });

    const counters = (await control(emulator, "counters")).json;
    expect(counters.writesApplied).toBe(1);
    expect(counters.licensesAssigned).toBe(1);
    expect(counters.replays).toBe(1);
    expect(counters.faults.dropAfterCommit).toBe(1);
    const writes = (await control(emulator, "log")).json.entries.filter((e: { endpoint: string }) => e.endpoint === "licenseUpdates");
    expect(writes.map((e: { status: number | null; fault: string | null; replayed: boolean; applied: boolean }) => [e.status, e.fault, e.replayed, e.applied])).toEqual([
      [null, "dropAfterCommit", false, true],
      [201, null, true, false],
    ]);
  });

  it("replays a business failure as first answered, even after the seats changed", async () => {
    emulator = await start();
    const path = licenseUpdatesPath(IDS.fabrikam, IDS.fabrikamUser(6));
    await post(emulator, licenseUpdatesPath(IDS.fabrikam, IDS.fabrikamUser(4)), assign(SKU.powerBiPro));
    await post(emulator, licenseUpdatesPath(IDS.fabrikam, IDS.fabrikamUser(5)), assign(SKU.powerBiPro));
    const requestId = newRequestId();
    const first = await post(emulator, path, assign(SKU.powerBiPro), { headers: { "MS-RequestId": requestId } });
    expect(first.json.code).toBe(60012);
    await post(emulator, licenseUpdatesPath(IDS.fabrikam, IDS.fabrikamUser(1)), remove(SKU.powerBiPro)); // a seat frees up
    const replayed = await post(emulator, path, assign(SKU.powerBiPro), { headers: { "MS-RequestId": requestId.toUpperCase() } });
    expect(replayed.status).toBe(400);
    expect(replayed.json).toEqual(first.json);
    // A new request id is a new request.
    expect((await post(emulator, path, assign(SKU.powerBiPro), { headers: { "MS-RequestId": newRequestId() } })).status).toBe(201);
  });

  it("does not replay GETs", async () => {
    emulator = await start();
    const requestId = newRequestId();
    const before = await get(emulator, skus(IDS.contoso), { headers: { "MS-RequestId": requestId } });
    await post(emulator, licenseUpdatesPath(IDS.contoso, IDS.contosoUser(1)), assign(SKU.powerBiPro));
    const after = await get(emulator, skus(IDS.contoso), { headers: { "MS-RequestId": requestId } });
    expect(after.json.items[0].consumedUnits).toBe(before.json.items[0].consumedUnits + 1);
    expect((await control(emulator, "counters")).json.replays).toBe(0);
  });
});
