// The request log: one entry per API request, kept in a ring of fixed capacity (default 200,000)
// so a long benchmark cannot grow it without end. Times are ms since the epoch, sub-ms precise.

export interface RequestLogEntry {
  seq: number;
  arrivalMs: number;
  /** When the answer was written (or the connection destroyed). */
  answerMs: number;
  method: string;
  endpoint: string;
  customerId: string | null;
  userId: string | null;
  requestId: string;
  correlationId: string;
  /** The status the client received; null when the connection was destroyed instead. */
  status: number | null;
  errorCode: string | null;
  retryAfterSeconds: number | null;
  /** Injected fault(s), "+"-joined (e.g. "slow+error503"); null when none. */
  fault: string | null;
  replayed: boolean;
  /** This request committed a write (a licenseupdates 201 that was not a replay; no-op 201s count). */
  applied: boolean;
}

export class RequestLog {
  private ring: (RequestLogEntry | undefined)[];
  private next = 0;
  private count = 0;

  constructor(private readonly capacity = 200_000) {
    this.ring = new Array<RequestLogEntry | undefined>(capacity);
  }

  add(entry: Omit<RequestLogEntry, "seq">): void {
    (entry as RequestLogEntry).seq = this.count;
    this.ring[this.next] = entry as RequestLogEntry;
    this.next = (this.next + 1) % this.capacity;
    this.count += 1;
  }

  /** Entries oldest first; `limit`: only the newest that many; `sinceSeq`: only entries with seq >= it. */
  entries(options: { limit?: number; sinceSeq?: number } = {}): RequestLogEntry[] {
    const held = Math.min(this.count, this.capacity);
    const start = (this.next - held + this.capacity) % this.capacity;
    const out: RequestLogEntry[] = [];
    for (let i = 0; i < held; i += 1) {
      const entry = this.ring[(start + i) % this.capacity];
      if (entry && (options.sinceSeq === undefined || entry.seq >= options.sinceSeq)) out.push(entry);
    }
    return options.limit !== undefined && out.length > options.limit ? out.slice(out.length - options.limit) : out;
  }

  /** Entries ever logged, and how many of them fell out of the ring. */
  get total(): number {
    return this.count;
  }

  get dropped(): number {
    return Math.max(0, this.count - this.capacity);
  }

  clear(): void {
    this.ring = new Array<RequestLogEntry | undefined>(this.capacity);
    this.next = 0;
    this.count = 0;
  }
}
