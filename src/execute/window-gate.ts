// A limit that counts calls in a long window (Azure API Management's rate-limit policy: N calls
// in any W seconds, the Retry-After the seconds until the oldest leaves it) is no rate: a pace
// just under N/W wastes most of the window, and a pace above it runs into a lockout that lasts
// until the window moves, where every request in flight is refused. So a scope that met such a
// lockout learns the window and, from then on (and in the next run, from the pacing state), starts
// no request that would make more than N in the last W: it sends the window's calls at its pace,
// then waits for the oldest to leave, as a client-side sliding window does.
//
// Learnt from a lockout, not guessed: the first refusal's Retry-After was at least `LONG_MS`, the
// limit held the whole scope for most of it (refused again until then, admitted after), and a
// refusal seconds later counted down to the same end, so the Retry-After was the window's, not a
// pessimistic figure (which names a fresh wait at every refusal). The window then is the time from
// the first call counted to the refusal plus the Retry-After (an overstatement of at most the
// Retry-After's rounding to whole seconds), its count what was admitted in that time. Customers
// locked out to the same end met one window, the partner's, and share it (`learnt`).
import type { Scope } from "./pace-scope.js";

export interface CallWindow {
  limit: number;
  ms: number;
}

/** A Retry-After this long or longer may be a window's. */
const LONG_MS = 5_000;
/** A refusal this long into the lockout, naming the first one's end within `SAME_END_MS` (whole seconds round), confirms a window. */
const CONFIRM_AFTER_MS = 3_000;
const SAME_END_MS = 1_500;
/** The lockout lasted at least this share of the Retry-After: it was the window's. */
const HELD_FOR = 0.8;
/** A window from an earlier run holds for this many of its windows from the first start. */
const HINT_WINDOWS = 3;
/** Calls of the window left unused, as a share of its count (at least one): lookups and clock skew. */
const MARGIN = 0.02;

export class WindowGate {
  /** A request starts: it counts in the window. */
  started(scope: Scope, now: number): void {
    scope.segmentStartAt ??= now;
    scope.segmentAdmittedBefore ??= scope.admitted;
    if (!scope.window) return;
    if (scope.windowHint && scope.windowHintUntil === undefined) scope.windowHintUntil = now + HINT_WINDOWS * scope.window.ms;
    scope.windowStarts.push(now);
    this.prune(scope, now);
  }

  /** When the window lets one more request start (0: not bound by one). */
  readyAt(scope: Scope, now: number): number {
    const window = scope.window;
    if (!window) return 0;
    if (scope.windowHintUntil !== undefined && now >= scope.windowHintUntil) {
      // A window from an earlier run is a hint, never a ceiling: it holds for its first windows, then
      // only a lockout of this run shows it again (one that has grown is found that way).
      scope.window = undefined;
      scope.windowStarts.length = 0;
      return 0;
    }
    this.prune(scope, now);
    const allowed = Math.max(1, window.limit - Math.max(1, Math.ceil(MARGIN * window.limit)));
    const over = scope.windowStarts.length - allowed;
    return over < 0 ? 0 : scope.windowStarts[over]! + window.ms;
  }

  /**
   * A refusal during a lockout, `retryAfterMs` its Retry-After. A window's Retry-After counts down
   * to the same end (the oldest call leaving it); a pessimistic one names a fresh wait each time.
   * One refused seconds after the first that names the same end confirms a window.
   */
  refusedInLockout(scope: Scope, now: number, retryAfterMs: number): void {
    const firstEnd = scope.episodeStartedAt + scope.episodeRetryAfterMs;
    if (now - scope.episodeStartedAt >= CONFIRM_AFTER_MS && Math.abs(now + retryAfterMs - firstEnd) <= SAME_END_MS) scope.lockoutEndConfirmed = true;
  }

  /** A lockout ended at `now` (the first answer admitted after it): learn the window if it was one. */
  lockoutEnded(scope: Scope, now: number, admittedBefore: number): void {
    const refusedAt = scope.episodeStartedAt;
    const retryAfterMs = scope.episodeRetryAfterMs;
    const segmentStart = scope.segmentStartAt;
    const segmentAdmitted = scope.segmentAdmittedBefore;
    // Counting starts afresh from the next request.
    scope.segmentStartAt = undefined;
    scope.segmentAdmittedBefore = undefined;
    const confirmed = scope.lockoutEndConfirmed === true;
    scope.lockoutEndConfirmed = undefined;
    if (segmentStart === undefined || segmentAdmitted === undefined || retryAfterMs < LONG_MS || !confirmed) return;
    if (now - refusedAt < HELD_FOR * retryAfterMs) return;
    const limit = admittedBefore - segmentAdmitted;
    const ms = refusedAt + retryAfterMs - segmentStart;
    if (limit < 2 || !(ms > 0)) return;
    scope.window = { limit, ms };
    scope.windowEnd = refusedAt + retryAfterMs;
    scope.windowHintUntil = undefined;
  }

  /**
   * `customer` has just learnt a window. Customers locked out to the same end were refused by one
   * window, the partner's: each one's count is only what it had of that window when it filled (a
   * customer that had one call of it would wait a whole window for each call once the others are
   * done). So the second customer to learn it makes it the partner's, counted over all customers'
   * calls before the refusal, with their starts since; the others' windows go as they learn them.
   * A lockout to another end while the partner's window (this run's) held was the customer's own
   * limit (its own window, filled at the moment the others filled theirs, passed for the partner's).
   */
  learnt(customer: Scope, partner: Scope, customers: Iterable<Scope>): void {
    const end = customer.windowEnd;
    if (!customer.window || end === undefined) return;
    const sameEnd = (scope: Scope): boolean => scope.window !== undefined && scope.windowEnd !== undefined && Math.abs(scope.windowEnd - end) <= SAME_END_MS;
    const partnersAlready = sameEnd(partner);
    if (partner.window && !partner.windowHint && !partnersAlready) return;
    const sharing = partnersAlready ? [customer] : [...customers].filter(sameEnd);
    if (!partnersAlready) {
      const admitted = customer.partnerAdmittedAtRefusal;
      const from = partner.segmentStartAt;
      if (sharing.length < 2 || admitted === undefined || from === undefined) return;
      const limit = admitted - (partner.segmentAdmittedBefore ?? 0);
      if (limit < 2 || !(end - from > 0)) return;
      partner.window = { limit, ms: end - from };
      partner.windowEnd = end;
      partner.windowHint = undefined; // learnt in this run: no hint of an earlier one
      partner.windowHintUntil = undefined;
      partner.windowStarts.length = 0;
      for (const scope of sharing) partner.windowStarts.push(...scope.windowStarts);
      partner.windowStarts.sort((a, b) => a - b);
    }
    for (const scope of sharing) {
      scope.window = undefined;
      scope.windowEnd = undefined;
      scope.windowStarts.length = 0;
    }
  }

  private prune(scope: Scope, now: number): void {
    const ms = scope.window?.ms ?? 0;
    let drop = 0;
    while (drop < scope.windowStarts.length && scope.windowStarts[drop]! <= now - ms) drop++;
    if (drop > 0) scope.windowStarts.splice(0, drop);
  }
}
