// What earlier answers already decided, so later rows are failed without a call: a customer that
// refused the partner (403 900150/20002, 404 60003), a user that does not exist (404 60002), a
// customer's SKU that ran out of seats (60012; it fails later assignments, removals still go).
import type { ResolvedRow } from "../model.js";

export interface Decided {
  errorCode: string;
  message: string;
}

export type Refusal =
  | { kind: "customer"; customerId: string; decided: Decided }
  | { kind: "user"; customerId: string; userId: string; decided: Decided }
  | { kind: "sku"; customerId: string; skuId: string; decided: Decided };

export class RefusalMemory {
  private readonly customers = new Map<string, Decided>();
  private readonly users = new Map<string, Decided>(); // key: customer|user
  private readonly skus = new Map<string, Decided>(); // key: customer|sku

  /** No refusal remembered: `settle` keeps every row. */
  get isEmpty(): boolean {
    return this.customers.size === 0 && this.users.size === 0 && this.skus.size === 0;
  }

  remember(refusal: Refusal): void {
    if (refusal.kind === "customer") this.customers.set(refusal.customerId, refusal.decided);
    else if (refusal.kind === "user") this.users.set(`${refusal.customerId}|${refusal.userId}`, refusal.decided);
    else {
      // The first 60012 of a SKU names the line that decided it; later ones change nothing.
      const key = `${refusal.customerId}|${refusal.skuId.toLowerCase()}`;
      if (!this.skus.has(key)) this.skus.set(key, refusal.decided);
    }
  }

  decidedFor(row: ResolvedRow): Decided | undefined {
    return (
      this.customers.get(row.customerId) ??
      this.users.get(`${row.customerId}|${row.userId}`) ??
      (row.action === "assign" ? this.skus.get(`${row.customerId}|${row.skuId.toLowerCase()}`) : undefined)
    );
  }

  /** Rows still to send; each decided row is handed to `onDecided` instead. */
  settle(rows: readonly ResolvedRow[], onDecided: (row: ResolvedRow, decided: Decided) => void): ResolvedRow[] {
    // Nothing decided yet (the usual case): no per-row key building, no copy.
    if (this.isEmpty) return rows as ResolvedRow[];
    const toSend: ResolvedRow[] = [];
    for (const row of rows) {
      const decided = this.decidedFor(row);
      if (decided) onDecided(row, decided);
      else toSend.push(row);
    }
    return toSend;
  }
}
