// End to end: the token cache keeps the rotated refresh token between runs. The emulator's identity
// endpoint expires every refresh token after one use, so what a partner sees on day 91 (the first
// refresh token, reused every night, refused with AADSTS700082) happens on the second run: with
// the cache every run succeeds; without it the second stops and says to sign in again.
import { mkdtemp, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { control } from "../support/emulator.js";
import { customer } from "../support/state-builder.js";
import {
  appUserEnv,
  authState,
  everySecret,
  humanStderr,
  leaks,
  runRoster,
  useIdentityEmulator,
  type IdentityEmulator,
} from "../support/auth-e2e.js";

const startEmulator = useIdentityEmulator();

async function singleUseEmulator(users: number) {
  const c = customer(1, users, { powerBiPro: 50 });
  const emulator = await startEmulator({ state: authState([c]), refreshTokenUse: { maxUses: 1 } });
  return { c, emulator };
}

describe("the token cache keeps the rotated refresh token", () => {
  it("refresh tokens that expire after one use: three runs in a row with the same environment and --token-cache all succeed", async () => {
    const { c, emulator } = await singleUseEmulator(3);
    const cache = join(await mkdtemp(join(tmpdir(), "lr-e2e-cache-")), "cache", "partner-center.json");
    const env = appUserEnv(emulator); // PARTNER_CENTER_REFRESH_TOKEN seeds the empty cache, once
    const rows = c.users.map((u) => [c.id, u.id, "Power BI Pro", "assign"]);

    const sources: string[] = [];
    for (let night = 1; night <= 3; night += 1) {
      const action = night === 2 ? "remove" : "assign";
      const run = await runRoster(emulator, rows.map((r) => [r[0]!, r[1]!, r[2]!, action]), env, ["--token-cache", cache, "--log-level", "trace"]);
      expect(run.run.code, `night ${night}: ${humanStderr(run.run.stderr)}`).toBe(0);
      expect(run.results.every((r) => r.status === (action === "assign" ? "assigned" : "removed"))).toBe(true);
      expect((await stat(cache)).mode & 0o777).toBe(0o600);
      const signIn = JSON.parse(run.summaryJson).signIn;
      sources.push(signIn.refreshTokenSource);
      expect(signIn.tokenCacheWritable).toBe(true);
      expect(leaks(run, everySecret(emulator))).toEqual([]);
    }
    // The environment's token seeded the first run only; the cache's rotated token won afterwards.
    expect(sources).toEqual(["environment", "token-cache", "token-cache"]);
    const identity = (await control(emulator, "counters")).identity;
    expect(identity.invalidGrant).toBe(0);
    expect(identity.refreshTokensRotated).toBe(3);
  });

  it("without the cache the second run is refused (AADSTS700082), exit 4, with the advice to log in again", async () => {
    const { c, emulator } = await singleUseEmulator(2);
    const env = appUserEnv(emulator);
    const rows = c.users.map((u) => [c.id, u.id, "Power BI Pro", "assign"]);

    const first = await runRoster(emulator, rows, env);
    expect(first.run.code, humanStderr(first.run.stderr)).toBe(0);
    expect(JSON.parse(first.summaryJson).signIn.warnings.join(" ")).toContain("no token cache");
    expect(first.stepSummary).toContain(":warning: no token cache");

    const second = await runRoster(emulator, rows, env, ["--log-level", "trace"]);
    expect(second.run.code).toBe(4);
    expect(second.results.map((r) => r.status)).toEqual(["aborted", "aborted"]);
    const human = humanStderr(second.run.stderr);
    expect(human).toContain("AADSTS700082");
    expect(human).toContain("Sign in again with license-runner login");
    expect(leaks(second, everySecret(emulator))).toEqual([]);
    expect((await control(emulator, "counters")).identity.invalidGrant).toBe(1);
  });

  it("two runs sharing one cache at once (shards on one volume): both renew in turn under its lock, neither is refused", async () => {
    const c1 = customer(1, 6, { powerBiPro: 50 });
    const c2 = customer(2, 6, { powerBiPro: 50 });
    // 2-second access tokens: each run (3 s of answers after signing in) renews while the other
    // one does too; every token answer takes 700 ms, so the two runs' renewals overlap unless the
    // lock orders them.
    const emulator = await startEmulator({
      state: authState([c1, c2], { accessTokenLifetimeSeconds: 2 }),
      refreshTokenUse: { maxUses: 1 },
      latencyMs: 500,
      identityLatencyMs: 700,
    });
    const cache = join(await mkdtemp(join(tmpdir(), "lr-e2e-cache-")), "shared.json");
    const env = appUserEnv(emulator);
    // Seed the cache first (the first night), then the two shards start together.
    const seed = await runRoster(emulator, [[c1.id, c1.users[0]!.id, "Power BI Pro", "assign"]], env, ["--token-cache", cache]);
    expect(seed.run.code, humanStderr(seed.run.stderr)).toBe(0);

    const shard = (c: typeof c1) => runRoster(emulator, c.users.slice(1).map((u) => [c.id, u.id, "Power BI Pro", "assign"]), env, ["--token-cache", cache, "--concurrency", "1"]);
    const [a, b] = await Promise.all([shard(c1), shard(c2)]);
    expect(a.run.code, humanStderr(a.run.stderr)).toBe(0);
    expect(b.run.code, humanStderr(b.run.stderr)).toBe(0);
    const identity = (await control(emulator, "counters")).identity;
    expect(identity.invalidGrant).toBe(0);
    expect(identity.tokensIssued).toBeGreaterThanOrEqual(5); // the seed, and each shard renewed at least once
    expect((await stat(cache)).mode & 0o777).toBe(0o600);
  });
});
