// Runs the planned license update requests and gives exactly one RowOutcome per row, whatever
// happens (business failure, customer- or run-fatal, stop signal). It only composes:
// - the scheduler (scheduler.ts): which request starts next (read-ahead, most work left first,
//   slot gate, slow start, the customer's pace);
// - p-limit: the bound on requests in flight (--concurrency, the most the user allows). It wraps
//   each attempt, taken only once the pacer lets it go, not the whole logical call: a request
//   sleeping out a Retry-After or a backoff, or waiting for its customer's pause or pace, holds no
//   slot another customer could use (call-with-retry.ts);
// - the in-flight sizer (in-flight.ts): below that bound, the requests on the wire follow the
//   estimated allowance times the measured latency (Little's law), and the run-bound tally
//   (run-bound.ts) says which of allowance, concurrency and latency held the run back;
// - callWithRetry (call-with-retry.ts): one logical call, paced and retried;
// - the answer policy (answer-policy.ts): what a final failure means for the request's rows;
// - the refusal memory (refusal-memory.ts): rows earlier answers decided fail without a call.
//
// Stopping: run-fatal answers and the stop signal halt the run: nothing new starts, attempts already
// sent finish and are recorded as answered. A request waiting to retry (backoff or Retry-After)
// stops waiting: its rows are `aborted` (the last answer was no final answer; the same
// MS-RequestId would have been retried), as are all rows never sent. Aborted rows carry the
// cause's code (INTERRUPTED for a signal).
import { setMaxListeners } from "node:events";
import pLimit from "p-limit";
import type { Logger } from "pino";
import type { ApiResult, CallContext, PartnerCenterApi } from "../partner-center/api.js";
import { LICENSE_GROUPS, type LicenseUpdate, type LicenseWarning } from "../partner-center/types.js";
import type { LicenseUpdateRequest, ResolvedRow, RowOutcome } from "../model.js";
import { decideAnswer, type StoppedBy } from "./answer-policy.js";
import { describeFailure } from "./call-failure.js";
import type { PartnerWideFailures } from "./partner-wide-failures.js";
import { callWithRetry, type RetryDeps } from "./call-with-retry.js";
import type { Clock } from "./clock.js";
import type { Pacer } from "./pacer.js";
import { InFlightSizer } from "./in-flight.js";
import { RefusalMemory, type Decided } from "./refusal-memory.js";
import { RunBoundTally, type RunBound } from "./run-bound.js";
import { abortedRow, failedRow, messages, refusedWithoutCall, succeededRow, type Sending } from "./row-outcomes.js";
import { Scheduler } from "./scheduler.js";
import { updateFor } from "./update-for.js";
import { settleUnconfirmedWrite } from "./unconfirmed-writes.js";

export type { StoppedBy } from "./answer-policy.js";

export interface ExecuteDeps {
  api: PartnerCenterApi;
  retry: Omit<RetryDeps, "signal">;
  concurrency: number;
  /** Graceful stop: no new requests. */
  stop: AbortSignal;
  onOutcome(outcome: RowOutcome): void;
  logger: Logger;
  clock: Clock;
  /** Requests read ahead of the ones running; default max(4096, concurrency * 64): enough to see several customers at once, so a customer limit never idles the partner allowance. */
  readAhead?: number;
  /** Requests in flight for a customer not yet throttled, at first (doubling from there). Default 2. */
  initialCustomerWindow?: number;
  /** Credential- and network-level failures repeating across customers stop the run. */
  partnerWide?: PartnerWideFailures;
}

export interface ExecuteReport {
  stoppedBy?: StoppedBy;
  /** HTTP attempts sent. */
  requestsSent: number;
  throttled: number;
  pacing: PacingReport;
}

/** How the run was paced, for the summary. */
export interface PacingReport {
  boundBy: RunBound;
  /** The user's bound (--concurrency). */
  concurrency: number;
  /** Most write attempts on the wire at once. */
  mostInFlight: number;
  /** Moving average of the writes' answer times, ms; undefined when none answered. */
  latencyMs?: number;
}

