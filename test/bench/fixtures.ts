// The benchmark's data: emulator states (customers, their SKUs, optionally their users) and roster
// CSVs, generated on the fly. Rosters are streamed to disk in chunks so a 1,000,000-row file never
// sits in the benchmark's memory as one string.
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import type { EmulatorStateFile } from "../../dist/emulator/state-file.js";
import { customer, guid, state, TOKEN } from "../support/state-builder.js";

export const BENCH_TOKEN = TOKEN;

/** How the roster names the two SKUs of the state (by part number and by product name). */
const ROSTER_SKUS = { powerBiPro: "POWER_BI_PRO", e3: "Office 365 Enterprise E3" } as const;

/** The ids the state builder gives customer c and its user u. */
export const customerId = (c: number): string => guid(0xc0000000 + c, 0);
export const userId = (c: number, u: number): string => guid(0xa0000000 + c, u);

/**
 * `customers` customers with both SKUs (seats for every user); each with `usersPerCustomer` users
 * in the state when `withUsers` (writes need them; a plan by user id does not look users up).
 */
export function benchState(customers: number, usersPerCustomer: number, withUsers: boolean): EmulatorStateFile {
  const seats = Math.max(1, usersPerCustomer) * 2;
  return state(Array.from({ length: customers }, (_, c) => customer(c + 1, withUsers ? usersPerCustomer : 0, { powerBiPro: seats, e3: seats })));
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
  const skus = shape.skusPerUser === 2 ? [ROSTER_SKUS.powerBiPro, ROSTER_SKUS.e3] : [ROSTER_SKUS.powerBiPro];
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
