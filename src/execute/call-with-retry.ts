// One logical Partner Center call, retried: one MS-RequestId for every attempt (a lost write is
// retried safely), the pacer awaited before each attempt, Retry-After honoured on 429 (then
// exponential backoff while 429 repeats), full-jitter backoff on transient failures, one forced
// token renewal on a 401 without a code. Never throws for an API failure: returns the last result.
//
// Slots: an attempt runs in a concurrency slot (`slot`), taken only when the attempt can go at
// once. Between attempts the call holds none: it waits out its Retry-After (or backoff), then
// queues again (`onRequeue`), still holding none, until its pacer lets its customer start a
// request (its pause, its pace, the partner's); only then does it take a slot. A retry sleeping
// out a long Retry-After, or waiting behind its customer's pause, leaves the slot to the other
// customers.
//
// Stopping: when `signal` aborts, no new attempt starts and no wait continues; an attempt already
// sent is not cancelled (its answer is what tells whether the write landed), so the caller gets
// that answer, marked `interrupted` only when the call ends without a final answer.
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { AccessTokenProvider, ApiResult, CallContext } from "../partner-center/api.js";
import { backoffDelayMs, DEFAULT_BACKOFF, type BackoffOptions } from "./backoff.js";
import { classifyFailure } from "./classify.js";
import type { Clock } from "./clock.js";
import type { Pacer } from "./pacer.js";
import { DEFAULT_RETRY_AFTER_FLOOR_MS, throttleWait, throttleWaitMs } from "./retry-after.js";

export interface RetryDeps {
  pacer: Pacer;
  clock: Clock;
  /** [0, 1), for jitter. */
  random: () => number;
  /** Attempts per logical call, the first included. */
  maxAttempts: number;
  correlationId: string;
  tokens: AccessTokenProvider;
  signal?: AbortSignal;
  logger?: Logger;
  /** Told of every 429 (for progress and the summary). */
  onThrottled?(): void;
  backoff?: BackoffOptions;
  /** Wait after a 429 that carries no Retry-After. */
  retryAfterFloorMs?: number;
  /**
   * Runs one attempt in a concurrency slot (p-limit), taken once the pacer lets the attempt go. No
   * wait (Retry-After, backoff, the pacer's pause or pace) holds a slot. Default: no bound.
   */
  slot?: <R>(run: () => Promise<R>) => Promise<R>;
  /** The call is about to wait, holding no slot (a slot is free for another request). */
  onWait?(): void;
  /**
   * The call's wait between attempts is over: it queues again for its pacer and a slot (called
   * before the first attempt too; the caller keeps its own count of calls queued).
   */
  onRequeue?(): void;
  /** The call got past its pacer (its customer may be offered another request). */
  onAcquired?(): void;
  /** Request id to use (tests); a fresh UUID by default. */
  newRequestId?: () => string;
}

export interface RetryOutcome<T> {
  result: ApiResult<T>;
  attempts: number;
  requestId: string;
  throttled: number;
  /** The token was renewed during this call (so a final 401 means the credentials are refused). */
  tokenRenewed: boolean;
  /** `signal` aborted before the call got a final answer: `result` is the last one (or, with 0 attempts, a stand-in). */
  interrupted: boolean;
}

const CLOCK_GRANULARITY_MS = 1;

function notSent(): ApiResult<never> {
  return { ok: false, kind: "network", error: { description: "not sent: the run stopped before the first attempt", data: [], cause: "other" } };
}

