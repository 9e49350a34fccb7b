// The journal's sidecar `<results>.run.json`: which roster a results file belongs to (its
// fingerprint), so that --resume can refuse a results file written for another roster.
import { open, readFile, rename } from "node:fs/promises";

export interface RunRecord {
  /** `sha256:<hex>` of the roster's bytes; null when the roster came from stdin (not resumable). */
  fingerprint: string | null;
  /** The roster as the user named it (a path, or `-`). */
  roster: string | null;
  /** When the first run of this results file started (ISO 8601). */
  startedAt: string;
  /** When the latest --resume started, if any. */
  resumedAt?: string;
  toolVersion: string;
}

export function sidecarPath(resultsPath: string): string {
  return `${resultsPath}.run.json`;
}

export type ReadRunRecord = { ok: true; record: RunRecord } | { ok: false; missing: boolean; reason: string };

export async function readRunRecord(resultsPath: string): Promise<ReadRunRecord> {
  let text: string;
  try {
    text = await readFile(sidecarPath(resultsPath), "utf8");
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    return { ok: false, missing, reason: missing ? "no sidecar" : (error as Error).message };
  }
  try {
    const value = JSON.parse(text) as Partial<RunRecord>;
    if (typeof value !== "object" || value === null) return { ok: false, missing: false, reason: "not a JSON object" };
    return {
      ok: true,
      record: {
        fingerprint: typeof value.fingerprint === "string" ? value.fingerprint : null,
        roster: typeof value.roster === "string" ? value.roster : null,
        startedAt: typeof value.startedAt === "string" ? value.startedAt : "",
        ...(typeof value.resumedAt === "string" ? { resumedAt: value.resumedAt } : {}),
        toolVersion: typeof value.toolVersion === "string" ? value.toolVersion : "",
      },
    };
  } catch (error) {
    return { ok: false, missing: false, reason: `not JSON: ${(error as Error).message}` };
  }
}

/** Written to a temporary file, synced and renamed, so a crash never leaves half a sidecar. */
export async function writeRunRecord(resultsPath: string, record: RunRecord): Promise<void> {
  const target = sidecarPath(resultsPath);
  const temporary = `${target}.${process.pid}.tmp`;
  const handle = await open(temporary, "w");
  try {
    await handle.writeFile(`${JSON.stringify(record, null, 2)}\n`, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, target);
}
