// The files a run writes, checked before anything is sent: none of them may be the roster (in any
// spelling: another relative path, `..`, a symlink, a hard link: the same device and inode), and
// each must be writable now, so an unusable output is found before the first call, not after the
// last one.
import { constants } from "node:fs";
import { access, open, realpath, stat, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { renderRosterAsOutput, renderUnwritableOutput } from "./messages.js";
import { fallbackPath } from "./results-sink.js";
import { lockPath } from "./results-lock.js";
import { sidecarPath } from "./sidecar.js";

export interface RunOutputs {
  /** The roster's path; "-" for stdin (no file to protect). */
  input: string;
  results: string;
  summaryJson?: string;
  /** $GITHUB_STEP_SUMMARY, appended to. */
  stepSummary?: string;
}

export type OutputCheck = { ok: true } | { ok: false; message: string };

/** Every file the run may write, with what it is, for the messages. */
export function outputFiles(outputs: RunOutputs, pid = process.pid): { path: string; what: string }[] {
  const results = outputs.results;
  const files = [
    { path: results, what: "--output" },
    { path: sidecarPath(results), what: "the results sidecar" },
    { path: `${sidecarPath(results)}.${pid}.tmp`, what: "the sidecar's temporary file" },
    { path: lockPath(results), what: "the results lock" },
    { path: `${lockPath(results)}.${pid}.tmp`, what: "the lock's temporary file" },
    { path: `${lockPath(results)}.${pid}.stale`, what: "the lock's temporary file" },
    { path: `${results}.${pid}.compact.tmp`, what: "the results' temporary file" },
    { path: fallbackPath(results), what: "the results fallback file" },
  ];
  if (outputs.summaryJson) files.push({ path: outputs.summaryJson, what: "--summary-json" });
  if (outputs.stepSummary) files.push({ path: outputs.stepSummary, what: "GITHUB_STEP_SUMMARY" });
  return files;
}

/** Refuses any output that is the roster's file. */
export async function refuseRosterAsOutput(outputs: RunOutputs): Promise<OutputCheck> {
  if (outputs.input === "-") return { ok: true };
  let roster;
  try {
    roster = await stat(outputs.input);
  } catch {
    return { ok: true }; // no roster file to protect: reading it reports why
  }
  for (const { path, what } of outputFiles(outputs)) {
    let target;
    try {
      target = await stat(path); // follows symlinks: a link to the roster is the roster
    } catch {
      continue; // does not exist (or cannot be seen): it is not the roster
    }
    if (target.dev === roster.dev && target.ino === roster.ino) {
      return { ok: false, message: renderRosterAsOutput(what, path, outputs.input) };
    }
  }
  return { ok: true };
}

/**
 * Whether each file the user named can be written now: opened for appending (which never
 * truncates), and removed again if that created it. The results file's folder must let us create
 * the sidecar, lock and temporary files beside it.
 */
export async function checkOutputsWritable(outputs: RunOutputs): Promise<OutputCheck> {
  const named: { path: string; what: string }[] = [{ path: outputs.results, what: "--output" }];
  if (outputs.summaryJson) named.push({ path: outputs.summaryJson, what: "--summary-json" });
  if (outputs.stepSummary) named.push({ path: outputs.stepSummary, what: "GITHUB_STEP_SUMMARY" });
  for (const { path, what } of named) {
    const problem = await appendProbe(path);
    if (problem) return { ok: false, message: renderUnwritableOutput(what, path, problem) };
  }
  const folder = dirname(outputs.results);
  try {
    await access(folder, constants.W_OK | constants.X_OK);
  } catch (error) {
    return { ok: false, message: renderUnwritableOutput("the folder of --output", folder, errnoOf(error)) };
  }
  return { ok: true };
}

async function appendProbe(path: string): Promise<string | undefined> {
  let existed = true;
  try {
    await stat(path);
  } catch {
    existed = false;
  }
  try {
    const handle = await open(path, "a");
    await handle.close();
    // Through a dangling symlink the probe created the link's target: remove that, not the link.
    if (!existed) await unlink(await realpath(path));
    return undefined;
  } catch (error) {
    return errnoOf(error);
  }
}

function errnoOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}
