// The emulator's state: loads and validates a state file (zod + cross-reference checks), and holds
// it indexed in Maps (customers, their SKUs and users, each user's licenses) so every request is
// O(1). Seat counts live here and change only through assign/remove; reset() rebuilds the initial
// state from the validated file.
import { readFile } from "node:fs/promises";
import { z } from "zod";
import type { LicenseGroupId } from "../partner-center/types.js";
import { idKey, isGuid } from "./ids.js";
import { rateLimitSchema, throttlingSchema } from "./runtime.js";
import type { CustomerAccess, EmulatorStateFile, StateCustomer, StateSubscribedSku, StateUser } from "./state-file.js";

const guid = z.string().refine(isGuid, { message: "must be a GUID" });
const nullableDate = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), { message: "must be an ISO 8601 date" })
  .nullable()
  .optional();
const tokenKind = z.enum(["app+user", "app-only", "app-only-403", "conditional-access-blocked", "no-mfa"]);
const count = z.number().int().nonnegative();

const servicePlanSchema = z.object({
  id: guid,
  displayName: z.string(),
  serviceName: z.string().min(1),
  capabilityStatus: z.string(),
  targetType: z.string(),
});

const subscribedSkuSchema = z.object({
  productSku: z.object({
    id: guid,
    name: z.string().min(1),
    skuPartNumber: z.string().min(1),
    targetType: z.enum(["User", "Tenant"]).optional(),
    licenseGroupId: z.enum(["group1", "group2"]),
  }),
  servicePlans: z.array(servicePlanSchema),
  activeUnits: count,
  warningUnits: count.optional(),
  suspendedUnits: count.optional(),
  consumedUnits: count.optional(),
  capabilityStatus: z.string().optional(),
});

const userSchema = z.object({
  id: guid,
  userPrincipalName: z.string().min(1),
  firstName: z.string().optional(),
  lastName: z.string().optional(),
  displayName: z.string().optional(),
  usageLocation: z.string().nullable().optional(),
  licenses: z.array(z.object({ skuId: guid, excludedPlans: z.array(guid).optional() })).optional(),
});

const customerSchema = z.object({
  id: guid,
  companyName: z.string(),
  access: z.enum(["granted", "missing-gdap-role", "no-relationship"]).optional(),
  subscribedSkus: z.array(subscribedSkuSchema),
  users: z.array(userSchema),
});

export const stateFileSchema = z.object({
  partner: z.object({ tenantId: guid, name: z.string().optional() }),
  identity: z
    .object({
      clients: z.array(z.object({ clientId: z.string().min(1), clientSecret: z.string().min(1) })),
      refreshTokens: z.array(
        z.object({
          token: z.string().min(1),
          clientId: z.string().min(1),
          kind: tokenKind.optional(),
          expiresAt: nullableDate,
          revoked: z.boolean().optional(),
        }),
      ),
      accessTokenLifetimeSeconds: z.number().int().positive().optional(),
      refreshTokenMaxUses: z.number().int().positive().optional(),
      refreshTokenExpirySecondsAfterUse: z.number().positive().optional(),
    })
    .optional(),
  accessTokens: z.array(z.object({ token: z.string().min(1), kind: tokenKind, expiresAt: nullableDate })),
  customers: z.array(customerSchema),
  throttling: throttlingSchema
    .extend({ rateLimit: z.union([z.string(), z.strictObject({ perCustomer: rateLimitSchema.optional(), perPartner: rateLimitSchema.optional() })]).optional() })
    .optional(),
});

export type StateFileResult = { ok: true; state: EmulatorStateFile } | { ok: false; error: string };

/** Validate a state object: shape (zod), then the cross-references zod cannot see. */
export function validateStateFile(input: unknown): StateFileResult {
  const parsed = stateFileSchema.safeParse(input);
  if (!parsed.success) {
    const first = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    return { ok: false, error: `invalid emulator state: ${first.join("; ")}` };
  }
  const state = parsed.data as EmulatorStateFile;
  const problem = crossCheck(state);
  return problem ? { ok: false, error: `invalid emulator state: ${problem}` } : { ok: true, state };
}

/** Read and validate a JSON state file (a leading byte-order mark is allowed). */
export async function loadStateFile(path: string): Promise<StateFileResult> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    return { ok: false, error: `cannot read emulator state ${path}: ${(error as Error).message}` };
  }
  try {
    return validateStateFile(JSON.parse(text.replace(/^\uFEFF/, "")));
  } catch (error) {
    return { ok: false, error: `emulator state ${path} is not JSON: ${(error as Error).message}` };
  }
}

