// Resume admission: whether an existing results file may be continued by this roster. Its sidecar
// must name this roster's fingerprint; a missing or unreadable sidecar, or one written for a
// roster from stdin, cannot prove that, so the run is refused.
import { readRunRecord, sidecarPath } from "./sidecar.js";

export type AdmissionRefusal = { code: "FINGERPRINT_MISMATCH" | "NO_FINGERPRINT"; message: string };

/** undefined when `path` belongs to the roster with this fingerprint. */
export async function refuseForeignResults(path: string, fingerprint: string, rosterName: string | undefined): Promise<AdmissionRefusal | undefined> {
  const sidecar = await readRunRecord(path);
  const startOver = `Drop --resume to start over (that replaces "${path}"), or choose another --output.`;
  if (!sidecar.ok) {
    return {
      code: "NO_FINGERPRINT",
      message:
        `Cannot resume "${path}": its roster fingerprint ${sidecarPath(path)} is ` +
        `${sidecar.missing ? "missing" : `unreadable (${sidecar.reason})`}, so it cannot be matched to this roster. ${startOver}`,
    };
  }
  const { record } = sidecar;
  if (record.fingerprint === null) {
    return {
      code: "NO_FINGERPRINT",
      message: `Cannot resume "${path}": it was written for a roster read from stdin, which has no fingerprint. ${startOver}`,
    };
  }
  if (record.fingerprint !== fingerprint) {
    const owner = record.roster ? `the roster "${record.roster}"` : "another roster";
    const started = record.startedAt ? ` (run started ${record.startedAt})` : "";
    const current = rosterName ? `"${rosterName}"` : "this roster";
    return {
      code: "FINGERPRINT_MISMATCH",
      message:
        `Cannot resume "${path}": it holds the results of ${owner}${started}, and ${current} differs from it ` +
        `(a changed or different file). Resume with that exact roster, or ${startOver.charAt(0).toLowerCase()}${startOver.slice(1)}`,
    };
  }
  return undefined;
}
