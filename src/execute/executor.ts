// Runs the planned license update requests: bounded concurrency (p-limit), a bounded read-ahead of
// the request stream, a dispatcher that starts requests of customers the pacer lets go (so one
// throttled customer does not hold every slot), retries through callWithRetry, and exactly one
// RowOutcome per row, whatever happens (business failure, customer- or run-fatal, stop signal).
//
// Decisions worth knowing:
// - A 60012 on a request carrying several SKUs costs only the SKU(s) the error names; the other rows
//   are sent again as a new request (new MS-RequestId: an answer was received). When the error names
//   no SKU of the request, the request is split into one request per SKU. An exhausted
//   (customer, SKU) fails later assign rows without a call; removals still go.
// - Customer-fatal (403 900150/20002, 404 60003) fails that request's rows and, without a call, every
//   later row of that customer; 404 60002 does the same for that user's rows.
// - Run-fatal (credentials, 900316, 900309, 900421, a 401 after a renewal) and the stop signal halt
//   the run: nothing new starts, attempts already sent finish and are recorded as answered. A
//   request waiting to retry (backoff or Retry-After) stops waiting: its rows are `aborted` (the
//   last answer was no final answer; the same MS-RequestId would have been retried), as are all
//   rows never sent. Aborted rows carry the cause's code (INTERRUPTED for a signal).
// - Slow start: until a customer's first 429 its pace is unknown, so its requests in flight are
//   bounded by a window that starts small and doubles each time a window's worth has finished
//   (as TCP does); it ends at the concurrency limit. Without it a full concurrency's burst lands on
//   a customer whose allowance is smaller, and most of it is throttled before the first 429 returns.
// - Read-ahead is bounded: a roster sorted by customer is paced by that customer within the
//   window, never read whole into memory.
import { setMaxListeners } from "node:events";
import pLimit from "p-limit";
import type { Logger } from "pino";
import type { ApiResult } from "../partner-center/api.js";
import { ERROR_CODE, type LicenseUpdate, type LicenseWarning } from "../partner-center/types.js";
import type { LicenseUpdateRequest, ResolvedRow, RowOutcome } from "../model.js";
import { callWithRetry, type RetryDeps } from "./call-with-retry.js";
import { classifyFailure } from "./classify.js";
import type { Clock } from "./clock.js";
import type { Pacer } from "./pacer.js";
import { abortedRow, failedRow, failureCode, failureMessage, messages, refusedWithoutCall, succeededRow, type Sending } from "./row-outcomes.js";

export interface ExecuteDeps {
  api: import("../partner-center/api.js").PartnerCenterApi;
  retry: Omit<RetryDeps, "signal">;
  concurrency: number;
  /** Graceful stop: no new requests. */
  stop: AbortSignal;
  onOutcome(outcome: RowOutcome): void;
  logger: Logger;
  clock: Clock;
  /** Requests read ahead of the ones running; default max(4096, concurrency * 64): enough to see several customers at once, so a customer limit never idles the partner allowance. */
  readAhead?: number;
  /** Requests in flight for a customer not yet throttled, at first (doubling from there). Default 4. */
  initialCustomerWindow?: number;
}

export type StoppedBy = { kind: "run-fatal"; errorCode?: string; message: string; httpStatus?: number } | { kind: "interrupted" };

export interface ExecuteReport {
  stoppedBy?: StoppedBy;
  /** HTTP attempts sent. */
  requestsSent: number;
  throttled: number;
}

type Failure = Exclude<ApiResult<unknown>, { ok: true }>;

interface DecidedBefore {
  errorCode: string;
  message: string;
}

/** Abort reason of the dispatcher's own sleep timer: it only cancels a timer. */
const WAIT_OVER = Symbol("wait over");

