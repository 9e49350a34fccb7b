// The tool's version as package.json states it, read once: the sidecar records which version
// wrote a results file.
import { readFileSync } from "node:fs";

let cachedVersion: string | undefined;

export function packageVersion(): string {
  if (cachedVersion === undefined) {
    try {
      const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
      cachedVersion = String((JSON.parse(text) as { version?: unknown }).version ?? "unknown");
    } catch {
      cachedVersion = "unknown";
    }
  }
  return cachedVersion;
}