export async function callWithRetry<T>(
  customerId: string,
  attempt: (ctx: CallContext) => Promise<ApiResult<T>>,
  deps: RetryDeps,
): Promise<RetryOutcome<T>> {
  const requestId = (deps.newRequestId ?? randomUUID)();
  const ctx: CallContext = { requestId, correlationId: deps.correlationId };
  const maxAttempts = Math.max(1, deps.maxAttempts);
  const backoff = deps.backoff ?? DEFAULT_BACKOFF;
  // Only retries log: the child logger is made on the first one, not for every call.
  let child: Logger | undefined;
  const log = (): Logger | undefined => (child ??= deps.logger?.child({ customerId, requestId }));
  let attempts = 0;
  let throttled = 0;
  let consecutiveThrottles = 0;
  let transientFailures = 0;
  let tokenRenewed = false;
  let last: ApiResult<T> | undefined;
  /** Earliest time the next attempt may be sent (Retry-After). */
  let notBefore = 0;
  /** When the last attempt was sent: the pacer tells an episode's echoes from new refusals by it. */
  let sentAt = 0;

  const inSlot = deps.slot ?? (<R>(run: () => Promise<R>): Promise<R> => run());
  const outcome = (result: ApiResult<T>, interrupted: boolean): RetryOutcome<T> => ({ result, attempts, requestId, throttled, tokenRenewed, interrupted });

  while (attempts < maxAttempts) {
    // Holding no slot: out the Retry-After (or backoff), then queued until the pacer lets the
    // customer go. Its delay is read again after each sleep: a pause may have grown meanwhile.
    let queued = false;
    for (;;) {
      const untilRetry = notBefore - deps.clock.now();
      if (untilRetry <= 0 && !queued) {
        queued = true;
        deps.onRequeue?.();
      }
      const waitMs = untilRetry > 0 ? untilRetry : deps.pacer.delayMs(customerId);
      if (waitMs <= 0) break;
      deps.onWait?.();
      await deps.clock.sleep(waitMs, deps.signal);
      if (deps.signal?.aborted) break;
    }
    if (deps.signal?.aborted) return outcome(last ?? notSent(), true);
    const sent = await inSlot(async (): Promise<ApiResult<T> | "stopped" | "early"> => {
      // Another request may have taken the customer's next start while this one waited for the
      // slot: it gives the slot back and queues again rather than wait in it.
      if (deps.pacer.delayMs(customerId) > 0) return "early";
      await deps.pacer.acquire(customerId, deps.signal);
      deps.onAcquired?.();
      if (deps.signal?.aborted) return "stopped";
      // The pacer may have been satisfied by another request's slot timing: Retry-After still rules.
      if (deps.clock.now() < notBefore) return "early";
      attempts++;
      sentAt = deps.clock.now();
      return attempt(ctx);
    });
    if (sent === "stopped") return outcome(last ?? notSent(), true);
    if (sent === "early") continue;
    const result = sent;
    last = result;
    // No token could be had: the request never left, so it is no attempt.
    if (!result.ok && result.kind === "credentials") {
      attempts--;
      return outcome(result, false);
    }
    if (result.ok) {
      deps.pacer.onSuccess(customerId, sentAt);
      return outcome(result, false);
    }
    const action = classifyFailure(result, { tokenRenewed });
    if (result.kind === "http" && result.meta.status !== 429 && result.meta.status < 500) deps.pacer.onSuccess(customerId, sentAt);

    if (action.action === "fail") return outcome(result, false);
    if (action.action === "renew-token") {
      if (tokenRenewed) return outcome(result, false);
      tokenRenewed = true;
      log()?.info({ attempt: attempts }, "access token refused; renewing it once");
      try {
        await deps.tokens.getToken({ forceRefresh: true });
      } catch (error) {
        const message = error instanceof Error ? error.message : "the access token could not be renewed";
        const reason = error !== null && typeof error === "object" ? (error as { reason?: unknown }).reason : undefined;
        const failure: ApiResult<T> = { ok: false, kind: "credentials", error: { description: message, data: [], ...(typeof reason === "string" ? { code: reason } : {}) } };
        return outcome(failure, false);
      }
      continue;
    }
    if (attempts >= maxAttempts) break;
    if (action.reason === "throttled") {
      throttled++;
      deps.onThrottled?.();
      const wait = throttleWait(result.ok ? undefined : result.meta, consecutiveThrottles, deps.retryAfterFloorMs ?? DEFAULT_RETRY_AFTER_FLOOR_MS);
      const retryAfterMs = wait.waitMs;
      deps.pacer.onThrottled(customerId, retryAfterMs, sentAt);
      // Longer than the runner waits: the customer is throttled for now; the call ends with the 429.
      if (wait.beyondCap) return outcome(result, false);
      // Never sooner than Retry-After; while 429 repeats for this request, back off on top of it
      // (without a Retry-After the wait itself already grows).
      const extra = consecutiveThrottles > 0 && wait.told ? backoffDelayMs(consecutiveThrottles - 1, deps.random, backoff) : 0;
      consecutiveThrottles++;
      // A clock may read whole milliseconds: the answer may have come up to 1 ms after the reading,
      // so the retry waits 1 ms more and is never sent before Retry-After has passed.
      notBefore = deps.clock.now() + retryAfterMs + extra + CLOCK_GRANULARITY_MS;
      log()?.debug({ attempt: attempts, retryAfterMs, extraMs: extra }, "throttled; waiting for Retry-After");
    } else {
      consecutiveThrottles = 0;
      const delay = backoffDelayMs(transientFailures, deps.random, backoff);
      transientFailures++;
      notBefore = deps.clock.now() + delay;
      log()?.debug({ attempt: attempts, delayMs: delay, status: result.kind === "http" ? result.meta.status : result.kind }, "transient failure; backing off");
    }
  }
  // Out of attempts (a 429 at the last attempt is still counted and reported to the pacer).
  if (last && !last.ok && last.kind === "http" && last.meta.status === 429 && attempts >= maxAttempts) {
    throttled++;
    deps.onThrottled?.();
    deps.pacer.onThrottled(customerId, throttleWaitMs(last.meta, deps.retryAfterFloorMs ?? DEFAULT_RETRY_AFTER_FLOOR_MS), sentAt);
  }
  return outcome(last ?? notSent(), false);
}
