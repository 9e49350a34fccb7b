// --shard K/N: a customer belongs to the shard its stable hash falls in, so all of its rows (and its
// one SKU lookup) stay together, and N shards together cover the roster exactly once.
import { createHash } from "node:crypto";
import type { Shard } from "../model.js";

export function shardOf(customerKey: string, count: number): number {
  const digest = createHash("sha256").update(customerKey.trim().toLowerCase()).digest();
  return (digest.readUInt32BE(0) % count) + 1;
}

export function inShard(customerKey: string, shard: Shard | undefined): boolean {
  return !shard || shardOf(customerKey, shard.count) === shard.index;
}
