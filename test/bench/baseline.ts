// The baseline users have today: what the Partner Center SDK sample and the PowerShell module do
// in a loop. One row at a time; the customer's subscribed SKUs fetched again for every row; no
// pacing and no concurrency; on 408/429/5xx the PowerShell module's retries (about 0 s, 10 s, 10 s,
// Retry-After ignored). Plain fetch, no code of the runner.
import { randomUUID } from "node:crypto";
import type { Collection, SubscribedSku } from "../../dist/partner-center/types.js";
import type { RosterEntry } from "./fixtures.js";

/** The PowerShell module's waits before its retries, Retry-After ignored. */
export const POWERSHELL_RETRY_DELAYS_MS = [0, 10_000, 10_000] as const;

export interface BaselineOptions {
  baseUrl: string;
  token: string;
  rows: Iterable<RosterEntry>;
  /** Stop after this many rows (the baseline is slow: it is measured on a prefix and extrapolated). */
  maxRows: number;
  /** ...or after this long, whichever comes first. */
  maxMs: number;
  retryDelaysMs?: readonly number[];
}

export interface BaselineReport {
  rowsDone: number;
  rowsFailed: number;
  elapsedMs: number;
  calls: number;
  throttled: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function runBaseline(options: BaselineOptions): Promise<BaselineReport> {
  const delays = options.retryDelaysMs ?? POWERSHELL_RETRY_DELAYS_MS;
  const correlationId = randomUUID();
  let calls = 0;
  let throttled = 0;

  /** One call with the module's retries; the final response (or undefined on a network error). */
  const send = async (method: "GET" | "POST", path: string, body?: unknown): Promise<{ status: number; json: unknown } | undefined> => {
    for (let attempt = 0; ; attempt++) {
      calls++;
      let status = 0;
      let json: unknown;
      try {
        const response = await fetch(`${options.baseUrl}${path}`, {
          method,
          headers: {
            Authorization: `Bearer ${options.token}`,
            Accept: "application/json",
            "MS-RequestId": randomUUID(),
            "MS-CorrelationId": correlationId,
            ...(body === undefined ? {} : { "Content-Type": "application/json" }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        status = response.status;
        const text = (await response.text()).replace(/^\uFEFF/, "");
        json = text ? JSON.parse(text) : undefined;
      } catch {
        status = 0;
      }
      if (status === 429) throttled++;
      const retryable = status === 0 || status === 408 || status === 429 || status >= 500;
      if (!retryable) return { status, json };
      const delay = delays[attempt];
      if (delay === undefined) return status === 0 ? undefined : { status, json };
      if (delay > 0) await sleep(delay);
    }
  };

  const started = performance.now();
  let rowsDone = 0;
  let rowsFailed = 0;
  for (const row of options.rows) {
    if (rowsDone >= options.maxRows || performance.now() - started >= options.maxMs) break;
    const skus = await send("GET", `/v1/customers/${row.customerId}/subscribedskus?licenseGroupIds=Group1&licenseGroupIds=Group2`);
    const wanted = row.sku.toLowerCase();
    const items = (skus?.json as Partial<Collection<Partial<SubscribedSku>>> | undefined)?.items ?? [];
    const sku = items.find((s) => s.productSku?.id === wanted || s.productSku?.skuPartNumber?.toLowerCase() === wanted || s.productSku?.name?.toLowerCase() === wanted);
    if (sku?.productSku) {
      const update = { LicensesToAssign: [{ SkuId: sku.productSku.id, ExcludedPlans: null }], Attributes: { ObjectType: "LicenseUpdate" } };
      const answer = await send("POST", `/v1/customers/${row.customerId}/users/${row.userId}/licenseupdates`, update);
      if (!answer || answer.status >= 300) rowsFailed++;
    } else {
      rowsFailed++;
    }
    rowsDone++;
  }
  return { rowsDone, rowsFailed, elapsedMs: performance.now() - started, calls, throttled };
}
