// The run summary: counts collected as outcomes arrive (by status, customer, SKU, error code),
// the run's request/throttle counters, how it stopped, and the plan's seat check, carried to the
// console, `--summary-json` and `$GITHUB_STEP_SUMMARY`. Memory grows with customers, SKUs and
// error codes, never with rows.
import type { RowOutcome, RowStatus, SeatCheckRow } from "../model.js";
import { adviceFor } from "./advice.js";

export const ROW_STATUS_ORDER: readonly RowStatus[] = ["assigned", "removed", "skipped", "unchanged", "planned", "failed", "invalid", "aborted"];

export type StatusCounts = Record<RowStatus, number>;

/** One line of the seat check, computed by the plan stage. */
export type SeatCheckEntry = SeatCheckRow;

/** Why the run ended early, as the pipeline reports it (the executor's stoppedBy). */
export interface StopCause {
  kind: string; // "interrupted" | "run-fatal"
  errorCode?: string;
  httpStatus?: number;
  message?: string;
}

/** What the progress display shows, from the summary's counts. */
export interface ProgressCounts {
  done: number;
  assigned: number;
  removed: number;
  failed: number;
  invalid: number;
  throttled: number;
}

/**
 * The `--summary-json` document (schemaVersion 1):
 * {
 *   schemaVersion: 1,
 *   mode: "run" | "plan",
 *   startedAt: ISO 8601, finishedAt: ISO 8601 | null, durationMs: number | null,
 *   stop: { reason: "completed" | "interrupted" | "run-fatal", errorCode?, httpStatus?, message? },
 *   rows: { total, byStatus: { assigned, removed, skipped, planned, failed, invalid, aborted } },
 *   requests: { sent, throttled, reads },          // writes sent (licenseupdates, user updates); 429 answers received; GETs sent
 *   customers: [{ customerId, customerName?, total, byStatus }],  // sorted by customerId; the company name when it was read
 *   skus: [{ skuId, sku, total, byStatus }],       // sku: the product name (as written when it never resolved, skuId ""); sorted by sku
 *   errors: [{ errorCode, count, httpStatus, example, advice }], // most frequent first
 *   seatCheck: [{ customerId, sku, skuId, licenseGroup, toAssign, toRemove, available, shortfall }],
 *   shortfall: number,                             // sum of seatCheck shortfalls
 *   pacing?: { boundBy, concurrency, mostInFlight, latencyMs }  // runs that sent writes: what bound the
 *            // run ("allowance": the API's pace; "concurrency": --concurrency; "latency": the answers' time),
 *            // the most writes on the wire at once, the writes' average answer time in ms (null: none answered)
 * }
 * byStatus objects always carry all seven statuses, zeros included.
 */
export interface RunSummaryDocument {
  schemaVersion: 1;
  mode: "run" | "plan";
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  stop: { reason: "completed" | "interrupted" | "run-fatal"; errorCode?: string; httpStatus?: number; message?: string };
  rows: { total: number; byStatus: StatusCounts };
  requests: { sent: number; throttled: number; reads: number };
  customers: { customerId: string; customerName?: string; total: number; byStatus: StatusCounts }[];
  skus: { skuId: string; sku: string; total: number; byStatus: StatusCounts }[];
  errors: { errorCode: string; count: number; httpStatus: number | null; example: string; advice: string | null }[];
  seatCheck: SeatCheckEntry[];
  shortfall: number;
  pacing?: PacingSummary;
}

/** How the writes were paced: which bound held the run back, and the requests in flight it allowed. */
export interface PacingSummary {
  boundBy: "concurrency" | "allowance" | "latency";
  concurrency: number;
  mostInFlight: number;
  latencyMs: number | null;
}

export interface RunSummaryOptions {
  startedAt: number | Date;
  /** plan / --dry-run. */
  dryRun?: boolean;
  /** The roster has a usageLocation column or --usage-location was given (the advice for a missing one differs). */
  usageLocationGiven?: boolean;
}

