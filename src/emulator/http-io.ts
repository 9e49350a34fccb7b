// The emulator's HTTP plumbing: reading a request body, and writing a JSON answer with the headers
// Partner Center sends (MS-RequestId/MS-CorrelationId echoed, MS-CV and MS-ServerId added) and the
// optional UTF-8 byte-order mark.
import type { IncomingMessage, ServerResponse } from "node:http";
import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";

const MAX_BODY_BYTES = 1024 * 1024;
const BOM = "\uFEFF";
export const SERVER_ID = "emulator01";

export type BodyResult = { ok: true; text: string } | { ok: false; reason: "too-large" | "aborted" };

export function readBody(req: IncomingMessage): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: BodyResult): void => {
      if (!settled) {
        settled = true;
        resolve(result);
      }
    };
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) settle({ ok: false, reason: "too-large" });
      else chunks.push(chunk);
    });
    req.on("end", () => settle({ ok: true, text: Buffer.concat(chunks).toString("utf8") }));
    req.on("error", () => settle({ ok: false, reason: "aborted" }));
    req.on("aborted", () => settle({ ok: false, reason: "aborted" }));
  });
}

/** A correlation vector in the service's style ("5AnzcZQrvUqCq3kd.0"). */
export function newCorrelationVector(): string {
  return `${randomBytes(12).toString("base64url")}.0`;
}

export interface AnswerHeaders {
  requestId: string;
  correlationId: string;
  bom: boolean;
  /** Send the body gzip-compressed (Content-Encoding: gzip). */
  gzip?: boolean;
  extra?: Record<string, string>;
  /** The body is text of this type (a gateway's HTML page), sent as it is: no JSON, no BOM. */
  contentType?: string;
}

/** Whether a request's Accept-Encoding allows gzip (RFC 9110: a q of 0 refuses it). */
export function acceptsGzip(req: IncomingMessage): boolean {
  const value = req.headers["accept-encoding"];
  const text = (Array.isArray(value) ? value.join(",") : (value ?? "")).toLowerCase();
  return text.split(",").some((part) => {
    const [coding, ...params] = part.split(";").map((p) => p.trim());
    if (coding !== "gzip" && coding !== "*") return false;
    const q = params.find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: AnswerHeaders): void {
  const text = headers.contentType !== undefined ? String(body) : (headers.bom ? BOM : "") + JSON.stringify(body);
  const payload = headers.gzip ? gzipSync(text) : text;
  res.writeHead(status, {
    ...headers.extra,
    "Content-Type": headers.contentType ?? "application/json; charset=utf-8",
    ...(headers.gzip ? { "Content-Encoding": "gzip" } : {}),
    "Content-Length": Buffer.byteLength(payload),
    "MS-RequestId": headers.requestId,
    "MS-CorrelationId": headers.correlationId,
    "MS-CV": newCorrelationVector(),
    "MS-ServerId": SERVER_ID,
  });
  res.end(payload);
}

/** A control-path answer: plain JSON, never a BOM. */
export function sendControlJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

/** A single request header value (the first, when repeated). */
export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
