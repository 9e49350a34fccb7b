// Turning a Partner Center response body into data: strip the UTF-8 byte-order mark the service
// may send, parse JSON (an empty body is fine), normalise keys to camelCase (the service binds and
// may answer PascalCase), and read the error shapes of "Partner Center error codes" (documented error body, 429 body, other).
import type { ApiError } from "./api.js";
import { decodeHtmlEntities } from "./html-entities.js";

export type ParsedBody = { ok: true; value: unknown } | { ok: false };

export function stripByteOrderMark(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** JSON of a body read as text; an empty (or whitespace) body is `{}`. */
export function parseJsonBody(text: string): ParsedBody {
  const clean = stripByteOrderMark(text).trim();
  if (clean === "") return { ok: true, value: {} };
  try {
    return { ok: true, value: normalizeKeys(JSON.parse(clean)) };
  } catch {
    return { ok: false };
  }
}

/** Object keys with a lower-case first letter, recursively ("LicensesToAssign" -> "licensesToAssign"). Values untouched. */
export function normalizeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalizeKeys);
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  // The service answers camelCase as documented: an object whose keys are all camelCase already is
  // kept (its values normalised in place; a parsed body is nobody else's), not copied.
  let camelAlready = true;
  for (const key in record) {
    if (needsLowerFirst(key)) {
      camelAlready = false;
      break;
    }
  }
  if (camelAlready) {
    for (const key in record) {
      const inner = record[key];
      if (inner !== null && typeof inner === "object") record[key] = normalizeKeys(inner);
    }
    return record;
  }
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(record)) {
    const camel = key.length > 0 ? key[0]!.toLowerCase() + key.slice(1) : key;
    // When both spellings are present the camelCase one (the documented response form) wins.
    if (camel in out && camel !== key) continue;
    out[camel] = normalizeKeys(inner);
  }
  return out;
}

function needsLowerFirst(key: string): boolean {
  const first = key.charCodeAt(0);
  if (first < 0x80) return first >= 0x41 && first <= 0x5a;
  return key[0]!.toLowerCase() !== key[0];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function codeText(code: unknown): string | undefined {
  if (typeof code === "number" && Number.isFinite(code)) return String(code);
  if (typeof code === "string" && code.trim() !== "") return code.trim();
  return undefined;
}

/** The ApiError of a failed response: the documented shape, the 429 shape, or the status text. */
export function readApiError(parsed: ParsedBody, status: number, statusText: string): ApiError {
  const fallback = `HTTP ${status}${statusText ? ` ${statusText}` : ""}`;
  if (!parsed.ok || !isRecord(parsed.value)) return { description: fallback, data: [] };
  const body = parsed.value;
  const data = Array.isArray(body.data) ? body.data.filter((d): d is string => typeof d === "string").map(decodeHtmlEntities) : [];
  const code = codeText(body.code);
  const texts = [body.description, body.message, isRecord(body.error) ? body.error.message : undefined];
  const text = texts.find((t): t is string => typeof t === "string" && t.trim() !== "");
  const error: ApiError = { description: text === undefined ? fallback : decodeHtmlEntities(text), data };
  // The 429 body carries `statusCode`, which is the HTTP status and not a Partner Center code.
  if (code !== undefined) error.code = code;
  else if (isRecord(body.error)) {
    const inner = codeText(body.error.code);
    if (inner !== undefined) error.code = inner;
  }
  return error;
}