function emptyCounts(): StatusCounts {
  return { assigned: 0, removed: 0, skipped: 0, unchanged: 0, planned: 0, failed: 0, invalid: 0, aborted: 0 };
}

function toDate(value: number | Date): Date {
  return value instanceof Date ? value : new Date(value);
}

/** Longest error message kept as an error code's example: the summary stays small. */
const EXAMPLE_MAX_LENGTH = 300;

export class RunSummary {
  private readonly startedAt: Date;
  private readonly dryRun: boolean;
  private readonly usageLocationGiven: boolean;
  private finishedAt: Date | undefined;
  private stoppedBy: StopCause | undefined;
  private seats: SeatCheckEntry[] = [];
  private readonly statusCounts = emptyCounts();
  private readonly customers = new Map<string, StatusCounts>();
  private readonly skus = new Map<string, { sku: string; skuId: string; counts: StatusCounts }>();
  private readonly errors = new Map<string, { count: number; httpStatus: number | null; example: string }>();
  private requestsSent = 0;
  private reads = 0;
  private readonly customerNames = new Map<string, string>();
  private throttled = 0;
  private rows = 0;
  private pacing: PacingSummary | undefined;
  private lastCustomerId: string | undefined;
  private lastCustomer: StatusCounts | undefined;
  private readonly idKeys = new Map<string, string>();

  constructor(options: RunSummaryOptions) {
    this.startedAt = toDate(options.startedAt);
    this.dryRun = options.dryRun ?? false;
    this.usageLocationGiven = options.usageLocationGiven ?? false;
  }

  add(outcome: RowOutcome): void {
    this.rows += 1;
    this.statusCounts[outcome.status] += 1;

    // Consecutive outcomes are mostly of one customer: its counts are kept at hand.
    let customer = outcome.customerId === this.lastCustomerId ? this.lastCustomer : this.customers.get(outcome.customerId);
    if (!customer) this.customers.set(outcome.customerId, (customer = emptyCounts()));
    this.lastCustomerId = outcome.customerId;
    this.lastCustomer = customer;
    customer[outcome.status] += 1;

    // A SKU written as a name in one row and as an id in another is one SKU once resolved.
    const skuKey = outcome.skuId ? this.idKey(outcome.skuId) : `as-written:${outcome.sku}`;
    let sku = this.skus.get(skuKey);
    if (!sku) this.skus.set(skuKey, (sku = { sku: outcome.skuName ?? outcome.sku, skuId: outcome.skuId, counts: emptyCounts() }));
    else if (outcome.skuName) sku.sku = outcome.skuName; // rows resumed from the file carry only the SKU as written
    sku.counts[outcome.status] += 1;

    if (outcome.status === "failed" || outcome.status === "invalid" || outcome.status === "aborted") {
      const code = outcome.errorCode || (outcome.httpStatus ? String(outcome.httpStatus) : "UNKNOWN");
      let error = this.errors.get(code);
      if (!error) {
        const example = (outcome.errorMessage ?? "").slice(0, EXAMPLE_MAX_LENGTH);
        this.errors.set(code, (error = { count: 0, httpStatus: outcome.httpStatus ?? null, example }));
      }
      error.count += 1;
    }
  }

  /** The SKU key of a resolved SKU id, built once per id (a run names few). */
  private idKey(skuId: string): string {
    let key = this.idKeys.get(skuId);
    if (key === undefined) {
      key = `id:${skuId.toLowerCase()}`;
      if (this.idKeys.size < 10_000) this.idKeys.set(skuId, key);
    }
    return key;
  }

  /** A 429 answer received (the request is retried, so it is not a row outcome). */
  addThrottled(count = 1): void {
    this.throttled += count;
  }

  /** licenseupdates calls sent, retries included. */
  addRequests(count: number): void {
    this.requestsSent += count;
  }

