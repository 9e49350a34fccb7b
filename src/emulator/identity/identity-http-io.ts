// How the emulator's identity endpoint reads requests and writes answers: JSON token answers that
// nothing in between may cache, the consent page under a strict content security policy, and
// request bodies read with a size bound.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AuthorizeAnswer } from "./authorization.js";

const MAX_BODY_BYTES = 64 * 1024;

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(payload),
    // Token responses must never be cached by anything in between (RFC 6749 5.1).
    "cache-control": "no-store, no-cache",
    pragma: "no-cache",
    "x-ms-request-id": randomUUID(),
  });
  res.end(payload);
}

/** The consent page, or the browser's redirect back to the client's loopback listener. */
export function sendAuthorize(res: ServerResponse, answer: AuthorizeAnswer): void {
  if (answer.kind === "redirect") {
    res.writeHead(302, { location: answer.location, "cache-control": "no-store", "content-length": 0 });
    res.end();
    return;
  }
  res.writeHead(answer.status, {
    "content-type": "text/html; charset=utf-8",
    "content-length": Buffer.byteLength(answer.html),
    "cache-control": "no-store",
    // No scripts, styles or frames: the page is one plain form (no form-action: the browser must
    // follow the redirect to the client's loopback listener).
    "content-security-policy": "default-src 'none'",
    "x-frame-options": "DENY",
  });
  res.end(answer.html);
}

/** The request body as text; rejects past 64 KiB (and drains the rest). */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error("body too large"));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
