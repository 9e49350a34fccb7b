// A shard's roster rows, held until the run ends in bounded memory (a roster of 1,000,000 rows among them).
//
// One object per row for the whole run costs about 120 bytes a row, and V8 lets the heap grow to
// ~4x its live size before a full collection: ~640 MB peak for a million rows. This form keeps a
// row in ~25 bytes of typed arrays (line, SKU reference, action, the user id's 16 bytes) and builds
// RosterRow objects for one customer at a time, when that customer is planned; they are garbage
// once its requests are done. Rows that do not fit (a user principal name, excluded plans, a user
// id that is not a lower-case GUID) are kept as the reader made them.
import type { RosterRow } from "../model.js";
import type { PlainCustomerRows } from "../plan/plain-customer-plan.js";
import { ROSTER_FIELD_NAMES, ROSTER_FIELDS, specOf, type RosterField } from "../input/roster-fields.js";

/**
 * How each roster field is held: `typed` in the typed arrays below, `empty` only at its empty value
 * (a row with any other value is kept as read). A Record over every field: a new roster column does
 * not compile until it is placed here, and an `empty` one is never dropped.
 */
const HELD: Record<RosterField, "typed" | "empty"> = {
  customerId: "typed", // the key rows are grouped by
  userId: "typed",
  userPrincipalName: "empty",
  sku: "typed",
  excludedPlans: "empty",
  action: "typed",
  usageLocation: "empty",
};
const HELD_EMPTY = ROSTER_FIELD_NAMES.filter((field) => HELD[field] === "empty");

/** Whether a row's value of an `empty` field is that field's empty value. */
function isEmptyValue(field: RosterField, value: unknown): boolean {
  const empty = specOf(field).empty;
  if (Array.isArray(empty)) return Array.isArray(value) && value.length === 0;
  return value === empty;
}

/** Shared by every row without excluded plans; frozen, so a stray push fails loudly instead of leaking into other rows. */
const NO_EXCLUDED_PLANS = ROSTER_FIELDS.excludedPlans.empty;

/** Most distinct SKU strings held in the table; past it rows are kept as read (a hostile roster cannot grow it). */
const INTERN_LIMIT = 100_000;

/** A shard's rows, held compactly and grouped by customer (see above). */
export interface CompactRoster {
  /** Customers in the order the roster first names them. */
  readonly customers: readonly string[];
  readonly rowCount: number;
  /** The customer's rows in file order, as fresh objects (drop them once the customer is planned). */
  rowsOf(customerId: string): RosterRow[];
  /** The customer's line numbers in file order. */
  linesOf(customerId: string): Iterable<number>;
  /** Whether a row of the customer names its user by principal name only (its user directory is needed). */
  usesPrincipalNames(customerId: string): boolean;
  /** The customer's rows as they are held, when every one is plain (none kept as read); else undefined. */
  plainRowsOf(customerId: string): PlainCustomerRows | undefined;
}

/** Lower-case hex digits' codes, and where each of a GUID's 16 bytes is spelled in its 36 characters. */
const HEX_DIGITS = Uint8Array.from("0123456789abcdef", (digit) => digit.charCodeAt(0));
const GUID_PLACES = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
/** A GUID's text being spelled (its dashes in place). */
const GUID_TEXT = Buffer.from("00000000-0000-0000-0000-000000000000", "latin1");
const ACTIONS = ["assign", "remove"] as const;

/** A lower-case hex digit's value, or -1. */
function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // '0'-'9'
  if (code >= 97 && code <= 102) return code - 87; // 'a'-'f'
  return -1;
}

/**
 * Writes the 16 bytes of `id` at `bytes[at..]` when it is a lower-case GUID (8-4-4-4-12 hex
 * digits); false (bytes left partly written, unused) when it is not.
 */
function packGuid(id: string, bytes: Uint8Array, at: number): boolean {
  if (id.length !== 36) return false;
  let out = at;
  for (let i = 0; i < 36; i += 2) {
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (id.charCodeAt(i) !== 45) return false; // '-'
      i -= 1; // step over it
      continue;
    }
    const high = hexValue(id.charCodeAt(i));
    const low = hexValue(id.charCodeAt(i + 1));
    if (high < 0 || low < 0) return false;
    bytes[out++] = (high << 4) | low;
  }
  return true;
}

function hasOnlyEmptyHeldFields(row: RosterRow): boolean {
  for (let k = 0; k < HELD_EMPTY.length; k++) {
    const field = HELD_EMPTY[k]!;
    const value = row[field];
    // The shared frozen empty list and an absent field are the common cases; the rest is judged in full.
    if (value === undefined ? !isEmptyValue(field, value) : value !== NO_EXCLUDED_PLANS && !isEmptyValue(field, value)) return false;
  }
  return true;
}

