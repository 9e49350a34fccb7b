// Claims the files of one run before anything is sent: no output is the roster, every output the
// user named is writable, and the results file's lock is ours. Any refusal is a usage error
// (exit 2, nothing sent).
import { realpath } from "node:fs/promises";
import { renderLockTakenOver, renderLockUnwritable } from "./messages.js";
import { checkOutputsWritable, refuseRosterAsOutput, type RunOutputs } from "./output-paths.js";
import { acquireResultsLock, type ResultsLock } from "./results-lock.js";

export type ClaimedOutputs = { ok: true; lock: ResultsLock; warning?: string } | { ok: false; message: string };

export async function claimRunOutputs(outputs: RunOutputs & { breakLock: boolean; command: string }): Promise<ClaimedOutputs> {
  const roster = await refuseRosterAsOutput(outputs);
  if (!roster.ok) return roster;
  const writable = await checkOutputsWritable(outputs);
  if (!writable.ok) return writable;
  // One lock per file, however it is named: a symlinked --output locks its target.
  const resultsFile = await realpath(outputs.results).catch(() => outputs.results);
  try {
    const claimed = acquireResultsLock({ resultsPath: resultsFile, command: outputs.command, breakLock: outputs.breakLock });
    if (!claimed.ok) return { ok: false, message: claimed.message };
    const warning = claimed.tookOver ? renderLockTakenOver(outputs.results, claimed.tookOver.why) : undefined;
    return { ok: true, lock: claimed.lock, ...(warning ? { warning } : {}) };
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return { ok: false, message: renderLockUnwritable(outputs.results, errno) };
  }
}
