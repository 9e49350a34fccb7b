// The benchmark's data: emulator states (customers, their SKUs, optionally their users) and roster
// CSVs, generated on the fly. Rosters are streamed to disk in chunks so a 1,000,000-row file never
// sits in the benchmark's memory as one string.
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import type { EmulatorStateFile, StateCustomer, StateSubscribedSku } from "../emulator/state-file.js";

export const BENCH_TOKEN = "bench-app-user-token";

/** Two group1 SKUs (the docs' Power BI Pro and Office 365 E3), seats for every user. */
export const SKUS = {
  powerBiPro: { id: "f8a1db68-be16-40ed-86d5-cb42ce701560", name: "Power BI Pro", partNumber: "POWER_BI_PRO" },
  e3: { id: "6fd2c87f-b296-42f0-b197-1e91e994b900", name: "Office 365 Enterprise E3", partNumber: "ENTERPRISEPACK" },
} as const;

/** A GUID whose first block names what it is and whose last block is the number n. */
export function guid(kind: number, n: number): string {
  return `${kind.toString(16).padStart(8, "0")}-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
}

export const customerId = (c: number): string => guid(0xc0000000, c);
export const userId = (c: number, u: number): string => guid(0xa0000000 + c, u);

function subscribedSkus(seats: number): StateSubscribedSku[] {
  return [
    {
      productSku: { id: SKUS.powerBiPro.id, name: SKUS.powerBiPro.name, skuPartNumber: SKUS.powerBiPro.partNumber, targetType: "User", licenseGroupId: "group1" },
      servicePlans: [{ displayName: "Power BI Pro", serviceName: "BI_AZURE_P2", id: "70d33638-9c74-4d01-bfd3-562de28bd4ba", capabilityStatus: "Enabled", targetType: "User" }],
      activeUnits: seats,
      consumedUnits: 0,
    },
    {
      productSku: { id: SKUS.e3.id, name: SKUS.e3.name, skuPartNumber: SKUS.e3.partNumber, targetType: "User", licenseGroupId: "group1" },
      servicePlans: [{ displayName: "Microsoft Teams", serviceName: "TEAMS1", id: "57ff2da0-773e-42df-b2af-ffb7a2317929", capabilityStatus: "Enabled", targetType: "User" }],
      activeUnits: seats,
      consumedUnits: 0,
    },
  ];
}

/**
 * `customers` customers with both SKUs; each with `usersPerCustomer` users in the state when
 * `withUsers` (writes need them; a plan by user id does not look users up).
 */
export function benchState(customers: number, usersPerCustomer: number, withUsers: boolean): EmulatorStateFile {
  const list: StateCustomer[] = [];
  for (let c = 1; c <= customers; c++) {
    list.push({
      id: customerId(c),
      companyName: `Bench customer ${c}`,
      subscribedSkus: subscribedSkus(Math.max(1, usersPerCustomer) * 2),
      users: withUsers
        ? Array.from({ length: usersPerCustomer }, (_, n) => ({ id: userId(c, n + 1), userPrincipalName: `user${n + 1}@customer${c}.example`, usageLocation: "US", licenses: [] }))
        : [],
    });
  }
  return { partner: { tenantId: "11111111-2222-4333-8444-555555555555", name: "Bench partner" }, accessTokens: [{ token: BENCH_TOKEN, kind: "app+user" }], customers: list };
}

export interface RosterShape {
  customers: number;
  usersPerCustomer: number;
  /** 1: Power BI Pro only; 2: Power BI Pro and E3 (one request per user, two rows). */
  skusPerUser: 1 | 2;
  /** Users of all customers interleaved (user-major) rather than customer after customer. */
  interleaved?: boolean;
}

export interface RosterEntry {
  customerId: string;
  userId: string;
  sku: string;
}

/** The roster's rows, in file order, without holding them. */
export function* rosterEntries(shape: RosterShape): Generator<RosterEntry> {
  const skus = shape.skusPerUser === 2 ? [SKUS.powerBiPro.partNumber, SKUS.e3.name] : [SKUS.powerBiPro.partNumber];
  if (shape.interleaved) {
    for (let u = 1; u <= shape.usersPerCustomer; u++)
      for (let c = 1; c <= shape.customers; c++) for (const sku of skus) yield { customerId: customerId(c), userId: userId(c, u), sku };
    return;
  }
  for (let c = 1; c <= shape.customers; c++)
    for (let u = 1; u <= shape.usersPerCustomer; u++) for (const sku of skus) yield { customerId: customerId(c), userId: userId(c, u), sku };
}

export function rosterRowCount(shape: RosterShape): number {
  return shape.customers * shape.usersPerCustomer * shape.skusPerUser;
}

/** Write the roster CSV (header `customerId,userId,sku,action`), 64 KB at a time. */
export async function writeRoster(path: string, shape: RosterShape): Promise<number> {
  const out = createWriteStream(path);
  let chunk = "customerId,userId,sku,action\n";
  let rows = 0;
  for (const entry of rosterEntries(shape)) {
    chunk += `${entry.customerId},${entry.userId},${entry.sku},assign\n`;
    rows++;
    if (chunk.length >= 65_536) {
      if (!out.write(chunk)) await once(out, "drain");
      chunk = "";
    }
  }
  out.end(chunk);
  await once(out, "finish");
  return rows;
}
