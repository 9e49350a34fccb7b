// The end of a run, for people and pipelines: the console summary (and the seat check of a plan)
// on stderr, `--summary-json`, and a Markdown summary appended to $GITHUB_STEP_SUMMARY when set.
import { appendFile, writeFile } from "node:fs/promises";
import type { RunConfig } from "../config.js";
import { renderSignInLines, renderSignInMarkdown, type SignInReport } from "../partner-center/auth/sign-in-report.js";
import { renderConsoleSummary, renderMarkdownSummary, renderSeatCheckTable } from "../results/renderer.js";
import type { JobResult } from "./run-job.js";

export async function publishSummary(
  result: JobResult,
  config: RunConfig,
  env: NodeJS.ProcessEnv,
  stderr: NodeJS.WritableStream,
  /** How the run signed in (App+User runs): its own `signIn` field and console lines. */
  signIn?: SignInReport,
): Promise<void> {
  if (!result.summary) return;
  const document = { ...result.summary.toJSON(), ...(signIn ? { signIn } : {}) };
  if (config.dryRun || document.shortfall > 0) stderr.write(renderSeatCheckTable(result.seatCheck));
  stderr.write(renderConsoleSummary(document, { resultsPath: config.output, summaryJsonPath: config.summaryJson }));
  if (signIn) stderr.write(renderSignInLines(signIn));
  if (config.summaryJson) await writeFile(config.summaryJson, `${JSON.stringify(document, null, 2)}\n`);
  if (env.GITHUB_STEP_SUMMARY) {
    const signInMarkdown = signIn ? renderSignInMarkdown(signIn) : "";
    await appendFile(env.GITHUB_STEP_SUMMARY, renderMarkdownSummary(document, { resultsPath: config.output }) + signInMarkdown);
  }
}
