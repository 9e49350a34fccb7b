// Reads the whole roster before anything is sent, keeping this shard's rows (in the compact form of
// compact-roster.ts, grouped by customer) and the rows rejected on reading.
import type { RowRejection, Shard } from "../model.js";
import { readRoster, RosterFileError, type RosterColumns, type RosterSource } from "../input/roster-reader.js";
import { inShard } from "../plan/shard.js";
import { TypedArrayRoster, type CompactRoster } from "./compact-roster.js";

export type ShardRoster =
  | { ok: true; roster: CompactRoster; rejections: RowRejection[]; maxLine: number; columns: RosterColumns | undefined }
  | { ok: false; error: string };

export async function readShardRoster(source: RosterSource, shard: Shard | undefined): Promise<ShardRoster> {
  const roster = new TypedArrayRoster();
  const rejections: RowRejection[] = [];
  let maxLine = 1;
  let columns: RosterColumns | undefined;
  try {
    for await (const record of readRoster(source, { onColumns: (mapped) => (columns = mapped) })) {
      if (record.kind === "rejected") {
        maxLine = Math.max(maxLine, record.rejection.line);
        if (inShard(record.rejection.customerId, shard)) rejections.push(record.rejection);
        continue;
      }
      maxLine = Math.max(maxLine, record.row.line);
      if (inShard(record.row.customerId, shard)) roster.add(record.row);
    }
  } catch (error) {
    if (error instanceof RosterFileError) {
      const where = error.line ? ` (line ${error.line})` : "";
      return { ok: false, error: `the roster ${source && "path" in source ? source.path : "from stdin"} cannot be read${where}: ${error.message} [${error.code}]` };
    }
    throw error;
  }
  return { ok: true, roster, rejections, maxLine, columns };
}
