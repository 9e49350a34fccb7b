// Builds emulator state files for tests: customers with numbered users and the docs' SKUs.
import type { EmulatorStateFile, StateCustomer, StateSubscribedSku } from "../../dist/emulator/state-file.js";
import type { SubscribedSku } from "../../dist/partner-center/types.js";

export const TOKEN = "test-app-user-token";
export const SKU = {
  powerBiPro: "f8a1db68-be16-40ed-86d5-cb42ce701560",
  e3: "6fd2c87f-b296-42f0-b197-1e91e994b900",
  minecraft: "984df360-9a74-4647-8cf8-696749f6247a",
} as const;

/** A GUID whose last block is the number n, under a prefix that names what it is. */
export function guid(prefix: number, n: number): string {
  const p = prefix.toString(16).padStart(8, "0");
  return `${p}-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
}

export function skus(seats: { powerBiPro?: number; e3?: number; minecraft?: number }): StateSubscribedSku[] {
  const list: StateSubscribedSku[] = [];
  if (seats.powerBiPro !== undefined) {
    list.push({
      productSku: { id: SKU.powerBiPro, name: "Power BI Pro", skuPartNumber: "POWER_BI_PRO", targetType: "User", licenseGroupId: "group1" },
      servicePlans: [
        { displayName: "Exchange Foundation", serviceName: "EXCHANGE_S_FOUNDATION", id: "113feb6c-3fe4-4440-bddc-54d774bf0318", capabilityStatus: "Enabled", targetType: "Tenant" },
        { displayName: "Power BI Pro", serviceName: "BI_AZURE_P2", id: "70d33638-9c74-4d01-bfd3-562de28bd4ba", capabilityStatus: "Enabled", targetType: "User" },
      ],
      activeUnits: seats.powerBiPro,
      consumedUnits: 0,
    });
  }
  if (seats.e3 !== undefined) {
    list.push({
      productSku: { id: SKU.e3, name: "Office 365 Enterprise E3", skuPartNumber: "ENTERPRISEPACK", targetType: "User", licenseGroupId: "group1" },
      servicePlans: [
        { displayName: "Exchange Online (Plan 2)", serviceName: "EXCHANGE_S_ENTERPRISE", id: "efb87545-963c-4e0d-99df-69c6916d9eb0", capabilityStatus: "Enabled", targetType: "User" },
        { displayName: "Microsoft Teams", serviceName: "TEAMS1", id: "57ff2da0-773e-42df-b2af-ffb7a2317929", capabilityStatus: "Enabled", targetType: "User" },
      ],
      activeUnits: seats.e3,
      consumedUnits: 0,
    });
  }
  if (seats.minecraft !== undefined) {
    list.push({
      productSku: { id: SKU.minecraft, name: "Minecraft Education Edition Faculty", skuPartNumber: "CFQ7TTC0K5DR/0002", targetType: "User", licenseGroupId: "group2" },
      servicePlans: [],
      activeUnits: seats.minecraft,
      consumedUnits: 0,
    });
  }
  return list;
}

/** The subscribed SKUs as Partner Center answers them (`GET .../subscribedskus`), for a catalog built without the emulator. */
export function subscribedSkus(seats: Parameters<typeof skus>[0]): SubscribedSku[] {
  return skus(seats).map((s) => ({
    availableUnits: s.activeUnits - (s.consumedUnits ?? 0),
    activeUnits: s.activeUnits,
    consumedUnits: s.consumedUnits ?? 0,
    suspendedUnits: 0,
    totalUnits: s.activeUnits,
    warningUnits: 0,
    productSku: s.productSku,
    servicePlans: s.servicePlans,
    capabilityStatus: "Enabled",
    attributes: { objectType: "SubscribedSku" },
  }));
}

export function customer(index: number, users: number, seats: Parameters<typeof skus>[0], extra: Partial<StateCustomer> = {}): StateCustomer {
  return {
    id: guid(0xc0000000 + index, 0),
    companyName: `Customer ${index}`,
    subscribedSkus: skus(seats),
    users: Array.from({ length: users }, (_, n) => ({
      id: guid(0xa0000000 + index, n + 1),
      userPrincipalName: `user${n + 1}@customer${index}.example`,
      displayName: `User ${n + 1}`,
      usageLocation: "US",
      licenses: [],
    })),
    ...extra,
  };
}

export function state(customers: StateCustomer[]): EmulatorStateFile {
  return {
    partner: { tenantId: "11111111-2222-4333-8444-555555555555", name: "Test Partner" },
    accessTokens: [{ token: TOKEN, kind: "app+user" }],
    customers,
  };
}

/** A roster CSV from rows of [customerId, userId, sku, action?]. */
export function roster(rows: readonly (readonly string[])[], header = "customerId,userId,sku,action"): string {
  return [header, ...rows.map((r) => r.join(","))].join("\n") + "\n";
}
