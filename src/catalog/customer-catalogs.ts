// Per-customer SKU catalogs, user directories (with each user's usage location) and company names,
// each fetched at most once however many rows name the customer: concurrent rows share the one
// in-flight call (a memoized promise). A user's licenses (`--diff`) are read per user, unshared.
import type { ApiResult, CallContext, PartnerCenterApi, UserAccountsApi } from "../partner-center/api.js";
import type { License } from "../partner-center/types.js";
import { LICENSE_GROUPS } from "../partner-center/types.js";
import type { Fetched } from "../model.js";
import { malformedSkuItem, SkuCatalog } from "./sku-catalog.js";
import { readUserDirectory, type UserDirectory } from "./user-directory.js";

/** Makes one logical call with retries and pacing, and classifies its final failure. */
export type CallApi = <T>(customerId: string, attempt: (ctx: CallContext) => Promise<ApiResult<T>>) => Promise<Fetched<T>>;

/** What one paging of a customer's users gives. */
interface CustomerUsers {
  directory: UserDirectory;
  /** By lower-case user id. */
  usageLocations: Map<string, string | null>;
}

export class CustomerCatalogs {
  private readonly skuCatalogs = new Map<string, Promise<Fetched<SkuCatalog>>>();
  private readonly directories = new Map<string, Promise<Fetched<CustomerUsers>>>();
  private readonly names = new Map<string, Promise<string | undefined>>();

  constructor(
    private readonly api: PartnerCenterApi & UserAccountsApi,
    private readonly call: CallApi,
  ) {}

  /** The customer's subscribed SKUs of both license groups (without the parameter only group1 comes back). */
  skus(customerId: string): Promise<Fetched<SkuCatalog>> {
    let pending = this.skuCatalogs.get(customerId);
    if (!pending) {
      pending = this.call(customerId, (ctx) => this.api.getSubscribedSkus(customerId, LICENSE_GROUPS, ctx)).then((fetched): Fetched<SkuCatalog> => {
        if (!fetched.ok) return fetched;
        const items = Array.isArray(fetched.value.items) ? fetched.value.items : [];
        const malformed = malformedSkuItem(items);
        if (malformed) {
          return { ok: false, failure: { scope: "customer", errorCode: "MALFORMED_ANSWER", message: malformed, requestId: fetched.requestId, attempts: fetched.attempts } };
        }
        return { ...fetched, value: new SkuCatalog(items) };
      });
      this.skuCatalogs.set(customerId, pending);
    }
    return pending;
  }

  /** The customer's users by principal name, paging through links.next once. */
  users(customerId: string): Promise<Fetched<UserDirectory>> {
    return this.customerUsers(customerId).then((fetched) => (fetched.ok ? { ...fetched, value: fetched.value.directory } : fetched));
  }

  /** Each listed user's usage location (null: none), from the same paging as users(). */
  usageLocations(customerId: string): Promise<Fetched<ReadonlyMap<string, string | null>>> {
    return this.customerUsers(customerId).then((fetched) => (fetched.ok ? { ...fetched, value: fetched.value.usageLocations } : fetched));
  }

  /** The customer's company name (companyProfile.companyName); undefined when it cannot be read. */
  companyName(customerId: string): Promise<string | undefined> {
    let pending = this.names.get(customerId);
    if (!pending) {
      pending = this.call(customerId, (ctx) => this.api.getCustomer(customerId, ctx)).then((fetched) => {
        const name = fetched.ok ? fetched.value.companyProfile?.companyName : undefined;
        return typeof name === "string" && name.trim() !== "" ? name.trim() : undefined;
      });
      this.names.set(customerId, pending);
    }
    return pending;
  }

  /** The licenses a user holds, both license groups (without the parameter only group1 comes back). */
  userLicenses(customerId: string, userId: string): Promise<Fetched<License[]>> {
    return this.call(customerId, (ctx) => this.api.getUserLicenses(customerId, userId, LICENSE_GROUPS, ctx)).then((fetched) =>
      fetched.ok ? { ...fetched, value: fetched.value.items ?? [] } : fetched,
    );
  }

  private customerUsers(customerId: string): Promise<Fetched<CustomerUsers>> {
    let pending = this.directories.get(customerId);
    if (!pending) {
      pending = this.pageUsers(customerId);
      this.directories.set(customerId, pending);
    }
    return pending;
  }

  /** Drop what is held for a customer whose rows are all planned (bounded memory over many customers). */
  forget(customerId: string): void {
    this.skuCatalogs.delete(customerId);
    this.directories.delete(customerId);
    this.names.delete(customerId);
  }

  private async pageUsers(customerId: string): Promise<Fetched<CustomerUsers>> {
    const read = await readUserDirectory((continuation) => this.call(customerId, (ctx) => this.api.getUsersPage(customerId, continuation, ctx)));
    return read.ok ? { ...read, value: { directory: read.value, usageLocations: read.value.usageLocations } } : read;
  }
}
