// The roster's fingerprint: what ties a results file to the roster it was written for, so that
// --resume never mixes the outcomes of one roster into another.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

/** `sha256:<hex>` of the file's bytes, streamed (a roster may be far larger than memory). */
export async function fingerprintRoster(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest("hex")}`;
}
