// Reads the whole roster before anything is sent, keeping this shard's rows (in the compact form of
// compact-roster.ts, grouped by customer) and the rows rejected on reading.
import type { RowRejection, Shard } from "../model.js";
import { readRosterBatches, RosterFileError, type RosterColumns, type RosterSource } from "../input/roster-reader.js";
import { inShard } from "../plan/shard.js";
import { TypedArrayRoster, type CompactRoster } from "./compact-roster.js";
import { collectGarbage } from "./heap-bound.js";

export type ShardRoster =
  | { ok: true; roster: CompactRoster; rejections: RowRejection[]; maxLine: number; columns: RosterColumns | undefined }
  | { ok: false; error: string };

/** Most customers whose shard is remembered (a hostile roster of distinct customers cannot grow it). */
const OWNED_CACHE_LIMIT = 100_000;

export async function readShardRoster(source: RosterSource, shard: Shard | undefined): Promise<ShardRoster> {
  const roster = new TypedArrayRoster();
  const rejections: RowRejection[] = [];
  let maxLine = 1;
  let columns: RosterColumns | undefined;
  // A customer's shard is a SHA-256 of its id: worked out once per customer, not once per row.
  const owned = new Map<string, boolean>();
  const ownRow = (customerId: string): boolean => {
    let own = owned.get(customerId);
    if (own === undefined) {
      own = inShard(customerId, shard);
      if (owned.size < OWNED_CACHE_LIMIT) owned.set(customerId, own);
    }
    return own;
  };
  try {
    for await (const batch of readRosterBatches(source, { onColumns: (mapped) => (columns = mapped) })) {
      for (const record of batch) {
        if (record.kind === "rejected") {
          if (record.rejection.line > maxLine) maxLine = record.rejection.line;
          if (inShard(record.rejection.customerId, shard)) rejections.push(record.rejection);
          continue;
        }
        if (record.row.line > maxLine) maxLine = record.row.line;
        if (shard === undefined || ownRow(record.row.customerId)) roster.add(record.row);
      }
    }
  } catch (error) {
    if (error instanceof RosterFileError) {
      const where = error.line ? ` (line ${error.line})` : "";
      return { ok: false, error: `the roster ${source && "path" in source ? source.path : "from stdin"} cannot be read${where}: ${error.message} [${error.code}]` };
    }
    throw error;
  }
  roster.trim();
  // What reading left (the blocks trim() replaced, outside the heap, and the heap's garbage): V8
  // would free it only at its next full collection, on top of everything the plan allocates next.
  collectGarbage();
  return { ok: true, roster, rejections, maxLine, columns };
}
