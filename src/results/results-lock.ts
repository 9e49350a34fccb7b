// One run per results file: `<results>.lock` names the run that holds it (pid, host, start time,
// command) from before the sidecar is touched until the final rewrite is done.
//
// Why not a lock library: proper-lockfile (the well-kept one) decides staleness by an mtime it
// refreshes on a timer, whatever the host, and holds a directory with no owner in it. Here a lock
// must name its holder, be taken over only when its holder is provably dead (same host, no such
// pid) and never be broken for another host's run without --break-lock: that is a file created
// with link(2), which fails if the name exists (atomic on local and NFS file systems alike) and
// publishes the holder's record complete, never half written.
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import type { LockHolder } from "./lock-holder.js";
import { renderLockHeld } from "./messages.js";

export type { LockHolder } from "./lock-holder.js";

export interface ResultsLock {
  readonly path: string;
  /** Removes the lock if it is still ours. Idempotent; also runs at process exit. */
  release(): void;
}

export type AcquireLockResult =
  | { ok: true; lock: ResultsLock; tookOver?: { holder: LockHolder | undefined; why: string } }
  | { ok: false; holder: LockHolder | undefined; message: string };

export interface AcquireLockOptions {
  resultsPath: string;
  command: string;
  /** Take over a lock whose holder cannot be checked (another host, an unreadable lock file). */
  breakLock: boolean;
  clock?: () => Date;
  pid?: number;
  host?: string;
  /** Whether the lock's holder still runs on this host; default: its pid answers signal 0 and started before the lock. */
  isAlive?: (pid: number, startedAt: string) => boolean;
}

export function lockPath(resultsPath: string): string {
  return `${resultsPath}.lock`;
}

export function acquireResultsLock(options: AcquireLockOptions): AcquireLockResult {
  const path = lockPath(options.resultsPath);
  const me: LockHolder = {
    pid: options.pid ?? process.pid,
    host: options.host ?? hostname(),
    startedAt: (options.clock ?? (() => new Date()))().toISOString(),
    command: options.command,
  };
  const isAlive = options.isAlive ?? holderIsRunning;
  const record = `${JSON.stringify(me)}\n`;
  const temporary = `${path}.${me.pid}.tmp`;
  writeFileSync(temporary, record, { mode: 0o644 });
  try {
    let tookOver: { holder: LockHolder | undefined; why: string } | undefined;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      if (tryLink(temporary, path)) return { ok: true, lock: heldLock(path, record), ...(tookOver ? { tookOver } : {}) };
      const holder = readHolder(path);
      if (holder === "gone") continue; // released between our link and our read: try again
      const verdict = judge(holder, me, isAlive, options.breakLock);
      if (!verdict.takeOver) return { ok: false, holder, message: renderLockHeld(options.resultsPath, path, holder, verdict.why, verdict.running) };
      if (!removeIfStill(path, holder)) continue; // someone else moved it first: look again
      tookOver = { holder, why: verdict.why };
    }
    const holder = readHolder(path);
    const named = holder === "gone" ? undefined : holder;
    return { ok: false, holder: named, message: renderLockHeld(options.resultsPath, path, named, "other runs keep taking it", true) };
  } finally {
    try {
      unlinkSync(temporary);
    } catch {
      // already gone
    }
  }
}

function judge(
  holder: LockHolder | undefined,
  me: LockHolder,
  isAlive: (pid: number, startedAt: string) => boolean,
  breakLock: boolean,
): { takeOver: boolean; running: boolean; why: string } {
  if (holder === undefined) {
    return breakLock
      ? { takeOver: true, running: false, why: "its lock file was unreadable; taken over (--break-lock)" }
      : { takeOver: false, running: false, why: "its lock file cannot be read" };
  }
  if (holder.host !== me.host) {
    return breakLock
      ? { takeOver: true, running: false, why: `held by host ${holder.host}, which cannot be checked from here; taken over (--break-lock)` }
      : { takeOver: false, running: false, why: `it is held from another host, which cannot be checked from here` };
  }
  if (holder.pid === me.pid || isAlive(holder.pid, holder.startedAt)) return { takeOver: false, running: true, why: "that run is still going" };
  return { takeOver: true, running: false, why: `its holder (pid ${holder.pid}) is no longer running` };
}

function tryLink(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

/** The lock's holder; undefined when the file does not read as one; "gone" when there is no file. */
function readHolder(path: string): LockHolder | undefined | "gone" {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "gone";
    return undefined;
  }
  return parseHolder(text);
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (typeof value.pid !== "number" || typeof value.host !== "string") return undefined;
    return { pid: value.pid, host: value.host, startedAt: String(value.startedAt ?? ""), command: String(value.command ?? "") };
  } catch {
    return undefined;
  }
}

/**
 * Removes the lock file only if it still names `holder`: it is first renamed aside (one remover
 * wins), then checked; a lock that turns out to be someone else's is put back.
 */
function removeIfStill(path: string, holder: LockHolder | undefined): boolean {
  const aside = `${path}.${process.pid}.stale`;
  try {
    renameSync(path, aside);
  } catch {
    return false;
  }
  let text = "";
  try {
    text = readFileSync(aside, "utf8");
  } catch {
    // unreadable: compared as such below
  }
  const moved = parseHolder(text);
  const same = holder === undefined ? moved === undefined : moved !== undefined && moved.pid === holder.pid && moved.host === holder.host && moved.startedAt === holder.startedAt;
  if (!same) tryLink(aside, path);
  unlinkSync(aside);
  return same;
}

function heldLock(path: string, record: string): ResultsLock {
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    process.off("exit", release);
    try {
      // Only our own lock: a lock broken by --break-lock elsewhere is not ours to remove.
      if (readFileSync(path, "utf8") === record) unlinkSync(path);
    } catch {
      // already gone
    }
  };
  // process.exit() (a second signal, the drain deadline, an internal error) must not leave it behind.
  process.on("exit", release);
  return { path, release };
}

function holderIsRunning(pid: number, lockedAt: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists, under another user.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  // A pid is reused once its process is gone: a process that started after the lock was taken is not its holder.
  const started = processStartMs(pid);
  const locked = Date.parse(lockedAt);
  return started === undefined || Number.isNaN(locked) || started <= locked + START_SLACK_MS;
}

/** Clock ticks of /proc's start times (USER_HZ, 100 on every Linux architecture Node runs on). */
const USER_HZ = 100;
const START_SLACK_MS = 2_000;

/** When the process started (ms since the epoch) from /proc; undefined where there is no /proc. */
function processStartMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start at its closing parenthesis; starttime is field 22.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[19]);
    const bootTime = Number(/^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))?.[1]);
    if (!Number.isFinite(ticks) || !Number.isFinite(bootTime)) return undefined;
    return bootTime * 1000 + (ticks / USER_HZ) * 1000;
  } catch {
    return undefined;
  }
}
