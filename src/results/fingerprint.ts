// The roster's fingerprint: what ties a results file to the roster it was written for, so that
// --resume never mixes the outcomes of one roster into another. It is fed with the very bytes the
// roster reader parses, never a second read of the path (a roster renamed in while the first
// read was under way would otherwise lend its fingerprint to the other file's outcomes).
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

export interface RosterFingerprint {
  update(chunk: Buffer): void;
  /** `sha256:<hex>` of every byte given to update(). */
  digest(): string;
}

export function createRosterFingerprint(): RosterFingerprint {
  const hash = createHash("sha256");
  return {
    update: (chunk) => void hash.update(chunk),
    digest: () => `sha256:${hash.digest("hex")}`,
  };
}

/** `sha256:<hex>` of the file's bytes, streamed (a roster may be far larger than memory). */
export async function fingerprintRoster(path: string): Promise<string> {
  const fingerprint = createRosterFingerprint();
  for await (const chunk of createReadStream(path)) fingerprint.update(chunk as Buffer);
  return fingerprint.digest();
}
