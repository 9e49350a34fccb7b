// The lock around one renewal of a shared token cache: `<cache>.lock`, created exclusively and
// naming its holder, so two runs sharing the file never redeem the same refresh token or
// overwrite each other's rotation. A lock left by a run that died while renewing is taken over.
import { constants } from "node:fs";
import { mkdir, open, readFile, stat, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname } from "node:path";

/** A lock older than this is from a run that died while renewing: token requests take seconds. */
const LOCK_STALE_MS = 30_000;
/** How long a run waits for another to finish renewing before it gives up. */
const LOCK_WAIT_MS = 60_000;

export interface CacheLock {
  release(): Promise<void>;
  /**
   * Why no lock could be made (the folder cannot be written: no other run can write the cache
   * there either, and this run's own write will fail and be reported; sign-in itself goes on).
   */
  unavailable?: string;
}

export class CacheLockTimeout extends Error {}

export async function acquireCacheLock(cachePath: string, onLockWait?: () => void): Promise<CacheLock> {
  const lockPath = `${cachePath}.lock`;
  await mkdir(dirname(cachePath), { recursive: true, mode: 0o700 }).catch(() => undefined);
  const deadline = Date.now() + LOCK_WAIT_MS;
  let waited = false;
  for (;;) {
    try {
      const handle = await open(lockPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      await handle.writeFile(JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString() }));
      await handle.close();
      return { release: () => unlink(lockPath).catch(() => undefined) };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "EEXIST") return { release: async () => undefined, unavailable: code ?? "lock failed" };
    }
    const held = await stat(lockPath).catch(() => undefined);
    if (held && Date.now() - held.mtimeMs > LOCK_STALE_MS) {
      await unlink(lockPath).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline) {
      const holder = await readFile(lockPath, "utf8").catch(() => "");
      throw new CacheLockTimeout(`token cache ${cachePath} is locked by another run (${holder.slice(0, 200) || "unknown holder"})`);
    }
    if (!waited) onLockWait?.();
    waited = true;
    await new Promise((resolve) => setTimeout(resolve, 25 + Math.random() * 75));
  }
}
