// A plan's heap kept near its live size. Each customer's rows, resolved rows and requests live
// while it is planned and are garbage after; V8 lets that garbage pile up (its old generation
// grows to several times the live size before a full collection), which at 5,000,000 rows put
// the plan past half a gigabyte. Between customers, when the heap holds more than HEAP_BOUND, a
// full collection is asked for: one pause of a few tens of milliseconds where the garbage of
// many customers would otherwise sit in memory.
import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** Heap in use above which a full collection runs between two customers... */
export const HEAP_BOUND = 64 * 1024 * 1024;
/** ...once it also holds this much more than the last one left (a live heap near the bound is not collected after every customer). */
const GARBAGE_BOUND = 32 * 1024 * 1024;

let liveAfterLast = 0;

let collect: (() => void) | null | undefined;

/** V8's full collection, made reachable once (a context created after `--expose-gc` has `gc`); null where it is not. */
function collector(): (() => void) | null {
  if (collect === undefined) {
    try {
      setFlagsFromString("--expose-gc");
      const gc: unknown = runInNewContext("gc");
      collect = typeof gc === "function" ? (gc as () => void) : null;
    } catch {
      collect = null;
    }
  }
  return collect;
}

/** Collects the garbage now if the heap holds more than `bound` bytes (and more than GARBAGE_BOUND over the last collection's); call between units of work. */
export function boundHeap(bound = HEAP_BOUND): void {
  const used = getHeapStatistics().used_heap_size;
  if (used <= bound || used <= liveAfterLast + GARBAGE_BOUND) return;
  const gc = collector();
  if (gc === null) return;
  gc();
  liveAfterLast = getHeapStatistics().used_heap_size;
}

/** A full collection now, whatever the heap holds: for garbage the heap's size does not show (arrays' memory outside it). */
export function collectGarbage(): void {
  const gc = collector();
  if (gc === null) return;
  gc();
  liveAfterLast = getHeapStatistics().used_heap_size;
}
