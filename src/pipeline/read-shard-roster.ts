// Reads the whole roster before anything is sent, keeping this shard's rows grouped by customer and
// the rows rejected on reading. Customer ids and SKU strings are interned: a million rows name a
// few hundred customers and SKUs, and each distinct string is then held once.
import type { RosterRow, RowRejection, Shard } from "../model.js";
import { readRoster, RosterFileError, type RosterSource } from "../input/roster-reader.js";
import { inShard } from "../plan/shard.js";

export type ShardRoster =
  | { ok: true; byCustomer: Map<string, RosterRow[]>; rows: RosterRow[]; rejections: RowRejection[]; maxLine: number }
  | { ok: false; error: string };

export async function readShardRoster(source: RosterSource, shard: Shard | undefined): Promise<ShardRoster> {
  const byCustomer = new Map<string, RosterRow[]>();
  const rows: RosterRow[] = [];
  const rejections: RowRejection[] = [];
  const interned = new Map<string, string>();
  const intern = (value: string): string => {
    const held = interned.get(value);
    if (held !== undefined) return held;
    if (interned.size < 100_000) interned.set(value, value);
    return value;
  };
  let maxLine = 1;
  try {
    for await (const record of readRoster(source)) {
      if (record.kind === "rejected") {
        maxLine = Math.max(maxLine, record.rejection.line);
        if (inShard(record.rejection.customerId, shard)) rejections.push(record.rejection);
        continue;
      }
      const row = record.row;
      maxLine = Math.max(maxLine, row.line);
      if (!inShard(row.customerId, shard)) continue;
      row.customerId = intern(row.customerId);
      row.sku = intern(row.sku);
      rows.push(row);
      const list = byCustomer.get(row.customerId);
      if (list) list.push(row);
      else byCustomer.set(row.customerId, [row]);
    }
  } catch (error) {
    if (error instanceof RosterFileError) {
      const where = error.line ? ` (line ${error.line})` : "";
      return { ok: false, error: `the roster ${source && "path" in source ? source.path : "from stdin"} cannot be read${where}: ${error.message} [${error.code}]` };
    }
    throw error;
  }
  return { ok: true, byCustomer, rows, rejections, maxLine };
}
