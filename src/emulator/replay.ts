// Idempotent writes: the first answer given to a POST with a client-sent MS-RequestId, so a retry
// with the same id gets that answer again and nothing is applied twice ("Partner Center REST request and response headers": MS-RequestId).
// Bounded: the oldest ids are forgotten first, so long benchmarks do not grow memory without end.

export interface StoredAnswer {
  status: number;
  body: unknown;
  errorCode: string | null;
}

export class ReplayStore {
  private readonly answers = new Map<string, StoredAnswer>();

  constructor(private readonly capacity = 200_000) {}

  get(requestId: string): StoredAnswer | undefined {
    return this.answers.get(requestId.toLowerCase());
  }

  remember(requestId: string, answer: StoredAnswer): void {
    const key = requestId.toLowerCase();
    if (this.answers.has(key)) return;
    if (this.answers.size >= this.capacity) {
      const oldest = this.answers.keys().next();
      if (!oldest.done) this.answers.delete(oldest.value);
    }
    this.answers.set(key, answer);
  }

  clear(): void {
    this.answers.clear();
  }
}
