// End to end: `license-runner emulate` serves the demo state on loopback with the flags' limits.
import type { ChildProcess } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { runCli, startCli } from "../support/cli.js";

const CONTOSO = "0cb71128-b604-5c47-b6e7-59988e7a307a";

let running: ChildProcess | undefined;
afterEach(() => {
  // A failed assertion must not leave the server behind.
  if (running && running.exitCode === null) running.kill("SIGKILL");
  running = undefined;
});

describe("license-runner emulate", () => {
  it("serves the demo state, throttles per --rate-limit, and stops on SIGTERM", async () => {
    const { child, done } = startCli(["emulate", "--port", "0", "--rate-limit", "customer=1:1", "--bom"]);
    running = child;
    const url = await new Promise<string>((resolve, reject) => {
      let seen = "";
      child.stdout!.on("data", (chunk: Buffer) => {
        seen += chunk.toString();
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen);
        if (match?.[1]) resolve(match[1]);
      });
      child.once("exit", () => reject(new Error(`emulate exited: ${seen}`)));
    });
    const get = () =>
      fetch(`${url}/v1/customers/${CONTOSO}/subscribedskus`, { headers: { authorization: "Bearer emulator-app-user-token", accept: "application/json" } });
    const first = await get();
    const bytes = Buffer.from(await first.arrayBuffer()); // text() would strip the BOM
    expect(first.status).toBe(200);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]); // --bom
    expect(JSON.parse(bytes.subarray(3).toString("utf8")).items.every((s: { productSku: { licenseGroupId: string } }) => s.productSku.licenseGroupId === "group1")).toBe(true);
    const second = await get();
    expect(second.status).toBe(429);
    expect(Number(second.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);

    child.kill("SIGTERM");
    expect((await done).code).toBe(0);
  });

  it("refuses a malformed --rate-limit with exit 2", async () => {
    const run = await runCli(["emulate", "--port", "0", "--rate-limit", "customer=fast"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--rate-limit/);
  });

  it("throttles with a window, a pessimistic Retry-After given as an HTTP-date, from the throttling flags", async () => {
    const { child, done } = startCli(["emulate", "--port", "0", "--rate-limit", "customer=fixed:1/1m", "--retry-after", "pessimistic:90", "--retry-after-format", "http-date"]);
    running = child;
    const url = await new Promise<string>((resolve, reject) => {
      let seen = "";
      child.stdout!.on("data", (chunk: Buffer) => {
        seen += chunk.toString();
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen);
        if (match?.[1]) resolve(match[1]);
      });
      child.once("exit", () => reject(new Error(`emulate exited: ${seen}`)));
    });
    const get = () => fetch(`${url}/v1/customers/${CONTOSO}/subscribedskus`, { headers: { authorization: "Bearer emulator-app-user-token", accept: "application/json" } });
    expect((await get()).status).toBe(200);
    const refused = await get();
    expect(refused.status).toBe(429);
    const saysSeconds = (Date.parse(refused.headers.get("retry-after") ?? "") - Date.now()) / 1000;
    expect(saysSeconds).toBeGreaterThan(85); // at least the 90 s given, though the window ends within a minute
    expect(saysSeconds).toBeLessThanOrEqual(91);
    child.kill("SIGTERM");
    expect((await done).code).toBe(0);
  });

  it("refuses a malformed --retry-after with exit 2", async () => {
    const run = await runCli(["emulate", "--port", "0", "--retry-after", "sometimes"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--retry-after/);
  });
});
