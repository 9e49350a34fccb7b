// How the emulator's live state is rendered as Partner Center resources (Microsoft's "Get a list of available licenses",
// "Get licenses assigned to a user", "Get a list of all user accounts for a customer"): the documented shapes and formulas, camelCase, license groups in lower case.
import type { Collection, Customer, CustomerUser, License, Link, SubscribedSku } from "../partner-center/types.js";
import { availableUnits, consumedUnits, totalUnits, type CustomerRecord, type HeldLicense, type SkuRecord, type UserRecord } from "./state.js";

/** A customer with its company profile ("Get a customer by ID"). */
export function renderCustomer(record: CustomerRecord): Customer {
  const { customer } = record;
  return {
    id: customer.id,
    companyProfile: { tenantId: customer.id, companyName: customer.companyName, attributes: { objectType: "CustomerCompanyProfile" } },
    relationshipToPartner: "reseller",
    attributes: { objectType: "Customer" },
  };
}

export function collection<T>(items: T[], links?: { self?: Link; next?: Link }): Collection<T> {
  return links
    ? { totalCount: items.length, items, links, attributes: { objectType: "Collection" } }
    : { totalCount: items.length, items, attributes: { objectType: "Collection" } };
}

/** totalUnits = activeUnits + warningUnits; availableUnits = totalUnits - consumedUnits. */
export function renderSubscribedSku(record: SkuRecord): SubscribedSku {
  const { sku } = record;
  return {
    availableUnits: availableUnits(record),
    activeUnits: sku.activeUnits,
    consumedUnits: consumedUnits(record),
    suspendedUnits: sku.suspendedUnits ?? 0,
    totalUnits: totalUnits(record),
    warningUnits: sku.warningUnits ?? 0,
    productSku: { ...sku.productSku, targetType: sku.productSku.targetType ?? "User" },
    servicePlans: sku.servicePlans,
    capabilityStatus: sku.capabilityStatus ?? "Enabled",
    attributes: { objectType: "SubscribedSku" },
  };
}

export function renderUser(record: UserRecord): CustomerUser {
  const { user } = record;
  return {
    id: user.id,
    userPrincipalName: user.userPrincipalName,
    firstName: user.firstName ?? "",
    lastName: user.lastName ?? "",
    displayName: user.displayName ?? user.userPrincipalName,
    usageLocation: record.usageLocation,
    state: "active",
    attributes: { objectType: "CustomerUser" },
  };
}

/** A held license: the SKU's plans minus the excluded ones, each "Assigned"; productSku without targetType. */
export function renderLicense(held: HeldLicense, record: SkuRecord): License {
  const excluded = new Set(held.excludedPlans.map((p) => p.toLowerCase()));
  const { id, name, skuPartNumber, licenseGroupId } = record.sku.productSku;
  return {
    servicePlans: record.sku.servicePlans
      .filter((plan) => !excluded.has(plan.id.toLowerCase()))
      .map((plan) => ({ ...plan, capabilityStatus: "Assigned" })),
    productSku: { id, name, skuPartNumber, licenseGroupId },
    attributes: { objectType: "License" },
  };
}
