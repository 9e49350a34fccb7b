// The token cache file (--token-cache, PARTNER_CENTER_TOKEN_CACHE): MSAL's serialized cache, kept
// between runs so the refresh token each renewal rotates in replaces the one it used ("Token cache
// serialization in MSAL Node": an ICachePlugin reads the cache before MSAL accesses it and writes it
// after a change). Owns the file's format and when the refresh token in it was issued; it is read
// and written as a private file (private-file.ts: 0600, refused when others may read it, atomic
// writes) under the lock that makes read-redeem-write safe for several runs sharing one file
// (cache-lock.ts). Never logs or returns a token.
import { createHash } from "node:crypto";
import type { ICachePlugin, TokenCacheContext } from "@azure/msal-node";
import { acquireCacheLock, CacheLockTimeout } from "./cache-lock.js";
import { openPrivateFile, writePrivateFileAtomically } from "./private-file.js";

const FORMAT = "license-runner-token-cache";
const FORMAT_VERSION = 1;

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
    let lock;
    try {
      lock = await acquireCacheLock(this.path, this.options.onLockWait);
    } catch (error) {
      if (error instanceof CacheLockTimeout) throw new TokenCacheError(error.message);
      throw error;
    }
    if (lock.unavailable) this.writeError = lock.unavailable;
    try {
      return await task();
    } finally {
      await lock.release();
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
      await writePrivateFileAtomically(this.path, `${JSON.stringify(document, null, 2)}\n`);
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
    const opened = await openPrivateFile(this.path, "token cache");
    if (!opened.ok) return opened;
    await opened.handle?.close();
    return { ok: true };
  }

  private async read(): Promise<{ ok: true; document: TokenCacheDocument | undefined } | { ok: false; error: string }> {
    const opened = await openPrivateFile(this.path, "token cache");
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
