// Per-customer SKU catalogs and user directories, each fetched at most once however many rows
// name the customer: concurrent rows share the one in-flight call (a memoized promise).
import type { ApiResult, CallContext, PartnerCenterApi } from "../partner-center/api.js";
import { LICENSE_GROUPS } from "../partner-center/types.js";
import type { Fetched } from "../model.js";
import { malformedSkuItem, SkuCatalog } from "./sku-catalog.js";
import { readUserDirectory, type UserDirectory } from "./user-directory.js";

/** Makes one logical call with retries and pacing, and classifies its final failure. */
export type CallApi = <T>(customerId: string, attempt: (ctx: CallContext) => Promise<ApiResult<T>>) => Promise<Fetched<T>>;

export class CustomerCatalogs {
  private readonly skuCatalogs = new Map<string, Promise<Fetched<SkuCatalog>>>();
  private readonly directories = new Map<string, Promise<Fetched<UserDirectory>>>();

  constructor(
    private readonly api: PartnerCenterApi,
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
  }

  private pageUsers(customerId: string): Promise<Fetched<UserDirectory>> {
    return readUserDirectory((continuation) => this.call(customerId, (ctx) => this.api.getUsersPage(customerId, continuation, ctx)));
  }
}
