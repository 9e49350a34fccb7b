// Every user-facing string of opening, claiming and resuming a results file, as pure functions
// over data (the end-of-run summaries are in renderer.ts). Each message is whole: callers print
// it as it is and never prefix it with another layer's words.
import type { LockHolder } from "./lock-holder.js";

const startOver = (path: string): string => `drop --resume to start over (that replaces "${path}"), or choose another --output`;

export function renderResumeNeedsFile(): string {
  return "--resume needs the roster as a file (--input FILE): a roster read from stdin cannot be matched to its results.";
}

export function renderUnreadableResults(path: string, reason: string): string {
  return `Cannot resume "${path}": ${reason}. Drop --resume to start over (that replaces it), or choose another --output.`;
}

export function renderUnopenableResults(path: string, errno: string): string {
  return `Cannot write the results file "${path}" (${errno}).`;
}

export function renderUnsavedNotTakenBack(path: string, fallback: string, errno: string): string {
  return `Cannot resume "${path}": the outcomes in "${fallback}" cannot be taken back into it (${errno}). Free space or fix the file, then run --resume again; "${fallback}" is kept.`;
}

export function renderSidecarMissing(path: string, sidecar: string, why: string): string {
  return `Cannot resume "${path}": its roster fingerprint ${sidecar} is ${why}, so it cannot be matched to this roster. ${capitalise(startOver(path))}.`;
}

export function renderStdinResults(path: string): string {
  return `Cannot resume "${path}": it was written for a roster read from stdin, which has no fingerprint. ${capitalise(startOver(path))}.`;
}

export function renderForeignResults(path: string, owner: { roster: string | null; startedAt: string }, current: string | undefined): string {
  const whose = owner.roster ? `the roster "${owner.roster}"` : "another roster";
  const started = owner.startedAt ? ` (run started ${owner.startedAt})` : "";
  const mine = current ? `"${current}"` : "this roster";
  return `Cannot resume "${path}": it holds the results of ${whose}${started}, and ${mine} differs from it (a changed or different file). Resume with that exact roster, or ${startOver(path)}.`;
}

export function renderLockHeld(resultsPath: string, lockFile: string, holder: LockHolder | undefined, why: string, holderRunning: boolean): string {
  const who = holder ? `pid ${holder.pid} on ${holder.host}, started ${holder.startedAt}: ${holder.command}` : "an unknown holder";
  const hint = holderRunning ? "Wait for it to finish, or write to another --output." : `If no run uses it any more, run again with --break-lock (or delete ${lockFile}).`;
  return `another run holds the results file "${resultsPath}" (${who}); ${why}. Nothing was sent. ${hint}`;
}

export function renderLockTakenOver(resultsPath: string, why: string): string {
  return `took over the lock of "${resultsPath}": ${why}`;
}

export function renderLockUnwritable(resultsPath: string, errno: string): string {
  return `the lock of the results file "${resultsPath}" cannot be written (${errno}): nothing was sent`;
}

export function renderRosterAsOutput(what: string, path: string, roster: string): string {
  return `${what} "${path}" is the roster "${roster}" itself: the roster is never written; choose another path`;
}

export function renderUnwritableOutput(what: string, path: string, errno: string): string {
  return `${what} "${path}" cannot be written (${errno}): nothing was sent; fix it or choose another path`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
