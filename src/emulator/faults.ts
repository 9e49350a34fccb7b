// Injected faults (the "dice"): which API calls are answered 500/503, reset without an answer,
// answered late, or committed and then dropped. Deterministic for a given seed and request order,
// so a failing test can be replayed.

export interface EmulatorFaults {
  /** Fraction of API calls answered 500 or 503 (half each), nothing applied. */
  errorRate?: number;
  /** Fraction of API calls whose connection is destroyed without an answer, nothing applied. */
  resetRate?: number;
  /** Fraction of committed writes whose connection is then destroyed without an answer. */
  dropAfterCommitRate?: number;
  /** Fraction of API calls answered `slowMs` late. */
  slowRate?: number;
  /** Extra delay of a slow answer, ms. Default 2000. */
  slowMs?: number;
}

export type FaultKind = "error500" | "error503" | "reset" | "slow" | "dropAfterCommit";

export interface FrontFault {
  kind: "error500" | "error503" | "reset" | null;
  slowMs: number;
}

const DEFAULT_SLOW_MS = 2000;

/** mulberry32: small, fast, good enough for fault dice. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultDice {
  private random: () => number;

  constructor(
    readonly faults: EmulatorFaults,
    private readonly seed?: number,
  ) {
    this.random = seed === undefined ? Math.random : seededRandom(seed);
  }

  /** Faults decided when a call arrives, before anything is applied. */
  rollFront(): FrontFault {
    const { errorRate = 0, resetRate = 0, slowRate = 0 } = this.faults;
    let kind: FrontFault["kind"] = null;
    if (errorRate > 0 || resetRate > 0) {
      const roll = this.random();
      if (roll < errorRate) kind = this.random() < 0.5 ? "error500" : "error503";
      else if (roll < errorRate + resetRate) kind = "reset";
    }
    const slowMs = slowRate > 0 && this.random() < slowRate ? (this.faults.slowMs ?? DEFAULT_SLOW_MS) : 0;
    return { kind, slowMs };
  }

  /** Decided after a write was committed: drop the connection instead of answering? */
  rollDropAfterCommit(): boolean {
    const rate = this.faults.dropAfterCommitRate ?? 0;
    return rate > 0 && this.random() < rate;
  }

  /** Start the dice over (reset of the emulator). */
  restart(): void {
    this.random = this.seed === undefined ? Math.random : seededRandom(this.seed);
  }
}

/** A fault setting is a fraction 0..1 and slowMs a non-negative number; returns a message or undefined. */
export function checkFaults(faults: EmulatorFaults): string | undefined {
  for (const key of ["errorRate", "resetRate", "dropAfterCommitRate", "slowRate"] as const) {
    const value = faults[key];
    if (value !== undefined && !(typeof value === "number" && value >= 0 && value <= 1)) {
      return `${key} must be a fraction between 0 and 1`;
    }
  }
  if ((faults.errorRate ?? 0) + (faults.resetRate ?? 0) > 1) return "errorRate + resetRate must not exceed 1";
  if (faults.slowMs !== undefined && !(typeof faults.slowMs === "number" && faults.slowMs >= 0)) {
    return "slowMs must be a number of milliseconds";
  }
  return undefined;
}
