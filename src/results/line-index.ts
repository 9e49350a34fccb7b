// Where each input line's latest entry sits in the results journal: byte offset and length per
// line number, in typed arrays that grow by doubling. About 12 bytes a line, so a million-row
// journal is indexed in ~12 MB instead of a million objects.

const ABSENT = -1;

export class LatestEntryIndex {
  private offsets = new Float64Array(1024).fill(ABSENT); // byte offsets pass 2^32 on big journals
  private lengths = new Uint32Array(1024);
  private present = 0;
  private highestLine = 0;

  /** Records that `line`'s latest entry is `length` bytes at `offset`; an earlier one is superseded. */
  set(line: number, offset: number, length: number): void {
    this.ensureCapacity(line);
    if (this.offsets[line] === ABSENT) this.present += 1;
    this.offsets[line] = offset;
    this.lengths[line] = length;
    if (line > this.highestLine) this.highestLine = line;
  }

  delete(line: number): void {
    if (line < this.offsets.length && this.offsets[line] !== ABSENT) {
      this.offsets[line] = ABSENT;
      this.lengths[line] = 0;
      this.present -= 1;
    }
  }

  /** The latest entry's offset, or undefined. */
  offsetOf(line: number): number | undefined {
    const offset = line < this.offsets.length ? this.offsets[line] : undefined;
    return offset === undefined || offset === ABSENT ? undefined : offset;
  }

  lengthOf(line: number): number {
    return this.lengths[line] ?? 0;
  }

  /** How many lines have an entry. */
  get size(): number {
    return this.present;
  }

  /** The highest line number with an entry (0 when none). */
  get maxLine(): number {
    return this.highestLine;
  }

  private ensureCapacity(line: number): void {
    if (line < this.offsets.length) return;
    let capacity = this.offsets.length;
    while (capacity <= line) capacity *= 2;
    const offsets = new Float64Array(capacity).fill(ABSENT);
    offsets.set(this.offsets);
    const lengths = new Uint32Array(capacity);
    lengths.set(this.lengths);
    this.offsets = offsets;
    this.lengths = lengths;
  }
}
