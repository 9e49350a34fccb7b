// Requests whose own customer may go but which wait for the partner's pace, oldest first. When a
// partner slot opens, the oldest of them whose customer is ready takes it: without this the slot
// goes to whichever timer fires first, the same customers keep winning, and the others lag behind
// and finish alone at their own limit (the run's tail).
import { ownReady, type Scope } from "./pace-scope.js";

export interface PartnerWaiter {
  scope: Scope;
}

export class PartnerQueue {
  private readonly waiters = new Set<PartnerWaiter>();

  get size(): number {
    return this.waiters.size;
  }

  /** Queues the waiter; one already queued keeps its place. */
  add(waiter: PartnerWaiter): void {
    this.waiters.add(waiter);
  }

  delete(waiter: PartnerWaiter): void {
    this.waiters.delete(waiter);
  }

  /** The oldest waiter whose own customer is ready now. */
  firstReady(now: number): PartnerWaiter | undefined {
    for (const waiter of this.waiters) if (ownReady(waiter.scope, now)) return waiter;
    return undefined;
  }
}
