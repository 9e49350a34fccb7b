// The token cache file on its own: 0600 atomic writes, refusal of a file others can read, the
// issue date of the refresh token across rotations (injected clock), a lock that orders
// read-redeem-write across runs, and a failed write reported instead of thrown.
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { TokenCacheContext } from "@azure/msal-node";
import { TokenCacheError, TokenCacheFile } from "../../dist/partner-center/auth/token-cache-file.js";
import { refusalFromMsalError } from "../../dist/partner-center/auth/credentials-refused.js";
import { buildSignInReport } from "../../dist/partner-center/auth/sign-in-report.js";

/** MSAL's serialized cache holding one refresh token. */
function msalCache(refreshToken: string): string {
  return JSON.stringify({
    Account: {},
    IdToken: {},
    AccessToken: {},
    RefreshToken: { "uid.utid-login.example-refreshtoken-client--": { credential_type: "RefreshToken", secret: refreshToken, client_id: "client" } },
    AppMetadata: {},
  });
}

/** What MSAL hands the plugin: its cache, and whether it changed. */
function context(state: { serialized: string }, changed: boolean): TokenCacheContext {
  return {
    cacheHasChanged: changed,
    tokenCache: {
      serialize: () => state.serialized,
      deserialize: (text: string) => {
        state.serialized = text;
      },
    },
  } as unknown as TokenCacheContext;
}

async function dir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "lr-token-cache-"));
}

describe("token cache file", () => {
  it("writes atomically with mode 0600 whatever the umask, leaves no temp file, and reads back what it wrote", async () => {
    const path = join(await dir(), "nested", "cache.json");
    const clock = { ms: Date.parse("2026-12-01T02:30:00Z") };
    const cache = new TokenCacheFile(path, { now: () => clock.ms });
    const previousUmask = process.umask(0);
    try {
      await cache.plugin.afterCacheAccess(context({ serialized: msalCache("rt-one") }, true));
    } finally {
      process.umask(previousUmask);
    }
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(join(path, ".."))).toEqual(["cache.json"]);
    const other = new TokenCacheFile(path);
    const state = { serialized: "" };
    await other.plugin.beforeCacheAccess(context(state, false));
    expect(JSON.parse(state.serialized).RefreshToken).toEqual(JSON.parse(msalCache("rt-one")).RefreshToken);
    expect(await other.check()).toMatchObject({ ok: true, exists: true, hasRefreshToken: true, refreshTokenIssuedAt: "2026-12-01T02:30:00.000Z" });
  });

  it("does not write when MSAL says nothing changed", async () => {
    const path = join(await dir(), "cache.json");
    await new TokenCacheFile(path).plugin.afterCacheAccess(context({ serialized: msalCache("rt") }, false));
    await expect(stat(path)).rejects.toThrow(/ENOENT/);
  });

  it("dates the refresh token when it changes (a rotation), and keeps the date while it stays the same", async () => {
    const path = join(await dir(), "cache.json");
    const clock = { ms: Date.parse("2026-09-01T00:00:00Z") };
    const cache = new TokenCacheFile(path, { now: () => clock.ms });
    await cache.plugin.afterCacheAccess(context({ serialized: msalCache("rt-a") }, true));
    clock.ms = Date.parse("2026-10-01T00:00:00Z");
    await cache.plugin.afterCacheAccess(context({ serialized: msalCache("rt-a") }, true)); // an access token renewed, no new refresh token
    expect(cache.refreshTokenIssuedAt()).toBe("2026-09-01T00:00:00.000Z");
    clock.ms = Date.parse("2026-11-01T00:00:00Z");
    await cache.plugin.afterCacheAccess(context({ serialized: msalCache("rt-b") }, true));
    expect(cache.refreshTokenIssuedAt()).toBe("2026-11-01T00:00:00.000Z");
    expect(await readFile(path, "utf8")).not.toContain("rt-a");
  });

  it("refuses a file others can read or write, a symbolic link, another kind of file, and garbage", async () => {
    const base = await dir();
    const path = join(base, "cache.json");
    await writeFile(path, "", { mode: 0o600 });
    for (const mode of [0o640, 0o604, 0o620]) {
      await chmod(path, mode);
      const checked = await new TokenCacheFile(path).check();
      expect(checked.ok).toBe(false);
      expect(!checked.ok && checked.error).toContain(`chmod 600 ${path}`);
    }
    await chmod(path, 0o600);
    expect(await new TokenCacheFile(path).check()).toMatchObject({ ok: true, hasRefreshToken: false }); // an empty 0600 file: a cache to fill

    const link = join(base, "link.json");
    await symlink(path, link);
    expect(await new TokenCacheFile(link).check()).toMatchObject({ ok: false });
    expect(await new TokenCacheFile(base).check()).toMatchObject({ ok: false });
    await writeFile(path, "not json", { mode: 0o600 });
    const garbage = await new TokenCacheFile(path).check();
    expect(!garbage.ok && garbage.error).toContain("license-runner login");
    expect(await new TokenCacheFile(join(base, "absent.json")).check()).toMatchObject({ ok: true, exists: false });
  });

  it("for login, which replaces it: any content will do, but not permissions others share", async () => {
    const path = join(await dir(), "cache.json");
    await writeFile(path, "left over from something else", { mode: 0o600 });
    expect(await new TokenCacheFile(path).checkAccess()).toEqual({ ok: true });
    await chmod(path, 0o644);
    expect(await new TokenCacheFile(path).checkAccess()).toMatchObject({ ok: false });
  });

  it("the lock orders tasks of two caches on one file: never two inside at once", async () => {
    const path = join(await dir(), "cache.json");
    const a = new TokenCacheFile(path);
    const b = new TokenCacheFile(path);
    let inside = 0;
    let most = 0;
    const task = async () => {
      inside += 1;
      most = Math.max(most, inside);
      await new Promise((resolve) => setTimeout(resolve, 30));
      inside -= 1;
    };
    await Promise.all([a.exclusive(task), b.exclusive(task), a.exclusive(task), b.exclusive(task)]);
    expect(most).toBe(1);
    await expect(stat(`${path}.lock`)).rejects.toThrow(/ENOENT/); // released
  });

  it("takes over a stale lock left by a run that died", async () => {
    const path = join(await dir(), "cache.json");
    await writeFile(`${path}.lock`, "{}");
    const old = new Date(Date.now() - 120_000);
    await utimes(`${path}.lock`, old, old);
    expect(await new TokenCacheFile(path).exclusive(async () => "ran")).toBe("ran");
  });

  it("a write that fails is reported (for the summary), not thrown: the run's tokens still work", async () => {
    const base = await dir();
    const folder = join(base, "cache-dir");
    await mkdir(folder);
    const path = join(folder, "cache.json");
    const cache = new TokenCacheFile(path);
    await rm(folder, { recursive: true });
    await writeFile(folder, "a file where the folder was");
    await cache.plugin.afterCacheAccess(context({ serialized: msalCache("rt") }, true));
    expect(cache.lastWriteError()).toMatch(/^E[A-Z]+$/);
    const report = buildSignInReport(
      { refreshTokenSource: "token-cache", tokenCachePath: path, refreshTokenIssuedAt: undefined, tokenCacheWriteError: cache.lastWriteError() },
      Date.now(),
    );
    expect(report.tokenCacheWritable).toBe(false);
    expect(report.warnings.join("\n")).toContain(`the token cache ${path} could not be written`);
  });
});

