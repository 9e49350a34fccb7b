// What a Partner Center response says about itself in its headers ("Partner Center REST request and response headers"): status, the echoed ids,
// MS-CV / MS-ServerId for support, and Retry-After (seconds or an HTTP date).
import type { ResponseMeta } from "./api.js";
import { HEADER } from "./types.js";

/**
 * Retry-After as seconds from `nowMs`: delta-seconds or an HTTP date; undefined only when absent.
 * What the service sent is kept as said (0, negative, a past date as 0 or less); an unreadable
 * value is 0. The wait itself (a floor, a cap) is decided in one place: execute/retry-after.ts.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^[+-]?\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const at = trimmed === "" || /^[+-]?\d/.test(trimmed) ? Number.NaN : Date.parse(trimmed);
  if (Number.isNaN(at)) return 0;
  return Math.ceil((at - nowMs) / 1000);
}

export function readResponseMeta(response: { status: number; headers: { get(name: string): string | null } }, nowMs: number = Date.now()): ResponseMeta {
  const header = (name: string): string | undefined => response.headers.get(name) ?? undefined;
  const meta: ResponseMeta = { status: response.status };
  const requestId = header(HEADER.requestId);
  const correlationId = header(HEADER.correlationId);
  const cv = header(HEADER.cv);
  const serverId = header(HEADER.serverId);
  const retryAfterSeconds = parseRetryAfter(header(HEADER.retryAfter), nowMs);
  if (requestId !== undefined) meta.requestId = requestId;
  if (correlationId !== undefined) meta.correlationId = correlationId;
  if (cv !== undefined) meta.cv = cv;
  if (serverId !== undefined) meta.serverId = serverId;
  if (retryAfterSeconds !== undefined) meta.retryAfterSeconds = retryAfterSeconds;
  return meta;
}