  /** GET attempts: SKU lookups, user pages, company names, --diff's license reads. */
  addReads(count: number): void {
    this.reads += count;
  }

  /** The customer's company name, shown beside its id. */
  nameCustomer(customerId: string, name: string): void {
    this.customerNames.set(customerId, name);
  }

  /** How the executor paced the writes. */
  setPacing(pacing: { boundBy: PacingSummary["boundBy"]; concurrency: number; mostInFlight: number; latencyMs?: number | undefined }): void {
    this.pacing = { boundBy: pacing.boundBy, concurrency: pacing.concurrency, mostInFlight: pacing.mostInFlight, latencyMs: pacing.latencyMs ?? null };
  }

  setSeatCheck(rows: readonly SeatCheckEntry[]): void {
    this.seats = [...rows];
  }

  finish(end: { finishedAt: number | Date; stoppedBy?: StopCause | undefined; seatCheck?: readonly SeatCheckEntry[] }): void {
    this.finishedAt = toDate(end.finishedAt);
    this.stoppedBy = end.stoppedBy;
    if (end.seatCheck) this.setSeatCheck(end.seatCheck);
  }

  byStatus(): StatusCounts {
    return { ...this.statusCounts };
  }

  get total(): number {
    return this.rows;
  }

  progressCounts(): ProgressCounts {
    const counts = this.statusCounts;
    return {
      done: this.rows,
      assigned: counts.assigned,
      removed: counts.removed,
      failed: counts.failed,
      invalid: counts.invalid,
      throttled: this.throttled,
    };
  }

  toJSON(): RunSummaryDocument {
    const stop = this.stoppedBy;
    const reason = !stop ? "completed" : stop.kind === "interrupted" ? "interrupted" : "run-fatal";
    const errors = [...this.errors]
      .map(([errorCode, error]) => ({ errorCode, ...error, advice: adviceFor(errorCode, { example: error.example, usageLocationGiven: this.usageLocationGiven }) ?? null }))
      .sort((a, b) => b.count - a.count || a.errorCode.localeCompare(b.errorCode));
    return {
      schemaVersion: 1,
      mode: this.dryRun ? "plan" : "run",
      startedAt: this.startedAt.toISOString(),
      finishedAt: this.finishedAt ? this.finishedAt.toISOString() : null,
      durationMs: this.finishedAt ? this.finishedAt.getTime() - this.startedAt.getTime() : null,
      stop: {
        reason,
        ...(stop?.errorCode !== undefined ? { errorCode: stop.errorCode } : {}),
        ...(stop?.httpStatus !== undefined ? { httpStatus: stop.httpStatus } : {}),
        ...(stop?.message !== undefined ? { message: stop.message } : {}),
      },
      rows: { total: this.rows, byStatus: { ...this.statusCounts } },
      requests: { sent: this.requestsSent, throttled: this.throttled, reads: this.reads },
      customers: [...this.customers]
        .map(([customerId, counts]) => {
          const customerName = this.customerNames.get(customerId);
          return { customerId, ...(customerName !== undefined ? { customerName } : {}), total: sumCounts(counts), byStatus: { ...counts } };
        })
        .sort((a, b) => compareText(a.customerId, b.customerId)),
      skus: [...this.skus.values()]
        .map(({ sku, skuId, counts }) => ({ skuId, sku, total: sumCounts(counts), byStatus: { ...counts } }))
        .sort((a, b) => compareText(a.sku, b.sku) || compareText(a.skuId, b.skuId)),
      errors,
      seatCheck: this.seats.map((row) => ({ ...row })),
      shortfall: this.seats.reduce((sum, row) => sum + Math.max(0, row.shortfall), 0),
      ...(this.pacing && !this.dryRun ? { pacing: { ...this.pacing } } : {}),
    };
  }
}

export function sumCounts(counts: StatusCounts): number {
  let total = 0;
  for (const status of ROW_STATUS_ORDER) total += counts[status];
  return total;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
