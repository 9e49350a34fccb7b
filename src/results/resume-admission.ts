// Resume admission: whether an existing results file may be continued by this roster. Its sidecar
// must name this roster's fingerprint; a missing or unreadable sidecar, or one written for a
// roster from stdin, cannot prove that, so the run is refused.
import { renderForeignResults, renderSidecarMissing, renderStdinResults } from "./messages.js";
import { readRunRecord, sidecarPath } from "./sidecar.js";

export type AdmissionRefusal = { code: "FINGERPRINT_MISMATCH" | "NO_FINGERPRINT"; message: string };

/** undefined when `path` belongs to the roster with this fingerprint. */
export async function refuseForeignResults(path: string, fingerprint: string, rosterName: string | undefined): Promise<AdmissionRefusal | undefined> {
  const sidecar = await readRunRecord(path);
  if (!sidecar.ok) {
    return { code: "NO_FINGERPRINT", message: renderSidecarMissing(path, sidecarPath(path), sidecar.missing ? "missing" : `unreadable (${sidecar.reason})`) };
  }
  const { record } = sidecar;
  if (record.fingerprint === null) return { code: "NO_FINGERPRINT", message: renderStdinResults(path) };
  if (record.fingerprint !== fingerprint) return { code: "FINGERPRINT_MISMATCH", message: renderForeignResults(path, record, rosterName) };
  return undefined;
}
