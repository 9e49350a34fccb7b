// Where each input line's latest entry sits in the results journal: byte offset and length per
// line number, in typed arrays that grow by doubling. About 12 bytes a line, so a million-row
// journal is indexed in ~12 MB instead of a million objects. Also the bit set and the frozen
// snapshot of entries that a resumed run's done lines are looked up in.

const ABSENT = -1;

export class LatestEntryIndex {
  private offsets: Float64Array; // byte offsets pass 2^32 on big journals
  private lengths: Uint32Array;
  private present = 0;
  private highestLine = 0;

  /** `lines`: the highest line expected, when known (the roster was read): sized once, never doubled. */
  constructor(lines = 1023) {
    this.offsets = new Float64Array(lines + 1).fill(ABSENT);
    this.lengths = new Uint32Array(lines + 1);
  }

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
    let capacity = Math.max(this.offsets.length, 1);
    while (capacity <= line) capacity *= 2;
    const offsets = new Float64Array(capacity).fill(ABSENT);
    offsets.set(this.offsets);
    const lengths = new Uint32Array(capacity);
    lengths.set(this.lengths);
    this.offsets = offsets;
    this.lengths = lengths;
  }
}

/** A fixed set of line numbers, one bit a line: a million lines in 125 KB. */
export class LineSet {
  readonly words: Uint32Array;

  /** A set that can hold the lines 0..highestLine. */
  constructor(highestLine: number) {
    this.words = new Uint32Array((highestLine >>> 5) + 1);
  }

  add(line: number): void {
    const word = line >>> 5;
    if (word >= this.words.length) throw new RangeError(`line ${line} is beyond this set`);
    this.words[word] = this.words[word]! | (1 << (line & 31));
  }

  has(line: number): boolean {
    if (!Number.isInteger(line) || line < 0) return false;
    const word = line >>> 5;
    return word < this.words.length && (this.words[word]! & (1 << (line & 31))) !== 0;
  }
}

/**
 * Where some lines' entries sat when the snapshot was taken, kept apart from the live index so a
 * later entry for such a line (the journal goes on appending) does not move it. Dense: offsets and
 * lengths only for the lines in the set, found by rank (set bits before the line), so ~12 bytes
 * per kept line plus ~1/4 byte per line number.
 */
export class EntrySnapshot {
  private readonly ranks: Uint32Array; // set bits in all words before each word
  private readonly offsets: Float64Array;
  private readonly lengths: Uint32Array;
  readonly size: number;

  /** Copies `index`'s current entry of each line in `lines`; every one must have an entry. */
  constructor(
    index: LatestEntryIndex,
    private readonly lines: LineSet,
  ) {
    const { words } = lines;
    this.ranks = new Uint32Array(words.length);
    let count = 0;
    for (let word = 0; word < words.length; word += 1) {
      this.ranks[word] = count;
      count += popcount(words[word]!);
    }
    this.size = count;
    this.offsets = new Float64Array(count);
    this.lengths = new Uint32Array(count);
    let rank = 0;
    for (const line of this.keys()) {
      const offset = index.offsetOf(line);
      if (offset === undefined) throw new Error(`line ${line} has no entry to keep`);
      this.offsets[rank] = offset;
      this.lengths[rank] = index.lengthOf(line);
      rank += 1;
    }
  }

  has(line: number): boolean {
    return this.lines.has(line);
  }

  /** The kept entry of `line`, or undefined when the line is not in the snapshot. */
  entryOf(line: number): { offset: number; length: number } | undefined {
    if (!this.lines.has(line)) return undefined;
    const word = line >>> 5;
    const rank = this.ranks[word]! + popcount(this.lines.words[word]! & ~(-1 << (line & 31)));
    return { offset: this.offsets[rank]!, length: this.lengths[rank]! };
  }

  /** The lines in the snapshot, ascending. */
  *keys(): IterableIterator<number> {
    const { words } = this.lines;
    for (let word = 0; word < words.length; word += 1) {
      let bits = words[word]!;
      while (bits !== 0) {
        const low = bits & -bits;
        yield word * 32 + (31 - Math.clz32(low));
        bits ^= low;
      }
    }
  }
}

function popcount(value: number): number {
  let v = value - ((value >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}