/** Rows are held in blocks of this many (a power of two): a customer's rows grow a block at a time, never copied. */
const BLOCK_SHIFT = 12;
const BLOCK_ROWS = 1 << BLOCK_SHIFT;
const IN_BLOCK = BLOCK_ROWS - 1;
/** A customer's first block starts this small and doubles up to BLOCK_ROWS (a roster may name many customers of few rows). */
const FIRST_BLOCK_ROWS = 64;

/**
 * One customer's rows. In blocks rather than arrays that double: a doubled array is a copy, and
 * the arrays it replaces are freed into the allocator's heap in pieces it cannot give back to the
 * system (at 5,000,000 rows, ~100 MB more resident memory for the rest of the run).
 */
class CustomerRows implements PlainCustomerRows {
  count = 0;
  private readonly lines: Int32Array[] = [];
  private readonly skus: Int32Array[] = [];
  private readonly actions: Uint8Array[] = [];
  readonly users: Uint8Array[] = [];
  /** Rows kept as read, by index: the ones the typed arrays cannot hold. */
  unusual: Map<number, RosterRow> | undefined;
  byPrincipalName = false;

  constructor(
    readonly customerId: string,
    /** The roster's SKU strings, by reference. */
    private readonly skuTable: readonly string[],
  ) {}

  add(row: RosterRow, skuRef: number, lastUser: LastUser): void {
    const index = this.count;
    const block = index >> BLOCK_SHIFT;
    const at = index & IN_BLOCK;
    if (block === this.lines.length) this.sizeBlock(block, block === 0 ? FIRST_BLOCK_ROWS : BLOCK_ROWS);
    else if (at === this.lines[block]!.length) this.sizeBlock(block, Math.min(BLOCK_ROWS, at * 2));
    this.count++;
    this.lines[block]![at] = row.line;
    // The user id's 16 bytes go in as its text is checked: a lower-case GUID, else the row is kept as read.
    const plain = row.userId !== undefined && this.packUser(row.userId, index, lastUser) && hasOnlyEmptyHeldFields(row);
    if (!plain) {
      (this.unusual ??= new Map()).set(index, row);
      if (!row.userId && row.userPrincipalName) this.byPrincipalName = true;
      return;
    }
    this.skus[block]![at] = skuRef;
    this.actions[block]![at] = row.action === "remove" ? 1 : 0;
  }

  /** packGuid of the row's user id into its place; `same`'s bytes copied when the roster's last row packed named the same user. */
  private packUser(userId: string, index: number, same: LastUser): boolean {
    const users = this.users[index >> BLOCK_SHIFT]!;
    const at = (index & IN_BLOCK) * 16;
    if (same.rows !== undefined && userId === same.userId) {
      const last = same.index;
      const from = same.rows.users[last >> BLOCK_SHIFT]!;
      const fromAt = (last & IN_BLOCK) * 16;
      for (let k = 0; k < 16; k++) users[at + k] = from[fromAt + k]!;
    } else if (!packGuid(userId, users, at)) {
      return false;
    }
    same.rows = this;
    same.index = index;
    same.userId = userId;
    return true;
  }

  userIdAt(index: number): string {
    const u = this.users[index >> BLOCK_SHIFT]!;
    const at = (index & IN_BLOCK) * 16;
    // Spelled into a buffer and read as one string: a template of 21 pieces is a chain of string joins.
    const text = GUID_TEXT;
    for (let k = 0; k < 16; k++) {
      const byte = u[at + k]!;
      const place = GUID_PLACES[k]!;
      text[place] = HEX_DIGITS[byte >> 4]!;
      text[place + 1] = HEX_DIGITS[byte & 15]!;
    }
    return text.toString("latin1", 0, 36);
  }

  lineAt(index: number): number {
    return this.lines[index >> BLOCK_SHIFT]![index & IN_BLOCK]!;
  }

  skuAt(index: number): string {
    return this.skuTable[this.skuRefAt(index)]!;
  }

  skuRefAt(index: number): number {
    return this.skus[index >> BLOCK_SHIFT]![index & IN_BLOCK]!;
  }

  actionAt(index: number): "assign" | "remove" {
    return ACTIONS[this.actions[index >> BLOCK_SHIFT]![index & IN_BLOCK]!]!;
  }

  sameUser(a: number, b: number): boolean {
    const ua = this.users[a >> BLOCK_SHIFT]!;
    const ub = this.users[b >> BLOCK_SHIFT]!;
    const atA = (a & IN_BLOCK) * 16;
    const atB = (b & IN_BLOCK) * 16;
    for (let k = 0; k < 16; k++) if (ua[atA + k] !== ub[atB + k]) return false;
    return true;
  }

  userHash(index: number): number {
    const u = this.users[index >> BLOCK_SHIFT]!;
    let hash = 0x811c9dc5; // FNV-1a over the 16 bytes
    for (let k = (index & IN_BLOCK) * 16, end = k + 16; k < end; k++) hash = Math.imul(hash ^ u[k]!, 0x01000193);
    return hash;
  }

