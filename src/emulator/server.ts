// The emulator: composes the state, token store, throttle, fault dice, replay store, counters and
// request log behind one node:http server on loopback, and optionally starts the identity
// (token) server next to it. Requests under /_emulator/ go to the control path, the rest to the API.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { handleApiRequest, type ApiContext } from "./api-handler.js";
import { CONTROL_PREFIX, handleControlRequest, type ControlContext } from "./control.js";
import { Counters } from "./counters.js";
import { checkFaults, type EmulatorFaults } from "./faults.js";
import { sendControlJson } from "./http-io.js";
import type { RunningIdentityServer } from "./identity/server.js";
import { checkRateLimit, parseRateLimit, type RateLimit, type RateLimits, type ThrottleBehaviour } from "./rate-limit.js";
import { ReplayStore } from "./replay.js";
import { RequestLog } from "./request-log.js";
import { DEFAULT_MAX_PAGE_SIZE, EmulatorRuntime, type UsersPaging } from "./runtime.js";
import { EmulatorState, loadStateFile, validateStateFile } from "./state.js";
import type { EmulatorStateFile } from "./state-file.js";
import { TokenStore } from "./token-store.js";

export type { RateLimit, RateLimits, ThrottleBehaviour } from "./rate-limit.js";
export type { EmulatorFaults } from "./faults.js";
export { parseRateLimit, parseRetryAfterMode } from "./rate-limit.js";
export { loadStateFile, validateStateFile } from "./state.js";
export type { RunningIdentityServer } from "./identity/server.js";
export { DEFAULT_MAX_PAGE_SIZE, type UsersPaging } from "./runtime.js";

export interface EmulatorOptions {
  /** The state object, or the path of a JSON state file. */
  state: EmulatorStateFile | string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port chosen by the OS. */
  port?: number;
  /** Added to every API answer (not /_emulator). */
  latencyMs?: number;
  rateLimit?: { perCustomer?: RateLimit; perPartner?: RateLimit };
  /** How refusals count and what their Retry-After says (rate-limit.ts). */
  throttling?: ThrottleBehaviour;
  faults?: EmulatorFaults;
  /** Seed of the fault dice; the same seed and request order give the same faults. */
  seed?: number;
  /** UTF-8 byte-order mark before every API JSON body. */
  bom?: boolean;
  /** Most users on one page of GET .../users; default 100 (a larger `size` is cut to it). */
  maxPageSize?: number;
  /** gzip-compressed answers to requests that accept gzip. */
  gzip?: boolean;
  /** The users paging shape; default "links-next". */
  usersPaging?: UsersPaging;
  /** Also start the HTTPS identity server (needs `identity` in the state). */
  identity?: boolean;
  /** When a used refresh token expires (overrides the state file's identity settings). */
  refreshTokenUse?: { maxUses?: number | undefined; expirySecondsAfterUse?: number | undefined };
  /** Added before every answer of the identity server's token endpoint. */
  identityLatencyMs?: number;
  /** Clock (ms since epoch) for token expiry, buckets and log times; default sub-ms wall clock. */
  now?: () => number;
  /** Request log and replay store capacity; default 200,000 each. */
  logCapacity?: number;
}

export interface RunningEmulator {
  /** e.g. http://127.0.0.1:PORT (the base URL a client uses). */
  url: string;
  port: number;
  identity?: RunningIdentityServer;
  tokens: TokenStore;
  close(): Promise<void>;
}

