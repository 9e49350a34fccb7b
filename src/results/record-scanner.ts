// Splits a results journal into its CSV records without parsing their cells: a record ends at a
// line feed outside quotes. Reports each complete record's byte range and leading line number,
// and where the last complete record ends (a crash can leave a torn record after it).
import type { FileHandle } from "node:fs/promises";

const QUOTE = 0x22;
const LINE_FEED = 0x0a;
const COMMA = 0x2c;

export interface ScannedRecord {
  /** The record's `line` cell when it is a plain number, else undefined (the header, garbage). */
  line: number | undefined;
  /** Absolute byte offset of the record's first byte. */
  start: number;
  /** The record's bytes with its line feed; a view that is only valid during the callback. */
  bytes: Buffer;
}

export interface ScanResult {
  /** Offset just after the last complete record: where a torn tail (if any) begins. */
  completeEnd: number;
  /** Bytes read in all. */
  size: number;
}

const DEFAULT_CHUNK_BYTES = 1 << 20;

/** The number before the first comma, if the record starts with digits and a comma. */
export function leadingLineNumber(bytes: Buffer): number | undefined {
  let value = 0;
  let index = 0;
  for (; index < bytes.length && index < 16; index += 1) {
    const byte = bytes[index]!;
    if (byte < 0x30 || byte > 0x39) break;
    value = value * 10 + (byte - 0x30);
  }
  return index > 0 && bytes[index] === COMMA ? value : undefined;
}

export async function scanRecords(
  handle: FileHandle,
  onRecord: (record: ScannedRecord) => void,
  chunkBytes = DEFAULT_CHUNK_BYTES,
): Promise<ScanResult> {
  // One work buffer for the whole scan: the open record's bytes are moved to its front, and the
  // next chunk is read in after them, so a scan allocates nothing per chunk.
  let work = Buffer.allocUnsafe(chunkBytes * 2);
  let carryLength = 0; // bytes of the record still open at the end of the previous chunk
  let recordStart = 0;
  let readPosition = 0;
  let inQuote = false;
  for (;;) {
    if (work.length - carryLength < chunkBytes) {
      const grown = Buffer.allocUnsafe(carryLength + chunkBytes); // a record longer than a chunk
      work.copy(grown, 0, 0, carryLength);
      work = grown;
    }
    const { bytesRead } = await handle.read(work, carryLength, chunkBytes, readPosition);
    if (bytesRead === 0) break;
    readPosition += bytesRead;
    const data = work.subarray(0, carryLength + bytesRead);
    const base = recordStart; // data[0] is the first byte of the open record
    let index = carryLength;
    // indexOf jumps instead of a byte loop; nextQuote is cached so rare quotes cost one search.
    let nextQuote = -1;
    while (index < data.length) {
      if (inQuote) {
        const close = data.indexOf(QUOTE, index);
        if (close < 0) {
          index = data.length;
          break;
        }
        inQuote = false;
        index = close + 1;
        continue;
      }
      if (nextQuote < index) {
        nextQuote = data.indexOf(QUOTE, index);
        if (nextQuote < 0) nextQuote = data.length;
      }
      const lineFeed = data.indexOf(LINE_FEED, index);
      const end = lineFeed < 0 ? data.length : lineFeed;
      if (nextQuote < end) {
        inQuote = true;
        index = nextQuote + 1;
        continue;
      }
      if (lineFeed < 0) {
        index = data.length;
        break;
      }
      const bytes = data.subarray(recordStart - base, lineFeed + 1);
      onRecord({ line: leadingLineNumber(bytes), start: recordStart, bytes });
      recordStart = base + lineFeed + 1;
      index = lineFeed + 1;
    }
    const openAt = recordStart - base;
    carryLength = data.length - openAt;
    work.copyWithin(0, openAt, data.length);
  }
  return { completeEnd: recordStart, size: readPosition };
}
