// The machine's floor for a plan: what reading the roster, splitting it into lines and writing a
// file the size of the plan's results file take on this machine, now. Measured in the benchmark's
// own process right after the plan, so the plan's figure is a ratio to it (a loaded machine slows
// both) rather than an absolute time.
import { createReadStream } from "node:fs";
import { open, rm, stat } from "node:fs/promises";

const BATCH_BYTES = 1 << 20;

export interface Floor {
  /** Read + split + write (synced), wall. */
  ms: number;
  lines: number;
  writtenBytes: number;
}

/** Reads `roster` line by line and writes its lines to `scratch` until it is as large as `results`. */
export async function measureFloor(roster: string, results: string, scratch: string): Promise<Floor> {
  const rosterBytes = (await stat(roster)).size;
  const targetBytes = (await stat(results)).size;
  // Each roster line is written this many times on average, so the output is the results' size.
  const copies = targetBytes / Math.max(1, rosterBytes);
  const out = await open(scratch, "w");
  const batch = Buffer.allocUnsafe(BATCH_BYTES);
  let batchLength = 0;
  let writtenBytes = 0;
  let owed = 0;
  let lines = 0;
  const started = performance.now();
  try {
    let rest = "";
    const emit = async (line: string): Promise<void> => {
      lines += 1;
      owed += copies;
      while (owed >= 1) {
        owed -= 1;
        const length = Buffer.byteLength(line) + 1;
        if (batchLength + length > BATCH_BYTES) {
          await out.write(batch, 0, batchLength);
          writtenBytes += batchLength;
          batchLength = 0;
        }
        batchLength += batch.write(`${line}\n`, batchLength);
      }
    };
    for await (const chunk of createReadStream(roster, { highWaterMark: 64 * 1024 })) {
      const text = rest + (chunk as Buffer).toString("utf8");
      const parts = text.split("\n");
      rest = parts.pop() ?? "";
      for (const part of parts) await emit(part);
    }
    if (rest !== "") await emit(rest);
    if (batchLength > 0) {
      await out.write(batch, 0, batchLength);
      writtenBytes += batchLength;
    }
    await out.sync();
  } finally {
    await out.close();
  }
  const ms = performance.now() - started;
  await rm(scratch, { force: true });
  return { ms, lines, writtenBytes };
}
