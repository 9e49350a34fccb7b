// The token cache file (--token-cache, PARTNER_CENTER_TOKEN_CACHE): MSAL's serialized cache, kept
// between runs so the refresh token each renewal rotates in replaces the one it used ("Token cache
// serialization in MSAL Node": an ICachePlugin reads the cache before MSAL accesses it and writes it
// after a change). Owns the file: its permissions (0600, refused when others may read it), atomic
// writes (temp file + rename), the lock that makes read-redeem-write safe for several runs sharing
// one file, and when the refresh token in it was issued. Never logs or returns a token.
import { createHash, randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { mkdir, open, readFile, rename, stat, unlink, type FileHandle } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import type { ICachePlugin, TokenCacheContext } from "@azure/msal-node";

const FORMAT = "license-runner-token-cache";
const FORMAT_VERSION = 1;
/** Any permission for group or others: a cache holding a refresh token is its owner's alone. */
const OTHERS_MAY_ACCESS = 0o077;
/** A lock older than this is from a run that died while renewing: token requests take seconds. */
const LOCK_STALE_MS = 30_000;
/** How long a run waits for another to finish renewing before it gives up. */
const LOCK_WAIT_MS = 60_000;

/** The file as it is on disk: MSAL's cache, plus when the refresh token in it was first kept. */
interface TokenCacheDocument {
  format: typeof FORMAT;
  version: typeof FORMAT_VERSION;
  /** sha256 of the refresh token that refreshTokenIssuedAt is about, so a rotation is noticed. */
  refreshTokenSha256?: string;
  /** When this refresh token came back from the identity provider (first written here), ISO 8601. */
  refreshTokenIssuedAt?: string;
  msal: Record<string, unknown>;
}

/** The cache file cannot be used (permissions changed, garbage, locked too long); the message names the file, never a token. */
export class TokenCacheError extends Error {
  override readonly name = "TokenCacheError";
}

export type TokenCacheCheck =
  | { ok: true; exists: boolean; hasRefreshToken: boolean; refreshTokenIssuedAt: string | undefined }
  | { ok: false; error: string };

export interface TokenCacheFileOptions {
  now?: () => number;
  /** login: start from an empty cache and replace the file, whatever an earlier sign-in left. */
  replace?: boolean;
  /** A lock waited on (another run renewing), for the log. */
  onLockWait?: () => void;
}

export class TokenCacheFile {
  readonly plugin: ICachePlugin;
  private readonly now: () => number;
  private replace: boolean;
  private lastWrittenAt: number | undefined;
  private writeError: string | undefined;
  private meta: Pick<TokenCacheDocument, "refreshTokenSha256" | "refreshTokenIssuedAt"> = {};

  constructor(
    readonly path: string,
    private readonly options: TokenCacheFileOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.replace = options.replace ?? false;
    this.plugin = {
      beforeCacheAccess: (context) => this.beforeCacheAccess(context),
      afterCacheAccess: (context) => this.afterCacheAccess(context),
    };
  }

  /** Before the run: is the file usable (absent is fine), and does it hold a refresh token? */
  async check(): Promise<TokenCacheCheck> {
    const read = await this.read();
    if (!read.ok) return read;
    if (!read.document) return { ok: true, exists: false, hasRefreshToken: false, refreshTokenIssuedAt: undefined };
    return {
      ok: true,
      exists: true,
      hasRefreshToken: refreshTokenOf(read.document.msal) !== undefined,
      refreshTokenIssuedAt: read.document.refreshTokenIssuedAt,
    };
  }

  /** When the refresh token last read or written was issued (ISO 8601), if known. */
  refreshTokenIssuedAt(): string | undefined {
    return this.meta.refreshTokenIssuedAt;
  }

  /** Why the last write failed, or undefined when every write since the start succeeded. */
  lastWriteError(): string | undefined {
    return this.writeError;
  }

  wasWritten(): boolean {
    return this.lastWrittenAt !== undefined;
  }

  /**
   * Runs `task` (a token request and the cache write it causes) holding the cache's lock, so two
   * runs sharing the file never redeem the same refresh token or overwrite each other's rotation.
   */
  async exclusive<T>(task: () => Promise<T>): Promise<T> {
    const release = await this.lock();
    try {
      return await task();
    } finally {
      await release();
    }
  }

  private async beforeCacheAccess(context: TokenCacheContext): Promise<void> {
    if (this.replace) return;
    const read = await this.read();
    if (!read.ok) throw new TokenCacheError(read.error);
    if (read.document) context.tokenCache.deserialize(JSON.stringify(read.document.msal));
  }

  private async afterCacheAccess(context: TokenCacheContext): Promise<void> {
    if (!context.cacheHasChanged) return;
    const msal = JSON.parse(context.tokenCache.serialize()) as Record<string, unknown>;
    const refreshToken = refreshTokenOf(msal);
    const sha256 = refreshToken === undefined ? undefined : createHash("sha256").update(refreshToken).digest("hex");
    if (sha256 !== this.meta.refreshTokenSha256) {
      this.meta = sha256 === undefined ? {} : { refreshTokenSha256: sha256, refreshTokenIssuedAt: new Date(this.now()).toISOString() };
    }
    const document: TokenCacheDocument = { format: FORMAT, version: FORMAT_VERSION, ...this.meta, msal };
    try {
      await this.writeAtomically(`${JSON.stringify(document, null, 2)}\n`);
      this.lastWrittenAt = this.now();
      this.writeError = undefined;
      this.replace = false; // from now on, read what was written (another run may rotate it)
    } catch (error) {
      // The tokens of this run still work; the next run would present an older refresh token.
      this.writeError = (error as NodeJS.ErrnoException).code ?? "write failed";
    }
  }

  /** For login, which replaces the file: may this file be written and kept (whatever it holds now)? */
  async checkAccess(): Promise<{ ok: true } | { ok: false; error: string }> {
    const opened = await this.openChecked();
    if (!opened.ok) return opened;
    await opened.handle?.close();
    return { ok: true };
  }

  private async read(): Promise<{ ok: true; document: TokenCacheDocument | undefined } | { ok: false; error: string }> {
    const opened = await this.openChecked();
    if (!opened.ok) return opened;
    const handle = opened.handle;
    if (!handle) return { ok: true, document: undefined };
    try {
      const text = await handle.readFile("utf8");
      if (text.trim() === "") return { ok: true, document: undefined };
      const parsed = parseDocument(text);
      if (!parsed) {
        return { ok: false, error: `token cache ${this.path} is not a license-runner token cache: delete it and sign in again with license-runner login` };
      }
      this.meta =
        refreshTokenOf(parsed.msal) === undefined
          ? {}
          : {
              ...(parsed.refreshTokenSha256 ? { refreshTokenSha256: parsed.refreshTokenSha256 } : {}),
              ...(parsed.refreshTokenIssuedAt ? { refreshTokenIssuedAt: parsed.refreshTokenIssuedAt } : {}),
            };
      return { ok: true, document: parsed };
    } finally {
      await handle.close();
    }
  }

  /** The file opened for reading once it passed the checks; no handle: there is no file yet. */
  private async openChecked(): Promise<{ ok: true; handle: FileHandle | undefined } | { ok: false; error: string }> {
    let handle: FileHandle;
    try {
      handle = await open(this.path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return { ok: true, handle: undefined };
      if (code === "ELOOP") return { ok: false, error: `token cache ${this.path} is a symbolic link: give the file itself` };
      return { ok: false, error: `cannot read token cache ${this.path}: ${code ?? "unreadable"}` };
    }
    const refuse = async (error: string): Promise<{ ok: false; error: string }> => {
      await handle.close();
      return { ok: false, error };
    };
    const info = await handle.stat();
    if (!info.isFile()) return refuse(`token cache ${this.path} is not a regular file`);
    if ((info.mode & OTHERS_MAY_ACCESS) !== 0) {
      const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
      return refuse(`token cache ${this.path} can be read or written by others (mode ${mode}); it holds a refresh token: chmod 600 ${this.path}`);
    }
    if (typeof process.getuid === "function" && info.uid !== process.getuid()) {
      return refuse(`token cache ${this.path} belongs to another user (uid ${info.uid}): the runner keeps its own cache`);
    }
    return { ok: true, handle };
  }

  /** Temp file in the same directory (0600 from creation), fsync, rename over the cache. */
  private async writeAtomically(text: string): Promise<void> {
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const temp = join(dir, `.${basename(this.path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      await handle.writeFile(text, "utf8");
      await handle.chmod(0o600); // whatever the umask did
      await handle.sync();
    } catch (error) {
      await handle.close();
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    await handle.close();
    try {
      await rename(temp, this.path);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
  }

  /** `<cache>.lock`, created exclusively; a stale one (a run that died) is taken over. */
  private async lock(): Promise<() => Promise<void>> {
    const lockPath = `${this.path}.lock`;
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 }).catch(() => undefined);
    const deadline = Date.now() + LOCK_WAIT_MS;
    let waited = false;
    for (;;) {
      try {
        const handle = await open(lockPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
        await handle.writeFile(JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString() }));
        await handle.close();
        return () => unlink(lockPath).catch(() => undefined);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== "EEXIST") {
          // A folder the runner cannot write: no other run can write the cache there either, and
          // this run's own write will fail and be reported; sign-in itself goes on.
          this.writeError = code ?? "lock failed";
          return async () => undefined;
        }
      }
      const held = await stat(lockPath).catch(() => undefined);
      if (held && Date.now() - held.mtimeMs > LOCK_STALE_MS) {
        await unlink(lockPath).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) {
        const holder = await readFile(lockPath, "utf8").catch(() => "");
        throw new TokenCacheError(`token cache ${this.path} is locked by another run (${holder.slice(0, 200) || "unknown holder"})`);
      }
      if (!waited) this.options.onLockWait?.();
      waited = true;
      await new Promise((resolve) => setTimeout(resolve, 25 + Math.random() * 75));
    }
  }
}

function parseDocument(text: string): TokenCacheDocument | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<TokenCacheDocument>;
    if (parsed?.format !== FORMAT || parsed.version !== FORMAT_VERSION || !parsed.msal || typeof parsed.msal !== "object") return undefined;
    return parsed as TokenCacheDocument;
  } catch {
    return undefined;
  }
}

/** The refresh token held in MSAL's serialized cache (its RefreshToken section), if any. */
export function refreshTokenOf(msal: Record<string, unknown>): string | undefined {
  const section = msal.RefreshToken;
  if (!section || typeof section !== "object") return undefined;
  for (const entry of Object.values(section as Record<string, unknown>)) {
    const secret = (entry as { secret?: unknown } | null)?.secret;
    if (typeof secret === "string" && secret) return secret;
  }
  return undefined;
}
