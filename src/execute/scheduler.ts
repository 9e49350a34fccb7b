// Which planned request starts next. Requests are read ahead (bounded) into one queue per customer,
// in roster order; a round offers them customer by customer, most work left first, each customer
// held back by:
// - the slot gate: a customer with a request still waiting for its pacer slot gets no second one
//   (a throttled customer cannot take every free slot while others could go), nor while one of its
//   retries, its Retry-After over, waits for the customer's pace (its older work goes first);
// - slow start: until a customer is paced its pace is unknown, so its requests in flight are
//   bounded by a window that starts small and doubles each time a window's worth has finished
//   (as TCP does), up to the concurrency limit. Without it a full concurrency's burst lands on a
//   customer whose allowance is smaller, and most of it is throttled before the first 429 returns;
// - its pace: the caller's `delayMs`.
// Most work left first: under a shared (partner) limit every customer then finishes at about the
// same time, instead of the last customers of the roster running alone at their own pace.
import type { LicenseUpdateRequest, ResolvedRow } from "../model.js";

export interface SchedulerOptions {
  concurrency: number;
  /** Requests read ahead of the ones running. */
  readAhead: number;
  /** Requests in flight for a customer not yet paced, at first (doubling from there). */
  initialWindow: number;
  /** The customer has a learned pace: slow start no longer applies, its pace rules. */
  isPaced(customerId: string): boolean;
}

export interface Round {
  /** Narrows a request's rows to those still to send (decided rows are settled by the caller). */
  settle(rows: readonly ResolvedRow[]): ResolvedRow[];
  /** A concurrency slot is free for one more request. */
  slotFree(): boolean;
  /** Wait until this customer's pace lets a request start (0: now). */
  delayMs(customerId: string): number;
  start(request: LicenseUpdateRequest): void;
  /** No answer has decided any row yet: `settle` would keep every row (so a round without a free slot does nothing). */
  nothingDecided?(): boolean;
}

/** Why customers with work queued were held back in the last round. */
export interface HeldBack {
  /** No concurrency slot was free. */
  slots: boolean;
  /** A pace or a Retry-After (the customer's pacer wait). */
  pace: boolean;
  /** The customer's slow-start window was full. */
  window: boolean;
}

/** One customer's queued requests; `queuedAs` orders customers first queued first among equals. */
interface CustomerQueue {
  readonly customerId: string;
  readonly requests: LicenseUpdateRequest[];
  readonly queuedAs: number;
  /** Its length changed since the order was last brought up to date (it is in `moved`). */
  moved: boolean;
}

/** Queues moved at once past which the order is sorted whole rather than each moved one inserted. */
const INSERT_AT_MOST = 32;

/** Most work left first; among equals the customer queued first (the order a stable sort of the queues in insertion order gives). */
const byWorkLeft = (a: CustomerQueue, b: CustomerQueue): number => b.requests.length - a.requests.length || a.queuedAs - b.queuedAs;

