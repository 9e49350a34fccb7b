// Opens a roster source (a path or a stream such as stdin) as a stream of bytes, and peeks at its
// first non-blank line before any parsing starts: that is where the delimiter is chosen and where
// files that are not CSV text at all (an .xlsx, UTF-16) are recognised.
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { RosterFileError } from "./roster-file-error.js";

export type RosterSource = ({ path: string } | { stream: NodeJS.ReadableStream; name: string }) & {
  /** Sees every byte handed to the parser, in order (the results' roster fingerprint is fed from it). */
  onBytes?: (chunk: Buffer) => void;
}; // name "-" for stdin

export type RosterDelimiter = "," | ";" | "\t";

/** The bytes of a roster, with what the first line told us about them. */
export interface OpenedRoster {
  /** Every byte of the source, the peeked ones included, in order. */
  bytes: Readable;
  delimiter: RosterDelimiter;
  /** Closes the underlying file / stream now (the reader is done with it, early or not). */
  release(): void;
}

/** How far we read looking for the end of the header line; a longer first line is sniffed on this much. */
const HEADER_PEEK_LIMIT = 64 * 1024;

/** A roster file is read this much at a time (a million-row roster in ~400 reads, not ~1,500). */
const READ_CHUNK = 256 * 1024;

const UTF8_BOM = [0xef, 0xbb, 0xbf];

export function rosterName(source: RosterSource): string {
  return "path" in source ? source.path : source.name;
}

/** Maps an I/O failure to UNREADABLE with the system's reason (never anything else from the error). */
export function unreadable(source: RosterSource, cause: unknown): RosterFileError {
  const code = (cause as { code?: unknown } | null)?.code;
  const reason =
    code === "ENOENT" ? "no such file" :
    code === "EISDIR" ? "it is a directory" :
    code === "EACCES" || code === "EPERM" ? "permission denied" :
    typeof code === "string" ? code :
    cause instanceof Error ? cause.message : String(cause);
  return new RosterFileError("UNREADABLE", `cannot read the roster ${JSON.stringify(rosterName(source))}: ${reason}`);
}

/** Opens the source and peeks its header line; throws RosterFileError for an empty or non-CSV source. */
export async function openRoster(source: RosterSource): Promise<OpenedRoster> {
  const stream: NodeJS.ReadableStream = "path" in source ? createReadStream(source.path, { highWaterMark: READ_CHUNK }) : source.stream;
  const chunks = stream[Symbol.asyncIterator]();
  const peeked: Buffer[] = [];
  let peekedLength = 0;
  let ended = false;
  let headerLine: Buffer | undefined;
  try {
    while (headerLine === undefined) {
      const next = await chunks.next();
      let endsALine = false;
      if (next.done) {
        ended = true;
      } else {
        const chunk = typeof next.value === "string" ? Buffer.from(next.value, "utf8") : next.value;
        peeked.push(chunk);
        peekedLength += chunk.length;
        endsALine = chunk.includes(0x0a) || chunk.includes(0x0d);
      }
      const full = ended || peekedLength >= HEADER_PEEK_LIMIT;
      // Rescan only when the header line may have ended: tiny chunks must not make this quadratic.
      if (endsALine || full) {
        // A file is read in chunks larger than the limit: its head is looked at up to the limit only.
        const head = Buffer.concat(peeked, peekedLength);
        headerLine = firstNonBlankLine("path" in source ? head.subarray(0, HEADER_PEEK_LIMIT) : head, full);
      }
      // Past the limit we stop looking (a megabyte of blank lines is not worth rescanning).
      if (full) break;
    }
  } catch (cause) {
    await chunks.return?.();
    throw unreadable(source, cause);
  }
  try {
    recogniseNonCsv(Buffer.concat(peeked, peekedLength), source);
    if (headerLine === undefined && ended) {
      throw new RosterFileError("EMPTY_FILE", `the roster ${JSON.stringify(rosterName(source))} is empty: it needs a header line (customerId,userId,sku) and one row per license`);
    }
  } catch (error) {
    await chunks.return?.();
    throw error;
  }
  const rest = ended ? undefined : chunks;
  return {
    bytes: Readable.from(replay(peeked, rest, source.onBytes)),
    delimiter: headerLine === undefined ? "," : sniffDelimiter(headerLine),
    // Not through `rest.return()`: that waits for a pending read; destroy closes the file at once.
    release: () => (stream as Partial<Readable>).destroy?.(),
  };
}

async function* replay(peeked: Buffer[], rest: AsyncIterator<string | Buffer> | undefined, onBytes?: (chunk: Buffer) => void): AsyncGenerator<Buffer> {
  for (const chunk of peeked) {
    onBytes?.(chunk);
    yield chunk;
  }
  if (rest === undefined) return;
  try {
    for (;;) {
      const next = await rest.next();
      if (next.done) return;
      const chunk = typeof next.value === "string" ? Buffer.from(next.value, "utf8") : next.value;
      onBytes?.(chunk);
      yield chunk;
    }
  } finally {
    // The reader stopped early (or failed): release the file / stream.
    await rest.return?.();
  }
}

/**
 * The first line holding anything but whitespace (BOM skipped), without its line ending, once its
 * end is in `head`; the partial line when `final`; undefined when there is none yet.
 */
function firstNonBlankLine(head: Buffer, final: boolean): Buffer | undefined {
  let start = hasPrefix(head, UTF8_BOM) ? UTF8_BOM.length : 0;
  while (start < head.length) {
    let end = start;
    while (end < head.length && head[end] !== 0x0a && head[end] !== 0x0d) end++;
    const line = head.subarray(start, end);
    const blank = line.every((byte) => byte === 0x20 || byte === 0x09);
    if (end === head.length) return blank || !final ? undefined : line;
    if (!blank) return line;
    start = end + 1;
  }
  return undefined;
}

function recogniseNonCsv(head: Buffer, source: RosterSource): void {
  const name = JSON.stringify(rosterName(source));
  if (hasPrefix(head, [0x50, 0x4b, 0x03, 0x04])) {
    throw new RosterFileError("NOT_CSV", `the roster ${name} is a ZIP file (an Excel .xlsx workbook?), not CSV text: save it as "CSV UTF-8"`);
  }
  const utf16 = hasPrefix(head, [0xff, 0xfe]) || hasPrefix(head, [0xfe, 0xff]) || head.subarray(0, 256).includes(0);
  if (utf16) {
    throw new RosterFileError("UNSUPPORTED_ENCODING", `the roster ${name} is not UTF-8 text (UTF-16, as Excel's "Unicode Text" saves it?): save it as "CSV UTF-8"`, 1);
  }
}

/** The delimiter used most often outside quotes in the header line; `,` when none is. */
function sniffDelimiter(headerLine: Buffer): RosterDelimiter {
  const counts = { ",": 0, ";": 0, "\t": 0 };
  let quoted = false;
  for (const byte of headerLine) {
    if (byte === 0x22) quoted = !quoted;
    else if (quoted) continue;
    else if (byte === 0x2c) counts[","]++;
    else if (byte === 0x3b) counts[";"]++;
    else if (byte === 0x09) counts["\t"]++;
  }
  if (counts[";"] > counts[","] && counts[";"] >= counts["\t"]) return ";";
  if (counts["\t"] > counts[","] && counts["\t"] > counts[";"]) return "\t";
  return ",";
}

function hasPrefix(buffer: Buffer, prefix: readonly number[]): boolean {
  return buffer.length >= prefix.length && prefix.every((byte, index) => buffer[index] === byte);
}