function crossCheck(state: EmulatorStateFile): string | undefined {
  const tokens = new Set<string>();
  for (const t of state.accessTokens) {
    if (tokens.has(t.token)) return `access token listed twice (index ${state.accessTokens.indexOf(t)})`;
    tokens.add(t.token);
  }
  if (state.identity) {
    const clients = new Set(state.identity.clients.map((c) => c.clientId.toLowerCase()));
    for (const r of state.identity.refreshTokens) {
      if (!clients.has(r.clientId.toLowerCase())) return `refresh token of unknown client ${r.clientId}`;
    }
  }
  const customerIds = new Set<string>();
  for (const customer of state.customers) {
    const where = `customer ${customer.id}`;
    if (customerIds.has(idKey(customer.id))) return `${where} listed twice`;
    customerIds.add(idKey(customer.id));
    const skus = new Map<string, StateSubscribedSku>();
    for (const sku of customer.subscribedSkus) {
      const key = idKey(sku.productSku.id);
      if (skus.has(key)) return `${where}: SKU ${sku.productSku.id} listed twice`;
      skus.set(key, sku);
    }
    const userIds = new Set<string>();
    const holders = new Map<string, number>();
    for (const user of customer.users) {
      if (userIds.has(idKey(user.id))) return `${where}: user ${user.id} listed twice`;
      userIds.add(idKey(user.id));
      const held = new Set<string>();
      for (const license of user.licenses ?? []) {
        const sku = skus.get(idKey(license.skuId));
        if (!sku) return `${where}: user ${user.id} holds SKU ${license.skuId} the customer does not subscribe to`;
        if (held.has(idKey(license.skuId))) return `${where}: user ${user.id} holds SKU ${license.skuId} twice`;
        held.add(idKey(license.skuId));
        const planIds = new Set(sku.servicePlans.map((p) => idKey(p.id)));
        const stray = (license.excludedPlans ?? []).find((p) => !planIds.has(idKey(p)));
        if (stray) return `${where}: user ${user.id} excludes plan ${stray} not in SKU ${license.skuId}`;
        holders.set(idKey(license.skuId), (holders.get(idKey(license.skuId)) ?? 0) + 1);
      }
    }
    for (const sku of customer.subscribedSkus) {
      const held = holders.get(idKey(sku.productSku.id)) ?? 0;
      const consumed = Math.max(sku.consumedUnits ?? held, held);
      const total = sku.activeUnits + (sku.warningUnits ?? 0);
      if (consumed > total) {
        return `${where}: SKU ${sku.productSku.id} has ${consumed} seats consumed but only ${total} in total`;
      }
    }
  }
  return undefined;
}

/** One subscribed SKU of one customer, with its live seat count. */
export interface SkuRecord {
  readonly sku: StateSubscribedSku;
  readonly group: LicenseGroupId;
  readonly planIds: ReadonlySet<string>;
  /** Seats consumed by holders the state file does not list (consumedUnits beyond the listed users). */
  readonly unlistedConsumed: number;
  /** Listed users currently holding the SKU. */
  holders: number;
}

export interface HeldLicense {
  skuId: string; // as the state spells it
  excludedPlans: string[];
}

export interface UserRecord {
  readonly user: StateUser;
  /** The live usage location (PATCH changes it; reset() restores the file's). Null: none. */
  usageLocation: string | null;
  /** Keyed by idKey(skuId); insertion order is the order licenses were given. */
  readonly licenses: Map<string, HeldLicense>;
}

export interface CustomerRecord {
  readonly customer: StateCustomer;
  readonly access: CustomerAccess;
  readonly skus: Map<string, SkuRecord>;
  readonly skuList: SkuRecord[];
  readonly users: Map<string, UserRecord>;
  readonly userList: UserRecord[];
}

export function totalUnits(record: SkuRecord): number {
  return record.sku.activeUnits + (record.sku.warningUnits ?? 0);
}

export function consumedUnits(record: SkuRecord): number {
  return record.unlistedConsumed + record.holders;
}

export function availableUnits(record: SkuRecord): number {
  return totalUnits(record) - consumedUnits(record);
}

/** The live, indexed state. Mutated only by assign/remove; reset() restores the file's state. */
export class EmulatorState {
  private index = new Map<string, CustomerRecord>();
  private order: CustomerRecord[] = [];

  constructor(readonly file: EmulatorStateFile) {
    this.reset();
  }

  reset(): void {
    this.index = new Map();
    this.order = this.file.customers.map(buildCustomer);
    for (const record of this.order) this.index.set(idKey(record.customer.id), record);
  }

  customer(id: string): CustomerRecord | undefined {
    return this.index.get(idKey(id));
  }

  get customers(): readonly CustomerRecord[] {
    return this.order;
  }
}

function buildCustomer(customer: StateCustomer): CustomerRecord {
  const holders = new Map<string, number>();
  const users = new Map<string, UserRecord>();
  const userList: UserRecord[] = [];
  for (const user of customer.users) {
    const licenses = new Map<string, HeldLicense>();
    for (const license of user.licenses ?? []) {
      licenses.set(idKey(license.skuId), { skuId: license.skuId, excludedPlans: [...(license.excludedPlans ?? [])] });
      holders.set(idKey(license.skuId), (holders.get(idKey(license.skuId)) ?? 0) + 1);
    }
    const record: UserRecord = { user, licenses, usageLocation: user.usageLocation ?? null };
    users.set(idKey(user.id), record);
    userList.push(record);
  }
  const skus = new Map<string, SkuRecord>();
  const skuList: SkuRecord[] = [];
  for (const sku of customer.subscribedSkus) {
    const held = holders.get(idKey(sku.productSku.id)) ?? 0;
    const record: SkuRecord = {
      sku,
      group: sku.productSku.licenseGroupId,
      planIds: new Set(sku.servicePlans.map((p) => idKey(p.id))),
      unlistedConsumed: Math.max(sku.consumedUnits ?? held, held) - held,
      holders: held,
    };
    skus.set(idKey(sku.productSku.id), record);
    skuList.push(record);
  }
  return { customer, access: customer.access ?? "granted", skus, skuList, users, userList };
}
