// Reads the whole roster before anything is sent, keeping this shard's rows grouped by customer and
// the rows rejected on reading.
//
// Memory (issue 6: a 1,000,000-row roster in bounded memory): every row is held until the run ends,
// so each is stored as small as a row object can be. Customer ids and SKU strings are interned (a
// million rows name a few hundred of each); a user's id is shared with the row before it when it
// is the same user (a user's rows are usually adjacent); rows without excluded plans share one
// frozen empty list; and each row is rebuilt as one object literal, so all its fields sit inside
// the object (the reader's row grew a property after creation, which costs a separate backing store).
import type { RosterRow, RowRejection, Shard } from "../model.js";
import { readRoster, RosterFileError, type RosterSource } from "../input/roster-reader.js";
import { inShard } from "../plan/shard.js";

export type ShardRoster =
  | { ok: true; byCustomer: Map<string, RosterRow[]>; rows: RosterRow[]; rejections: RowRejection[]; maxLine: number }
  | { ok: false; error: string };

/** Shared by every row without excluded plans; frozen, so a stray push fails loudly instead of leaking into other rows. */
const NO_EXCLUDED_PLANS = Object.freeze([]) as unknown as string[];

/** Most distinct strings interned; past it strings are kept as read (a hostile roster cannot grow the table). */
const INTERN_LIMIT = 100_000;

export async function readShardRoster(source: RosterSource, shard: Shard | undefined): Promise<ShardRoster> {
  const byCustomer = new Map<string, RosterRow[]>();
  const rows: RosterRow[] = [];
  const rejections: RowRejection[] = [];
  const interned = new Map<string, string>();
  const intern = (value: string): string => {
    const held = interned.get(value);
    if (held !== undefined) return held;
    if (interned.size < INTERN_LIMIT) interned.set(value, value);
    return value;
  };
  let previousUserId: string | undefined;
  let maxLine = 1;
  try {
    for await (const record of readRoster(source)) {
      if (record.kind === "rejected") {
        maxLine = Math.max(maxLine, record.rejection.line);
        if (inShard(record.rejection.customerId, shard)) rejections.push(record.rejection);
        continue;
      }
      const read = record.row;
      maxLine = Math.max(maxLine, read.line);
      if (!inShard(read.customerId, shard)) continue;
      let userId = read.userId;
      if (userId !== undefined && userId === previousUserId) userId = previousUserId;
      previousUserId = userId;
      const row = compactRow(read, intern(read.customerId), userId, intern(read.sku));
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

/** The row as one object literal with in-object fields; optional fields only when present. */
function compactRow(read: RosterRow, customerId: string, userId: string | undefined, sku: string): RosterRow {
  const excludedPlans = read.excludedPlans.length === 0 ? NO_EXCLUDED_PLANS : read.excludedPlans;
  const { line, action, userPrincipalName } = read;
  if (userPrincipalName === undefined) {
    if (userId !== undefined) return { line, customerId, userId, sku, excludedPlans, action };
    return { line, customerId, sku, excludedPlans, action };
  }
  if (userId !== undefined) return { line, customerId, userId, userPrincipalName, sku, excludedPlans, action };
  return { line, customerId, userPrincipalName, sku, excludedPlans, action };
}
