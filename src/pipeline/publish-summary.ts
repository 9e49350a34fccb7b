// The end of a run, for people and pipelines: the console summary (and the seat check of a plan)
// on stderr, `--summary-json`, and a Markdown summary appended to $GITHUB_STEP_SUMMARY when set.
import { appendFile, writeFile } from "node:fs/promises";
import type { Logger } from "pino";
import type { RunConfig } from "../config.js";
import { renderSignInLines, renderSignInMarkdown, type SignInReport } from "../partner-center/auth/sign-in-report.js";
import { renderConsoleSummary, renderMarkdownSummary, renderSeatCheckTable, renderUnwritableSummary } from "../results/renderer.js";
import type { JobResult } from "./run-job.js";

/** Resolves to why a summary file could not be written, or undefined when all went out. */
export async function publishSummary(
  result: JobResult,
  config: RunConfig,
  env: NodeJS.ProcessEnv,
  stderr: NodeJS.WritableStream,
  logger?: Logger,
  /** How the run signed in (App+User runs): its own `signIn` field and console lines. */
  signIn?: SignInReport,
): Promise<string | undefined> {
  if (!result.summary) return undefined;
  const document = { ...result.summary.toJSON(), ...(signIn ? { signIn } : {}) };
  const showSeatCheck = config.dryRun || document.shortfall > 0;
  if (config.logFormat === "json" && logger) {
    // JSON logs: every stderr line is a JSON record, so the summary (seat check and sign-in included) is one too.
    logger.info({ summary: document, resultsPath: config.output, summaryJsonPath: config.summaryJson }, "run summary");
  } else {
    if (showSeatCheck) stderr.write(renderSeatCheckTable(result.seatCheck));
    stderr.write(renderConsoleSummary(document, { resultsPath: config.output, summaryJsonPath: config.summaryJson }));
    if (signIn) stderr.write(renderSignInLines(signIn));
  }
  const problems: string[] = [];
  const attempt = async (what: string, path: string, write: () => Promise<void>): Promise<void> => {
    try {
      await write();
    } catch (error) {
      problems.push(renderUnwritableSummary(what, path, (error as NodeJS.ErrnoException).code ?? (error as Error).message));
    }
  };
  const { summaryJson } = config;
  if (summaryJson) await attempt("--summary-json", summaryJson, () => writeFile(summaryJson, `${JSON.stringify(document, null, 2)}\n`));
  const stepSummary = env.GITHUB_STEP_SUMMARY;
  const markdown = (): string => renderMarkdownSummary(document, { resultsPath: config.output }) + (signIn ? renderSignInMarkdown(signIn) : "");
  if (stepSummary) await attempt("GITHUB_STEP_SUMMARY", stepSummary, () => appendFile(stepSummary, markdown()));
  return problems.length > 0 ? problems.join("; ") : undefined;
}