describe("a cache that becomes unusable during a run", () => {
  it("stops the sign-in with the cache's own message (the run then stops on credentials)", async () => {
    const path = join(await dir(), "cache.json");
    await writeFile(path, "", { mode: 0o600 });
    const cache = new TokenCacheFile(path);
    await chmod(path, 0o644);
    const thrown = await cache.plugin.beforeCacheAccess(context({ serialized: "" }, false)).catch((error: unknown) => error);
    expect(thrown).toBeInstanceOf(TokenCacheError);
    const refusal = refusalFromMsalError(thrown, { authority: "https://login.example" });
    expect(refusal.reason).toBe("token_cache");
    expect(refusal.message).toContain(`chmod 600 ${path}`);
  });
});

describe("sign-in report", () => {
  const now = Date.parse("2026-12-01T00:00:00Z");
  const facts = (issuedAt: string | undefined) => ({ refreshTokenSource: "token-cache" as const, tokenCachePath: "/data/cache.json", refreshTokenIssuedAt: issuedAt, tokenCacheWriteError: undefined });

  it("warns when the refresh token in use is older than 60 days, not at 60", () => {
    const at60 = buildSignInReport(facts(new Date(now - 60 * 86_400_000).toISOString()), now);
    expect(at60).toMatchObject({ refreshTokenAgeDays: 60, warnings: [] });
    const at61 = buildSignInReport(facts(new Date(now - 61 * 86_400_000).toISOString()), now);
    expect(at61.refreshTokenAgeDays).toBe(61);
    expect(at61.warnings).toHaveLength(1);
    expect(at61.warnings[0]).toContain("issued 61 days ago");
    expect(at61.warnings[0]).toContain("license-runner login");
  });

  it("without a cache: the issue date is unknown, and the warning says the rotated token is lost", () => {
    const report = buildSignInReport({ refreshTokenSource: "environment", tokenCachePath: undefined, refreshTokenIssuedAt: undefined, tokenCacheWriteError: undefined }, now);
    expect(report).toMatchObject({ refreshTokenIssuedAt: null, refreshTokenAgeDays: null, tokenCache: null, tokenCacheWritable: null });
    expect(report.warnings.join(" ")).toContain("--token-cache");
  });
});