/** Where `queue` goes in `order` (sorted by byWorkLeft, `queue` not in it): after every queue that comes before it. */
function insertionPoint(order: readonly CustomerQueue[], queue: CustomerQueue): number {
  let low = 0;
  let high = order.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (byWorkLeft(order[middle]!, queue) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

interface SlowStart {
  window: number;
  finishedSinceGrowth: number;
}

export class Scheduler {
  private readonly queues = new Map<string, CustomerQueue>();
  /**
   * Every queue of `queues` (and those emptied since the last round), most work left first as of
   * the last round. A round starts at most one request a customer, so only a few queues move
   * between rounds: those (`moved`) are taken out and put back at their place by binary search,
   * where sorting all of them again cost a comparison a customer on every request of a large run.
   */
  private readonly order: CustomerQueue[] = [];
  private readonly moved: CustomerQueue[] = [];
  private queuesCreated = 0;
  private queued = 0;
  private readonly waitingForSlot = new Map<string, number>();
  private readonly inFlightByCustomer = new Map<string, number>();
  private inFlightTotal = 0;
  private readonly slowStart = new Map<string, SlowStart>();
  /** Why the last round held customers back. */
  readonly heldBack: HeldBack = { slots: false, pace: false, window: false };

  constructor(private readonly options: SchedulerOptions) {}

  get hasRoom(): boolean {
    return this.queued < this.options.readAhead;
  }

  get isEmpty(): boolean {
    return this.queued === 0;
  }

  get inFlight(): number {
    return this.inFlightTotal;
  }

  /** Queues the request; true when its customer had nothing queued (a round may now start it). */
  add(request: LicenseUpdateRequest): boolean {
    this.queued++;
    const queue = this.queues.get(request.customerId);
    if (queue) {
      queue.requests.push(request);
      this.markMoved(queue);
      return false;
    }
    const created: CustomerQueue = { customerId: request.customerId, requests: [request], queuedAs: this.queuesCreated++, moved: true };
    this.queues.set(request.customerId, created);
    this.moved.push(created);
    return true;
  }

  /** Offers every customer's next request; returns the wait until a paced customer may go (Infinity: none waits on a pace). */
  round(round: Round): number {
    let soonest = Infinity;
    const held = this.heldBack;
    held.slots = held.pace = held.window = false;
    // Nothing to start and nothing to settle: every queue (none is empty) is held back by the slots.
    if (!round.slotFree() && round.nothingDecided?.()) {
      held.slots = this.queued > 0;
      return soonest;
    }
    // With no slot free nothing starts this round (heads are only settled): no order is needed.
    const queues = this.queues.size > 1 && round.slotFree() ? this.sorted() : this.queues.values();
    for (const customerQueue of queues) {
      const { customerId, requests: queue } = customerQueue;
      while (queue.length > 0) {
        const head = queue[0]!;
        const rows = round.settle(head.rows);
        if (rows.length > 0) {
          // Keep the narrowed rows so they are not settled twice.
          if (rows.length !== head.rows.length) queue[0] = { ...head, rows };
          break;
        }
        queue.shift();
        this.queued--;
        this.markMoved(customerQueue);
      }
      if (queue.length === 0) {
        this.queues.delete(customerId);
        continue;
      }
      if (!round.slotFree()) {
        held.slots = true;
        // Nothing decided: every customer after this one would only be found held back by the slots too.
        if (round.nothingDecided?.()) break;
        continue;
      }
      if (this.waitingForSlot.has(customerId)) {
        held.pace = true;
        continue;
      }
      if ((this.inFlightByCustomer.get(customerId) ?? 0) >= this.windowOf(customerId)) {
        held.window = true;
        continue;
      }
      const delay = round.delayMs(customerId);
      if (delay > 0) {
        held.pace = true;
        soonest = Math.min(soonest, delay);
        continue;
      }
      const request = queue.shift()!;
      this.queued--;
      this.markMoved(customerQueue);
      if (queue.length === 0) this.queues.delete(customerId);
      this.started(customerId);
      round.start(request);
    }
    return soonest;
  }

  /** Calls `visit` for each customer with requests queued or in flight, once each, until it returns false. */
  visitActiveCustomers(visit: (customerId: string) => boolean): void {
    for (const customerId of this.queues.keys()) if (!visit(customerId)) return;
    for (const customerId of this.inFlightByCustomer.keys()) if (!this.queues.has(customerId) && !visit(customerId)) return;
  }

  /** Everything still queued, in no particular order; the queues are emptied. */
  takeAll(): LicenseUpdateRequest[] {
    const all = [...this.queues.values()].flatMap((queue) => queue.requests);
    this.queues.clear();
    this.order.length = 0;
    this.moved.length = 0;
    this.queued = 0;
    return all;
  }

  /** A started request queues for its pacer again (a retry whose wait is over): its customer is offered nothing new until it gets past. */
  requeued(customerId: string): void {
    this.waitingForSlot.set(customerId, (this.waitingForSlot.get(customerId) ?? 0) + 1);
  }

  /** The request got past its pacer: its customer may be offered another. */
  acquired(customerId: string): void {
    const left = (this.waitingForSlot.get(customerId) ?? 1) - 1;
    if (left > 0) this.waitingForSlot.set(customerId, left);
    else this.waitingForSlot.delete(customerId);
  }

  finished(customerId: string): void {
    this.inFlightTotal--;
    const left = (this.inFlightByCustomer.get(customerId) ?? 1) - 1;
    if (left > 0) this.inFlightByCustomer.set(customerId, left);
    else this.inFlightByCustomer.delete(customerId);
    const growth = this.slowStart.get(customerId) ?? { window: this.initialWindow, finishedSinceGrowth: 0 };
    if (growth.window >= this.options.concurrency) return;
    growth.finishedSinceGrowth++;
    if (growth.finishedSinceGrowth >= growth.window) {
      growth.window = Math.min(this.options.concurrency, growth.window * 2);
      growth.finishedSinceGrowth = 0;
    }
    this.slowStart.set(customerId, growth);
  }

  /** The queues, most work left first: each moved one taken out and, unless emptied, put back in its place. */
  private sorted(): CustomerQueue[] {
    const { order, moved, queues } = this;
    if (moved.length === 0) return order;
    if (moved.length > INSERT_AT_MOST) {
      let kept = 0;
      for (const queue of order) if (!queue.moved) order[kept++] = queue;
      order.length = kept;
      for (const queue of moved) {
        queue.moved = false;
        if (queues.get(queue.customerId) === queue) order.push(queue);
      }
      moved.length = 0;
      return order.sort(byWorkLeft);
    }
    // All out first: a moved queue still in place would leave the order unsorted for the search.
    // Shifted by hand: splice allocates the array of what it removes, once per request.
    for (const queue of moved) {
      const at = order.indexOf(queue);
      if (at < 0) continue;
      for (let i = at; i < order.length - 1; i++) order[i] = order[i + 1]!;
      order.length--;
    }
    for (const queue of moved) {
      queue.moved = false;
      if (queues.get(queue.customerId) !== queue) continue;
      const at = insertionPoint(order, queue);
      order.push(queue);
      for (let i = order.length - 1; i > at; i--) order[i] = order[i - 1]!;
      order[at] = queue;
    }
    moved.length = 0;
    return order;
  }

  private markMoved(queue: CustomerQueue): void {
    if (queue.moved) return;
    queue.moved = true;
    this.moved.push(queue);
  }

  private get initialWindow(): number {
    return Math.max(1, Math.floor(this.options.initialWindow));
  }

  private windowOf(customerId: string): number {
    if (this.options.isPaced(customerId)) return Infinity;
    return this.slowStart.get(customerId)?.window ?? this.initialWindow;
  }

  private started(customerId: string): void {
    this.waitingForSlot.set(customerId, (this.waitingForSlot.get(customerId) ?? 0) + 1);
    this.inFlightByCustomer.set(customerId, (this.inFlightByCustomer.get(customerId) ?? 0) + 1);
    this.inFlightTotal++;
  }
}
