// Response bodies as Content-Encoding says they were sent: gzip, deflate (zlib-wrapped, or raw as
// some servers send it), br, or a list of them applied in order. Nothing promises an uncompressed
// body ("Partner Center REST request/response headers" documents no Accept-Encoding rule), so the
// client asks for these and decodes whatever arrives. An encoding it does not know, or bytes that
// do not decode (a body cut short), make the body unreadable: never guessed at.
import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from "node:zlib";

/** What the client asks for (Accept-Encoding). */
export const ACCEPTED_ENCODINGS = "gzip, deflate, br";

export type DecodedBody = { ok: true; body: Buffer } | { ok: false; error: Error };

function decodeOne(body: Buffer, encoding: string): Buffer {
  switch (encoding) {
    case "gzip":
    case "x-gzip":
      return gunzipSync(body);
    case "deflate":
      // RFC 9110 says zlib-wrapped; some servers send raw deflate. A zlib stream starts 0x78.
      return body[0] === 0x78 ? inflateSync(body) : inflateRawSync(body);
    case "br":
      return brotliDecompressSync(body);
    case "identity":
      return body;
    default:
      throw Object.assign(new Error(`unsupported Content-Encoding "${encoding}"`), { code: "UNSUPPORTED_CONTENT_ENCODING" });
  }
}

export function decodeContent(body: Buffer, contentEncoding: string | null): DecodedBody {
  if (contentEncoding === null || contentEncoding.trim() === "" || body.length === 0) return { ok: true, body };
  // Listed in the order applied: undo the last first.
  const encodings = contentEncoding.split(",").map((e) => e.trim().toLowerCase()).filter(Boolean).reverse();
  try {
    let decoded = body;
    for (const encoding of encodings) decoded = decodeOne(decoded, encoding);
    return { ok: true, body: decoded };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, error: Object.assign(new Error(`the ${contentEncoding} body does not decode (${reason})`), { code: (error as { code?: string }).code ?? "BAD_CONTENT_ENCODING" }) };
  }
}