const SKU_IN_ERROR = /SKU\s+([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/gi;

/** SKU ids the 60012 error names ("...and SKU {skuId} does not have any available licenses left."). */
export function exhaustedSkusNamed(failure: Failure): string[] {
  const text = [failure.error.description, ...failure.error.data].join("\n");
  return [...new Set([...text.matchAll(SKU_IN_ERROR)].map((m) => m[1]!.toLowerCase()))];
}

/** The request's update narrowed to the rows still to send (the plan's entries kept as planned). */
function updateFor(planned: LicenseUpdate, rows: readonly ResolvedRow[]): LicenseUpdate {
  const assign = new Set(rows.filter((r) => r.action === "assign").map((r) => r.skuId.toLowerCase()));
  const remove = new Set(rows.filter((r) => r.action === "remove").map((r) => r.skuId.toLowerCase()));
  const toAssign = (planned.licensesToAssign ?? []).filter((l) => assign.has(l.skuId.toLowerCase()));
  const toRemove = (planned.licensesToRemove ?? []).filter((id) => remove.has(id.toLowerCase()));
  // Rows the planned body does not mention (should not happen) are added, so no row is dropped silently.
  for (const row of rows) {
    const id = row.skuId.toLowerCase();
    if (row.action === "assign" && !toAssign.some((l) => l.skuId.toLowerCase() === id)) toAssign.push({ skuId: row.skuId, excludedPlans: row.excludedPlanIds.length > 0 ? row.excludedPlanIds : null });
    if (row.action === "remove" && !toRemove.some((r) => r.toLowerCase() === id)) toRemove.push(row.skuId);
  }
  return {
    licensesToAssign: toAssign.length > 0 ? toAssign : null,
    licensesToRemove: toRemove.length > 0 ? toRemove : null,
    attributes: { objectType: "LicenseUpdate" },
  };
}

function lastAnswerText(result: ApiResult<unknown>): string {
  if (result.ok) return `HTTP ${result.meta.status}`;
  if (result.kind === "http") return `HTTP ${result.meta.status}${result.error.code ? ` ${result.error.code}` : ""}`;
  return result.error.description;
}

export async function executeRequests(
  requests: Iterable<LicenseUpdateRequest> | AsyncIterable<LicenseUpdateRequest>,
  deps: ExecuteDeps,
): Promise<ExecuteReport> {
  const { api, clock, logger } = deps;
  const concurrency = Math.max(1, Math.floor(deps.concurrency));
  const readAhead = Math.max(1, deps.readAhead ?? Math.max(4096, concurrency * 64));
  const limit = pLimit(concurrency);
  const initialWindow = Math.max(1, Math.floor(deps.initialCustomerWindow ?? 4));
  const pacer: Pacer = deps.retry.pacer;
  const halt = new AbortController();
  // Every request waiting on the pacer or a backoff listens to it: many listeners are expected, not a leak.
  setMaxListeners(0, halt.signal);
  let stoppedBy: StoppedBy | undefined;
  let haltCode = "INTERRUPTED";
  let haltReason = "";
  let requestsSent = 0;
  let throttled = 0;

  const customerRefusals = new Map<string, DecidedBefore>();
  const missingUsers = new Map<string, DecidedBefore>(); // key: customer|user
  const exhaustedSkus = new Map<string, DecidedBefore>(); // key: customer|sku

  const now = (): string => new Date(clock.now()).toISOString();
  const emit = (outcome: RowOutcome): void => deps.onOutcome(outcome);

  const stopRun = (by: StoppedBy, code: string, reason: string): void => {
    if (halt.signal.aborted) return;
    stoppedBy = by;
    haltCode = code;
    haltReason = reason;
    halt.abort();
    wake();
  };
  const onStop = (): void => stopRun({ kind: "interrupted" }, "INTERRUPTED", "interrupted");
  if (deps.stop.aborted) onStop();
  else deps.stop.addEventListener("abort", onStop, { once: true });

  const abortNotSent = (rows: readonly ResolvedRow[]): void => {
    const message = stoppedBy?.kind === "run-fatal" ? messages.runStopped(haltReason) : messages.interrupted();
    for (const row of rows) emit(abortedRow(row, haltCode, message, now()));
  };

  /** Rows an earlier answer already decided are failed here, without a call; the rest are returned. */
  const settleDecided = (rows: readonly ResolvedRow[]): ResolvedRow[] => {
    // Nothing decided yet (the usual case): no per-row key building, no copy.
    if (customerRefusals.size === 0 && missingUsers.size === 0 && exhaustedSkus.size === 0) return rows as ResolvedRow[];
    const toSend: ResolvedRow[] = [];
    for (const row of rows) {
      const decided =
        customerRefusals.get(row.customerId) ??
        missingUsers.get(`${row.customerId}|${row.userId}`) ??
        (row.action === "assign" ? exhaustedSkus.get(`${row.customerId}|${row.skuId.toLowerCase()}`) : undefined);
      if (decided) emit(refusedWithoutCall(row, decided.errorCode, decided.message, now()));
      else toSend.push(row);
    }
    return toSend;
  };

  /** Send `rows` of `request` until each has its outcome. */
  const sendRows = async (request: LicenseUpdateRequest, initialRows: ResolvedRow[], onAcquired: () => void): Promise<void> => {
    let rows = initialRows;
    // A child logger costs a bindings serialisation; only the rare failure paths log, so make it then.
    let child: Logger | undefined;
    const log = (): Logger => (child ??= logger.child({ customerId: request.customerId }));
    while (rows.length > 0) {
      rows = settleDecided(rows);
      if (rows.length === 0) return;
      if (halt.signal.aborted) return abortNotSent(rows);
      const update = updateFor(request.update, rows);
      const retryPacer: Pacer = {
        delayMs: (customerId) => pacer.delayMs(customerId),
        onThrottled: (customerId, retryAfterMs) => pacer.onThrottled(customerId, retryAfterMs),
        onSuccess: (customerId) => pacer.onSuccess(customerId),
        state: (customerId) => pacer.state(customerId),
        acquire: async (customerId, signal) => {
          await pacer.acquire(customerId, signal);
          onAcquired();
        },
      };
      const call = await callWithRetry(request.customerId, (ctx) => api.postLicenseUpdate(request.customerId, request.userId, update, ctx), {
        ...deps.retry,
        pacer: retryPacer,
        signal: halt.signal,
      });
      requestsSent += call.attempts;
      throttled += call.throttled;
      const sending: Sending = { attempts: call.attempts, requestId: call.requestId, correlationId: deps.retry.correlationId, finishedAt: now() };
      const result = call.result;
      if (result.ok) {
        const warnings: LicenseWarning[] = Array.isArray(result.body?.licenseWarnings) ? result.body.licenseWarnings : [];
        for (const row of rows) emit(succeededRow(row, result.meta, warnings, sending));
        return;
      }
      if (call.interrupted) {
        if (call.attempts === 0) return abortNotSent(rows);
        const message = messages.unanswered(stoppedBy?.kind === "run-fatal" ? haltReason : "interrupted", lastAnswerText(result));
        for (const row of rows) emit(abortedRow(row, haltCode, message, now(), sending));
        return;
      }
      const action = classifyFailure(result, { tokenRenewed: call.tokenRenewed });
      // Out of attempts on a retryable failure: the rows fail; a 401 left over cannot be fixed by a later request.
      const scope = action.action === "fail" ? action.scope : action.action === "renew-token" ? "run" : "row";
      const code = failureCode(result);
      const firstLine = rows[0]!.line;

      if (scope === "run") {
        const by: StoppedBy = { kind: "run-fatal", message: failureMessage(result) };
        if (code !== undefined) by.errorCode = code;
        if (result.kind === "http") by.httpStatus = result.meta.status;
        log().error({ errorCode: code, httpStatus: by.httpStatus, line: firstLine }, "run-fatal answer; stopping the run");
        stopRun(by, code ?? "RUN_FATAL", by.message);
        // Refused credentials before the request left: its rows were never sent.
        if (call.attempts === 0) return abortNotSent(rows);
        for (const row of rows) emit(failedRow(row, result, sending));
        return;
      }
      if (scope === "customer") {
        for (const row of rows) emit(failedRow(row, result, sending));
        customerRefusals.set(request.customerId, {
          errorCode: code ?? "CUSTOMER_REFUSED",
          message: messages.customerFailed(firstLine, result.meta?.status, code, result.error.description),
        });
        log().warn({ errorCode: code, line: firstLine }, "customer-fatal answer; the customer's other rows are not sent");
        return;
      }
      if (code === ERROR_CODE.userNotFound && result.kind === "http" && result.meta.status === 404) {
        for (const row of rows) emit(failedRow(row, result, sending));
        missingUsers.set(`${request.customerId}|${request.userId}`, { errorCode: code, message: messages.userNotFound(firstLine) });
        return;
      }
      const assignRows = rows.filter((r) => r.action === "assign");
      if (code === ERROR_CODE.outOfLicenses && assignRows.length > 0) {
        const named = new Set(exhaustedSkusNamed(result));
        let culprits = assignRows.filter((r) => named.has(r.skuId.toLowerCase()));
        const skusInRequest = new Set(rows.map((r) => `${r.action}|${r.skuId.toLowerCase()}`));
        if (culprits.length === 0 && skusInRequest.size > 1) {
          // The error names none of our SKUs: one request per SKU tells them apart.
          log().info({ line: firstLine, skus: skusInRequest.size }, "60012 without a SKU of the request; splitting it per SKU");
          for (const key of skusInRequest) {
            const subset = rows.filter((r) => `${r.action}|${r.skuId.toLowerCase()}` === key);
            await sendRows(request, subset, onAcquired);
          }
          return;
        }
        if (culprits.length === 0) culprits = assignRows; // the request's only SKU is the one
        for (const row of culprits) {
          emit(failedRow(row, result, sending));
          const key = `${row.customerId}|${row.skuId.toLowerCase()}`;
          if (!exhaustedSkus.has(key)) exhaustedSkus.set(key, { errorCode: ERROR_CODE.outOfLicenses, message: messages.seatsRanOut(row.skuId, row.line) });
        }
        // The rest is sent again as a new request (callWithRetry gives it a new MS-RequestId).
        const failed = new Set(culprits);
        rows = rows.filter((r) => !failed.has(r));
        continue;
      }
      for (const row of rows) emit(failedRow(row, result, sending));
      return;
    }
  };

  // --- dispatcher ---------------------------------------------------------------------------
  const queues = new Map<string, LicenseUpdateRequest[]>(); // per customer, in roster order
  let buffered = 0;
  let sourceDone = false;
  const waitingForSlot = new Map<string, number>(); // started, not yet past the pacer
  let running = 0;
  const runningByCustomer = new Map<string, number>();
  const slowStart = new Map<string, { window: number; finishedSinceGrowth: number }>();
  const windowOf = (customerId: string): number => {
    if (pacer.state(customerId).ratePerSecond !== undefined) return Infinity; // paced: the pacer rules
    return slowStart.get(customerId)?.window ?? initialWindow;
  };
  const finished = (customerId: string): void => {
    const left = (runningByCustomer.get(customerId) ?? 1) - 1;
    if (left > 0) runningByCustomer.set(customerId, left);
    else runningByCustomer.delete(customerId);
    const growth = slowStart.get(customerId) ?? { window: initialWindow, finishedSinceGrowth: 0 };
    if (growth.window >= concurrency) return;
    growth.finishedSinceGrowth++;
    if (growth.finishedSinceGrowth >= growth.window) {
      growth.window = Math.min(concurrency, growth.window * 2);
      growth.finishedSinceGrowth = 0;
    }
    slowStart.set(customerId, growth);
  };
  let dirty = false;
  let wakeUp: (() => void) | undefined;
  function wake(): void {
    dirty = true;
    const resolve = wakeUp;
    wakeUp = undefined;
    resolve?.();
  }

  const syncSource = Symbol.iterator in requests ? (requests as Iterable<LicenseUpdateRequest>)[Symbol.iterator]() : undefined;
  const asyncSource = syncSource ? undefined : (requests as AsyncIterable<LicenseUpdateRequest>)[Symbol.asyncIterator]();
  const nextRequest = async (): Promise<IteratorResult<LicenseUpdateRequest>> => (syncSource ? syncSource.next() : asyncSource!.next());

  const readMore = async (): Promise<void> => {
    while (!sourceDone && buffered < readAhead && !halt.signal.aborted) {
      const next = await nextRequest();
      if (next.done) {
        sourceDone = true;
        break;
      }
      const queue = queues.get(next.value.customerId);
      if (queue) queue.push(next.value);
      else queues.set(next.value.customerId, [next.value]);
      buffered++;
    }
  };

  const start = (request: LicenseUpdateRequest, rows: ResolvedRow[]): void => {
    const customerId = request.customerId;
    waitingForSlot.set(customerId, (waitingForSlot.get(customerId) ?? 0) + 1);
    running++;
    runningByCustomer.set(customerId, (runningByCustomer.get(customerId) ?? 0) + 1);
    let acquired = false;
    const onAcquired = (): void => {
      if (acquired) return;
      acquired = true;
      const left = (waitingForSlot.get(customerId) ?? 1) - 1;
      if (left > 0) waitingForSlot.set(customerId, left);
      else waitingForSlot.delete(customerId);
      wake();
    };
    void limit(() => sendRows(request, rows, onAcquired))
      .catch((error: unknown) => {
        // A bug, not an API failure: record the rows rather than lose them.
        logger.error({ err: error instanceof Error ? error.message : String(error), customerId }, "request processing failed unexpectedly");
        for (const row of rows) emit(refusedWithoutCall(row, "INTERNAL_ERROR", `internal error: ${error instanceof Error ? error.message : String(error)}`, now()));
      })
      .finally(() => {
        onAcquired();
        running--;
        finished(customerId);
        wake();
      });
  };

  /** Start what may start; returns the wait until a paced customer may go (Infinity: wait for an event). */
  const dispatch = (): number => {
    let soonest = Infinity;
    // Most requests left first: under a shared (partner) limit every customer then finishes at about
    // the same time, instead of the last customers of the roster running alone at their own pace.
    const byWorkLeft = queues.size > 1 ? [...queues].sort((a, b) => b[1].length - a[1].length) : queues;
    for (const [customerId, queue] of byWorkLeft) {
      while (queue.length > 0) {
        const head = queue[0]!;
        const rows = settleDecided(head.rows);
        if (rows.length > 0) {
          // Keep the narrowed rows so they are not settled twice.
          if (rows.length !== head.rows.length) queue[0] = { ...head, rows };
          break;
        }
        queue.shift();
        buffered--;
      }
      if (queue.length === 0) {
        queues.delete(customerId);
        continue;
      }
      if (running >= concurrency || waitingForSlot.has(customerId)) continue;
      if ((runningByCustomer.get(customerId) ?? 0) >= windowOf(customerId)) continue;
      const delay = pacer.delayMs(customerId);
      if (delay > 0) {
        soonest = Math.min(soonest, delay);
        continue;
      }
      const request = queue.shift()!;
      buffered--;
      if (queue.length === 0) queues.delete(customerId);
      start(request, request.rows);
    }
    return soonest;
  };

  const waitForEvent = async (ms: number): Promise<void> => {
    if (dirty) return;
    const woken = new Promise<void>((resolve) => (wakeUp = resolve));
    if (!Number.isFinite(ms)) return woken;
    // This runs once per dispatch round: no controller unless a timer is set, and an abort reason of
    // our own (abort() without one builds a DOMException with a stack, every round).
    const timer = new AbortController();
    await Promise.race([woken, clock.sleep(ms, timer.signal)]);
    timer.abort(WAIT_OVER);
  };

  while (!halt.signal.aborted) {
    dirty = false;
    await readMore();
    if (halt.signal.aborted) break;
    const soonest = dispatch();
    if (sourceDone && buffered === 0 && running === 0) break;
    // A slot is free but every ready customer is paced: sleep until the soonest may go.
    await waitForEvent(running >= concurrency ? Infinity : soonest);
  }

  if (halt.signal.aborted) {
    // Everything not yet started is aborted now; what is in flight finishes and records itself.
    for (const queue of queues.values()) for (const request of queue) abortNotSent(settleDecided(request.rows));
    queues.clear();
    buffered = 0;
    for (;;) {
      const next = await nextRequest();
      if (next.done) break;
      abortNotSent(settleDecided(next.value.rows));
    }
    while (running > 0) {
      dirty = false;
      await waitForEvent(Infinity);
    }
  }
  deps.stop.removeEventListener("abort", onStop);
  const report: ExecuteReport = { requestsSent, throttled };
  if (stoppedBy) report.stoppedBy = stoppedBy;
  return report;
}
