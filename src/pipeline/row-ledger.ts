// Which input lines already have their outcome: one bit per line, so a million-row run stays small
// and no row is ever recorded twice or forgotten.
export class RowLedger {
  private bits: Uint8Array;

  constructor(maxLine: number) {
    this.bits = new Uint8Array((maxLine >> 3) + 1);
  }

  has(line: number): boolean {
    return ((this.bits[line >> 3] ?? 0) & (1 << (line & 7))) !== 0;
  }

  /** Marks the line; false when it was marked already. */
  mark(line: number): boolean {
    if (this.has(line)) return false;
    if (line >> 3 >= this.bits.length) {
      const grown = new Uint8Array(Math.max((line >> 3) + 1, this.bits.length * 2));
      grown.set(this.bits);
      this.bits = grown;
    }
    this.bits[line >> 3]! |= 1 << (line & 7);
    return true;
  }
}
