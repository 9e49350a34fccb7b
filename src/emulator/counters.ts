// What the emulator has seen, as numbers tests and benchmarks assert on: API requests by
// endpoint, by customer and endpoint, by status; throttled calls; writes applied and seats moved;
// replays; injected faults by kind. Plain Maps, O(1) per request.
import type { FaultKind } from "./faults.js";

export interface CountersSnapshot {
  requests: {
    total: number;
    byEndpoint: Record<string, number>;
    byCustomer: Record<string, Record<string, number>>;
    byStatus: Record<string, number>;
  };
  throttled: { total: number; partner: number; customer: number };
  writesApplied: number;
  licensesAssigned: number;
  licensesRemoved: number;
  replays: number;
  faults: Record<FaultKind, number>;
  identity?: Record<string, number>;
}

function increment<K>(map: Map<K, number>, key: K, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

export class Counters {
  private total = 0;
  private readonly byEndpoint = new Map<string, number>();
  private readonly byCustomer = new Map<string, Map<string, number>>();
  private readonly byStatus = new Map<number, number>();
  private throttledPartner = 0;
  private throttledCustomer = 0;
  private writes = 0;
  private assigned = 0;
  private removed = 0;
  private replayed = 0;
  private readonly faults = new Map<FaultKind, number>();

  request(endpoint: string, customerKey: string | undefined): void {
    this.total += 1;
    increment(this.byEndpoint, endpoint);
    if (customerKey !== undefined) {
      let perEndpoint = this.byCustomer.get(customerKey);
      if (!perEndpoint) {
        perEndpoint = new Map();
        this.byCustomer.set(customerKey, perEndpoint);
      }
      increment(perEndpoint, endpoint);
    }
  }

  status(status: number): void {
    increment(this.byStatus, status);
  }

  throttled(scope: "partner" | "customer"): void {
    if (scope === "partner") this.throttledPartner += 1;
    else this.throttledCustomer += 1;
  }

  writeApplied(assigned: number, removed: number): void {
    this.writes += 1;
    this.assigned += assigned;
    this.removed += removed;
  }

  replay(): void {
    this.replayed += 1;
  }

  fault(kind: FaultKind): void {
    increment(this.faults, kind);
  }

  snapshot(identity?: Record<string, number>): CountersSnapshot {
    const byCustomer: Record<string, Record<string, number>> = {};
    for (const [customer, perEndpoint] of this.byCustomer) byCustomer[customer] = Object.fromEntries(perEndpoint);
    const snapshot: CountersSnapshot = {
      requests: {
        total: this.total,
        byEndpoint: Object.fromEntries(this.byEndpoint),
        byCustomer,
        byStatus: Object.fromEntries([...this.byStatus].map(([status, n]) => [String(status), n])),
      },
      throttled: { total: this.throttledPartner + this.throttledCustomer, partner: this.throttledPartner, customer: this.throttledCustomer },
      writesApplied: this.writes,
      licensesAssigned: this.assigned,
      licensesRemoved: this.removed,
      replays: this.replayed,
      faults: {
        error500: this.faults.get("error500") ?? 0,
        error503: this.faults.get("error503") ?? 0,
        reset: this.faults.get("reset") ?? 0,
        slow: this.faults.get("slow") ?? 0,
        dropAfterCommit: this.faults.get("dropAfterCommit") ?? 0,
      },
    };
    if (identity) snapshot.identity = identity;
    return snapshot;
  }
}