/** Wall clock with sub-millisecond precision. */
function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Start the emulator. Rejects (with a message naming the problem) on an invalid state or option. */
export async function startEmulator(options: EmulatorOptions): Promise<RunningEmulator> {
  const loaded = typeof options.state === "string" ? await loadStateFile(options.state) : validateStateFile(options.state);
  if (!loaded.ok) throw new Error(loaded.error);
  const problem = checkOptions(options);
  if (problem) throw new Error(`invalid emulator option: ${problem}`);
  const stateFile = loaded.state;
  if (options.identity && !stateFile.identity) throw new Error("identity server asked for, but the state has no identity section");

  const now = options.now ?? preciseNow;
  const tokens = new TokenStore(stateFile.accessTokens, now);
  // The state file's throttling applies unless the options (flags) say otherwise.
  const { rateLimit: stateLimit, ...stateBehaviour } = stateFile.throttling ?? {};
  const parsedStateLimit = typeof stateLimit === "string" ? parseRateLimit(stateLimit) : stateLimit;
  if (parsedStateLimit && "error" in parsedStateLimit) throw new Error(`invalid emulator state: throttling.rateLimit: ${parsedStateLimit.error}`);
  const rateLimit: RateLimits = options.rateLimit ?? parsedStateLimit ?? {};
  const throttling: ThrottleBehaviour = { ...stateBehaviour, ...options.throttling };
  const runtime = new EmulatorRuntime(
    {
      latencyMs: options.latencyMs ?? 0,
      bom: options.bom ?? false,
      maxPageSize: options.maxPageSize ?? DEFAULT_MAX_PAGE_SIZE,
      gzip: options.gzip ?? false,
      usersPaging: options.usersPaging ?? "links-next",
      rateLimit,
      ...(Object.keys(throttling).length > 0 ? { throttling } : {}),
      faults: options.faults ?? {},
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
    },
    now,
  );
  const state = new EmulatorState(stateFile);
  const api: ApiContext = {
    state,
    tokens,
    replay: new ReplayStore(options.logCapacity),
    counters: new Counters(),
    log: new RequestLog(options.logCapacity),
    runtime,
    now,
  };

  let identity: RunningIdentityServer | undefined;
  if (options.identity && stateFile.identity) {
    // Loaded only when asked for, so the API side runs without the identity module's dependencies.
    const { startIdentityServer } = await import("./identity/server.js");
    identity = await startIdentityServer({
      identity: stateFile.identity,
      partnerTenantId: stateFile.partner.tenantId,
      tokens,
      ...(options.host ? { host: options.host } : {}),
      ...(options.refreshTokenUse ? { refreshTokenUse: options.refreshTokenUse } : {}),
      ...(options.identityLatencyMs ? { tokenLatencyMs: options.identityLatencyMs } : {}),
      now,
    });
  }

  const control: ControlContext = {
    state,
    counters: () => api.counters,
    log: api.log,
    replay: api.replay,
    runtime,
    ...(identity ? { identityCounters: () => identity.counters() } : {}),
    reset: () => {
      state.reset();
      api.counters = new Counters();
      api.log.clear();
      api.replay.clear();
      runtime.restart();
    },
  };

  const server = createServer((req, res) => {
    const handled = isControl(req) ? handleControlRequest(req, res, control) : handleApiRequest(req, res, api);
    handled.catch((error: unknown) => answerCrash(res, error));
  });
  const host = options.host ?? "127.0.0.1";
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    await identity?.close();
    throw new Error(`emulator cannot listen on ${host}:${options.port ?? 0}: ${(error as Error).message}`);
  }
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  const running: RunningEmulator = {
    url: `http://${urlHost}:${port}`,
    port,
    tokens,
    close: () => {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await identity?.close();
      })();
      return closing;
    },
  };
  if (identity) running.identity = identity;
  return running;
}

function isControl(req: IncomingMessage): boolean {
  return (req.url ?? "").toLowerCase().startsWith(CONTROL_PREFIX);
}

/** A bug in the emulator must not take the server down: answer 500 and carry on. */
function answerCrash(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendControlJson(res, 500, { error: `emulator failure: ${(error as Error)?.message ?? String(error)}` });
}

function checkOptions(options: EmulatorOptions): string | undefined {
  if (options.latencyMs !== undefined && !(options.latencyMs >= 0)) return "latencyMs must be 0 or more";
  if (options.usersPaging !== undefined && options.usersPaging !== "links-next" && options.usersPaging !== "continuation-token") {
    return 'usersPaging must be "links-next" or "continuation-token"';
  }
  if (options.maxPageSize !== undefined && !(Number.isInteger(options.maxPageSize) && options.maxPageSize > 0)) {
    return "maxPageSize must be a positive integer";
  }
  for (const [scope, limit] of Object.entries(options.rateLimit ?? {})) {
    if (!limit) continue;
    const problem = checkRateLimit(limit);
    if (problem) return `rateLimit.${scope}.${problem}`;
  }
  return options.faults ? checkFaults(options.faults) : undefined;
}