  /** Drops the room of the last block that rows never came to fill. */
  trim(): void {
    const block = this.lines.length - 1;
    if (block < 0) return;
    const used = this.count - block * BLOCK_ROWS;
    if (used < this.lines[block]!.length) this.sizeBlock(block, used);
  }

  /** Gives block `block` room for `size` rows (a new block, or a copy of the one there). */
  private sizeBlock(block: number, size: number): void {
    this.lines[block] = resized(this.lines[block], new Int32Array(size));
    this.skus[block] = resized(this.skus[block], new Int32Array(size));
    this.actions[block] = resized(this.actions[block], new Uint8Array(size));
    this.users[block] = resized(this.users[block], new Uint8Array(size * 16));
  }
}

/**
 * The last row packed, roster-wide: a user's rows are mostly adjacent, and the next row naming the
 * same id copies its bytes. One for the roster, cleared once it is read: the id may be a slice of
 * a chunk of the file's text, which it would keep alive.
 */
interface LastUser {
  rows: CustomerRows | undefined;
  index: number;
  userId: string;
}

/** `into` holding what of `from` fits. */
function resized<T extends Int32Array | Uint8Array>(from: T | undefined, into: T): T {
  if (from !== undefined) into.set(from.subarray(0, Math.min(from.length, into.length)));
  return into;
}

export class TypedArrayRoster implements CompactRoster {
  readonly customers: string[] = [];
  rowCount = 0;
  private readonly byCustomer = new Map<string, CustomerRows>();
  private readonly skuTable: string[] = [];
  private readonly skuRefs = new Map<string, number>();
  private lastCustomerId: string | undefined;
  private lastRows: CustomerRows | undefined;
  private readonly lastUser: LastUser = { rows: undefined, index: -1, userId: "" };

  add(row: RosterRow): void {
    // A roster's rows come customer after customer, mostly: the last customer's rows are kept at hand.
    let rows = row.customerId === this.lastCustomerId ? this.lastRows : this.byCustomer.get(row.customerId);
    if (!rows) {
      const customerId = ownCopy(row.customerId);
      rows = new CustomerRows(customerId, this.skuTable);
      this.byCustomer.set(customerId, rows);
      this.customers.push(customerId);
    }
    this.lastCustomerId = row.customerId;
    this.lastRows = rows;
    let skuRef = this.skuRefs.get(row.sku);
    if (skuRef === undefined) {
      if (this.skuTable.length < INTERN_LIMIT) {
        skuRef = this.skuTable.length;
        const sku = ownCopy(row.sku);
        this.skuTable.push(sku);
        this.skuRefs.set(sku, skuRef);
      } else {
        skuRef = -1; // a hostile roster: the row is kept as read
      }
    }
    if (skuRef < 0) (rows.unusual ??= new Map()).set(rows.count, row);
    rows.add(row, skuRef, this.lastUser);
    this.rowCount++;
  }

  /** Once every row is added: the arrays hold the rows and no more. */
  trim(): void {
    for (const rows of this.byCustomer.values()) rows.trim();
    // What the last rows' ids and customer may hold of the file's text.
    this.lastUser.rows = undefined;
    this.lastUser.userId = "";
    this.lastCustomerId = undefined;
    this.lastRows = undefined;
  }

  rowsOf(customerId: string): RosterRow[] {
    const rows = this.byCustomer.get(customerId);
    if (!rows) return [];
    const out: RosterRow[] = new Array(rows.count);
    let previousUser = "";
    let previousUserAt = -1;
    for (let index = 0; index < rows.count; index++) {
      const kept = rows.unusual?.get(index);
      if (kept) {
        out[index] = kept;
        continue;
      }
      // A user's rows are usually adjacent: they share one id string.
      const sameUser = previousUserAt >= 0 && rows.sameUser(previousUserAt, index);
      const userId = sameUser ? previousUser : rows.userIdAt(index);
      previousUser = userId;
      previousUserAt = index;
      out[index] = { line: rows.lineAt(index), customerId, userId, sku: rows.skuAt(index), excludedPlans: NO_EXCLUDED_PLANS, action: rows.actionAt(index) };
    }
    return out;
  }

  *linesOf(customerId: string): Iterable<number> {
    const rows = this.byCustomer.get(customerId);
    if (!rows) return;
    for (let index = 0; index < rows.count; index++) yield rows.lineAt(index);
  }

  usesPrincipalNames(customerId: string): boolean {
    return this.byCustomer.get(customerId)?.byPrincipalName ?? false;
  }

  plainRowsOf(customerId: string): PlainCustomerRows | undefined {
    const rows = this.byCustomer.get(customerId);
    return rows !== undefined && rows.unusual === undefined ? rows : undefined;
  }
}

/**
 * A string of its own for a value held for the whole run. A cell the reader cut from a chunk of
 * the file can be a slice of the chunk's text and keep all of it alive: a customer id held per
 * customer would keep a chunk (256 KB) per customer, 25 MB of heap for 100 customers.
 */
function ownCopy(value: string): string {
  return Buffer.from(value, "utf8").toString("utf8");
}

