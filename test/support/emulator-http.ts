// Shared by the emulator tests: the demo state, its well-known ids, and small fetch helpers that
// talk to a running emulator over HTTP like any client would.
import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { startEmulator, type EmulatorOptions, type RunningEmulator } from "../../dist/emulator/server.js";
import type { EmulatorStateFile } from "../../dist/emulator/state-file.js";

export const DEMO_STATE_PATH = new URL("../../fixtures/emulator/demo-state.json", import.meta.url).pathname;

/** A fresh copy of the demo state each time, so a test may edit it. */
export function demoState(): EmulatorStateFile {
  return JSON.parse(readFileSync(DEMO_STATE_PATH, "utf8")) as EmulatorStateFile;
}

const state = demoState();
const [contoso, fabrikam, northwind, woodgrove] = state.customers;
if (!contoso || !fabrikam || !northwind || !woodgrove) throw new Error("demo state lost a customer");

function userId(customer: typeof contoso, n: number): string {
  const user = customer.users[n - 1];
  if (!user) throw new Error(`no user ${n}`);
  return user.id;
}

export const IDS = {
  contoso: contoso.id,
  fabrikam: fabrikam.id,
  northwind: northwind.id,
  woodgrove: woodgrove.id,
  contosoUser: (n: number) => userId(contoso, n),
  fabrikamUser: (n: number) => userId(fabrikam, n),
  northwindUser: (n: number) => userId(northwind, n),
  contosoNoUsageLocation: userId(contoso, 20),
};

export const SKU = {
  powerBiPro: "f8a1db68-be16-40ed-86d5-cb42ce701560",
  e3: "6fd2c87f-b296-42f0-b197-1e91e994b900",
  exchangePlan1: "4b9405b0-7788-4568-add1-99614e613b69",
  minecraftFaculty: "984df360-9a74-4647-8cf8-696749f6247a",
};

export const PLAN = {
  teams1: "57ff2da0-773e-42df-b2af-ffb7a2317929",
  exchangeEnterprise: "efb87545-963c-4e0d-99df-69c6916d9eb0",
  biAzureP2: "70d33638-9c74-4d01-bfd3-562de28bd4ba",
};

export const TOKEN = {
  appUser: "emulator-app-user-token",
  appOnly: "emulator-app-only-token",
  caBlocked: "emulator-ca-blocked-token",
  noMfa: "emulator-no-mfa-token",
  expired: "emulator-expired-token",
};

export async function start(options: Partial<EmulatorOptions> = {}): Promise<RunningEmulator> {
  return startEmulator({ state: demoState(), ...options });
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function answer(response: Response): Promise<Answer> {
  // ignoreBOM keeps a byte-order mark in `text` (response.text() would strip it silently).
  const text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(await response.arrayBuffer());
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

export interface CallOptions {
  token?: string | null;
  headers?: Record<string, string>;
}

function headersFor(options: CallOptions): Record<string, string> {
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  const token = options.token === undefined ? TOKEN.appUser : options.token;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  return headers;
}

export async function get(emulator: RunningEmulator, path: string, options: CallOptions = {}): Promise<Answer> {
  return answer(await fetch(emulator.url + path, { headers: headersFor(options) }));
}

export async function post(emulator: RunningEmulator, path: string, body: unknown, options: CallOptions = {}): Promise<Answer> {
  return answer(
    await fetch(emulator.url + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headersFor(options) },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
  );
}

export function licenseUpdatesPath(customerId: string, userId: string): string {
  return `/v1/customers/${customerId}/users/${userId}/licenseupdates`;
}

export function assign(...skuIds: string[]): unknown {
  return {
    licensesToAssign: skuIds.map((skuId) => ({ skuId, excludedPlans: null })),
    licensesToRemove: null,
    attributes: { objectType: "LicenseUpdate" },
  };
}

export function remove(...skuIds: string[]): unknown {
  return { licensesToAssign: null, licensesToRemove: skuIds, attributes: { objectType: "LicenseUpdate" } };
}

/** The SubscribedSku of `skuId` as the API reports it now (both groups asked). */
export async function skuCounts(emulator: RunningEmulator, customerId: string, skuId: string): Promise<Record<string, number>> {
  const answer = await get(emulator, `/v1/customers/${customerId}/subscribedskus?licenseGroupIds=Group1&licenseGroupIds=Group2`);
  const item = answer.json.items.find((i: { productSku: { id: string } }) => i.productSku.id === skuId);
  if (!item) throw new Error(`no SKU ${skuId}`);
  return item;
}

export async function control(emulator: RunningEmulator, path: string, body?: unknown): Promise<Answer> {
  return answer(
    await fetch(`${emulator.url}/_emulator/${path}`, body === undefined ? {} : { method: "POST", body: JSON.stringify(body) }),
  );
}

export const newRequestId = (): string => randomUUID();