/** A started request's part in its customer's slot gate (scheduler.ts). */
interface RequestHooks {
  /** It got past its pacer. */
  onAcquired(): void;
  /** It queues for its pacer again (a retry whose wait is over, or a resend). */
  onRequeue(): void;
}

/** Abort reason of the dispatcher's own sleep timer: it only cancels a timer. */
const WAIT_OVER = Symbol("wait over");

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
  const limit = pLimit(concurrency);
  const pacer: Pacer = deps.retry.pacer;
  const memory = new RefusalMemory();
  const scheduler = new Scheduler({
    concurrency,
    readAhead: Math.max(1, deps.readAhead ?? Math.max(4096, concurrency * 64)),
    initialWindow: deps.initialCustomerWindow ?? 2,
    isPaced: (customerId) => pacer.state(customerId).ratePerSecond !== undefined,
  });
  const halt = new AbortController();
  // Every request waiting on the pacer or a backoff listens to it: many listeners are expected, not a leak.
  setMaxListeners(0, halt.signal);
  let stoppedBy: StoppedBy | undefined;
  let haltCode = "INTERRUPTED";
  let haltReason = "";
  const report: ExecuteReport = { requestsSent: 0, throttled: 0, pacing: { boundBy: "latency", concurrency, mostInFlight: 0 } };
  const sizer = new InFlightSizer({ ceiling: concurrency });
  const bound = new RunBoundTally();
  /** Write attempts sent and not answered yet. */
  let onWire = 0;
  /** The bound on `onWire` for this dispatch round: allowance x latency, at most `concurrency`. */
  let sizedLimit = concurrency;

  // Every row's outcome is stamped: the text is made once per millisecond, not once per row.
  let stampedMs = Number.NaN;
  let stamp = "";
  const now = (): string => {
    const ms = clock.now();
    if (ms !== stampedMs) stamp = new Date((stampedMs = ms)).toISOString();
    return stamp;
  };
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
  // Called for every queued customer in every dispatch round: one callback for all of them.
  const refuse = (row: ResolvedRow, decided: Decided): void => emit(refusedWithoutCall(row, decided.errorCode, decided.message, now()));
  const settle = (rows: readonly ResolvedRow[]): ResolvedRow[] => memory.settle(rows, refuse);

  /** Send `rows` of `request` until each has its outcome. */
  const sendRows = async (request: LicenseUpdateRequest, initialRows: ResolvedRow[], hooks: RequestHooks): Promise<void> => {
    const { onAcquired, onRequeue } = hooks;
    const rows = settle(initialRows);
    if (rows.length === 0) return;
    if (halt.signal.aborted) return abortNotSent(rows);
    const update = updateFor(request.update, rows);
    const attempt = async (ctx: CallContext): Promise<ApiResult<LicenseUpdate>> => {
      const sentAt = clock.now();
      report.pacing.mostInFlight = Math.max(report.pacing.mostInFlight, ++onWire);
      try {
        const result = await api.postLicenseUpdate(request.customerId, request.userId, update, ctx);
        // Only an answer measures the latency: a timeout or a lost connection says nothing of it.
        if (result.ok || result.kind === "http") {
          sizer.observeLatency(clock.now() - sentAt);
          sizer.onAnswer(!result.ok && result.meta.status === 429);
        }
        return result;
      } finally {
        onWire--;
      }
    };
    const call = await callWithRetry(request.customerId, attempt, { ...writeRetry, onRequeue, onAcquired });
    report.requestsSent += call.attempts;
    report.throttled += call.throttled;
    const sending: Sending = { attempts: call.attempts, requestId: call.requestId, correlationId: deps.retry.correlationId, finishedAt: now() };
    const result = call.result;
    if (result.ok) {
      deps.partnerWide?.noteSuccess();
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
    // A 2xx that never confirmed the write, whatever its retries: read what is true and record that.
    if (result.kind === "unconfirmed" && api.getUserLicenses) {
      const readLicenses = api.getUserLicenses.bind(api);
      const read = await callWithRetry(request.customerId, (ctx) => readLicenses(request.customerId, request.userId, LICENSE_GROUPS, ctx), { ...deps.retry, signal: halt.signal, onAcquired });
      report.requestsSent += read.attempts;
      logger.child({ customerId: request.customerId }).warn({ line: rows[0]!.line, requestId: call.requestId, settledBy: read.result.ok ? "read" : "unknown" }, "write answered 2xx without a readable LicenseUpdate; settled by reading the user's licenses");
      for (const outcome of settleUnconfirmedWrite(rows, result, read.result, sending)) emit(outcome);
      return;
    }
    const plain = describeFailure(result, call);
    const described = deps.partnerWide?.escalate(request.customerId, plain) ?? plain;
    const decision = decideAnswer(rows, result, described);
    // A partner-wide stop is known by its own code, whatever the answer carried.
    if (decision.stopRun && described !== plain) decision.stopRun.errorCode = described.errorCode;
    const line = rows[0]!.line;
    if (decision.stopRun) {
      logger.child({ customerId: request.customerId }).error({ errorCode: decision.stopRun.errorCode, httpStatus: decision.stopRun.httpStatus, line }, "run-fatal answer; stopping the run");
      stopRun(decision.stopRun, decision.stopRun.errorCode ?? "RUN_FATAL", decision.stopRun.message);
    }
    abortNotSent(decision.notSent);
    for (const row of decision.failed) emit(failedRow(row, result, sending));
    for (const refusal of decision.remember) memory.remember(refusal);
    if (described.scope === "customer") logger.child({ customerId: request.customerId }).warn({ errorCode: described.errorCode, line }, "customer-fatal answer; the customer's other rows are not sent");
    if (decision.split !== undefined) logger.child({ customerId: request.customerId }).info({ line, skus: decision.split }, "60012 without a SKU of the request; splitting it per SKU");
    // Sent again as new requests (callWithRetry gives each a new MS-RequestId), one after another.
    for (const group of decision.resend) await sendRows(request, group, hooks);
  };

  // --- dispatcher ---------------------------------------------------------------------------
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
  let sourceDone = false;

  const readMore = async (): Promise<void> => {
    while (!sourceDone && scheduler.hasRoom && !halt.signal.aborted) {
      const next = await nextRequest();
      if (next.done) sourceDone = true;
      // A customer with nothing queued before: a round may start it now, while the source goes on.
      else if (scheduler.add(next.value) && asyncSource) wake();
    }
  };
  // An async source (the plan, customer by customer, each after its lookups) is read beside the
  // dispatch: the first customer's writes go while later customers are still being looked up,
  // rather than once the whole read-ahead is full. A sync source costs no time to read.
  let reading: Promise<void> | undefined;
  /** The source threw (a bug, not an API failure): the run ends with it, as a source read in line would. */
  let sourceFailed: { error: unknown } | undefined;
  const readAside = (): void => {
    if (reading || sourceDone || !scheduler.hasRoom || halt.signal.aborted) return;
    reading = readMore()
      .catch((error: unknown) => {
        sourceFailed = { error };
      })
      .finally(() => {
        reading = undefined;
        wake();
      });
  };

  const slotFree = (): boolean => limit.activeCount + limit.pendingCount < concurrency && onWire < sizedLimit;
  /** The estimated allowance of the customers with work: the sum of their paces (unknown while any is unpaced), at most the partner's. */
  const allowance = (): number | undefined => {
    let sum = 0;
    scheduler.visitActiveCustomers((customerId) => {
      const rate = pacer.state(customerId).ratePerSecond;
      sum = rate === undefined ? Infinity : sum + rate;
      return rate !== undefined;
    });
    const total = Math.min(sum, pacer.state().ratePerSecond ?? Infinity);
    return Number.isFinite(total) && total > 0 ? total : undefined;
  };
  /** What held the queued requests back in the last round (undefined: nothing is queued). */
  const heldBy = (): RunBound | undefined => {
    if (scheduler.isEmpty) return undefined;
    const held = scheduler.heldBack;
    if (held.slots) return sizedLimit >= concurrency || limit.activeCount + limit.pendingCount >= concurrency ? "concurrency" : "latency";
    if (held.pace) return "allowance";
    if (held.window) return "latency";
    return undefined;
  };
  // Each attempt runs in a slot. The dispatcher is woken when a request starts waiting between
  // attempts (its slot is free) or ends (after its rows are recorded and decided refusals remembered).
  const slot = <R>(run: () => Promise<R>): Promise<R> => limit(run);
  // The same for every write: spread once (a spread that adds keys to deps.retry costs microseconds,
  // one that only overrides keys of this copy costs nanoseconds).
  const writeRetry: RetryDeps = { ...deps.retry, signal: halt.signal, slot, onWait: wake, onRequeue: undefined, onAcquired: undefined };

  const start = (request: LicenseUpdateRequest): void => {
    const customerId = request.customerId;
    // Started: the request waits for its pacer. It is counted in the customer's slot gate while it
    // does, and again each time a retry of it queues for the pacer (a new request of the customer
    // waits behind it).
    let queued = true;
    const onAcquired = (): void => {
      if (!queued) return;
      queued = false;
      scheduler.acquired(customerId);
      wake();
    };
    const onRequeue = (): void => {
      if (queued) return;
      queued = true;
      scheduler.requeued(customerId);
    };
    void sendRows(request, request.rows, { onAcquired, onRequeue })
      .catch((error: unknown) => {
        // A bug, not an API failure: record the rows rather than lose them.
        logger.error({ err: error instanceof Error ? error.message : String(error), customerId }, "request processing failed unexpectedly");
        for (const row of request.rows) emit(refusedWithoutCall(row, "INTERNAL_ERROR", `internal error: ${error instanceof Error ? error.message : String(error)}`, now()));
      })
      .finally(() => {
        onAcquired();
        scheduler.finished(customerId);
        wake();
      });
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

  const round = { settle, slotFree, delayMs: (customerId: string) => pacer.delayMs(customerId), start, nothingDecided: () => memory.isEmpty };
  while (!halt.signal.aborted) {
    dirty = false;
    if (syncSource) await readMore();
    else readAside();
    if (sourceFailed) throw sourceFailed.error;
    if (halt.signal.aborted) break;
    sizedLimit = sizer.limit(allowance());
    const soonest = scheduler.round(round);
    bound.note(heldBy(), clock.now());
    if (sourceDone && !reading && scheduler.isEmpty && scheduler.inFlight === 0) break;
    // A slot is free but every ready customer is paced: sleep until the soonest may go.
    await waitForEvent(slotFree() ? soonest : Infinity);
  }

  if (halt.signal.aborted) {
    // Everything not yet started is aborted now; what is in flight finishes and records itself.
    await reading;
    if (sourceFailed) throw sourceFailed.error;
    for (const request of scheduler.takeAll()) abortNotSent(settle(request.rows));
    for (;;) {
      const next = await nextRequest();
      if (next.done) break;
      abortNotSent(settle(next.value.rows));
    }
    while (scheduler.inFlight > 0) {
      dirty = false;
      await waitForEvent(Infinity);
    }
  }
  deps.stop.removeEventListener("abort", onStop);
  report.pacing.boundBy = bound.boundBy(clock.now());
  if (sizer.latencyMs !== undefined) report.pacing.latencyMs = Math.round(sizer.latencyMs);
  if (stoppedBy) report.stoppedBy = stoppedBy;
  return report;
}
