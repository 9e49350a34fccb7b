// The end of a run, for people and pipelines: the console summary (and the seat check of a plan)
// on stderr, `--summary-json`, and a Markdown summary appended to $GITHUB_STEP_SUMMARY when set.
import { appendFile, writeFile } from "node:fs/promises";
import type { Logger } from "pino";
import type { RunConfig } from "../config.js";
import { renderConsoleSummary, renderMarkdownSummary, renderSeatCheckTable } from "../results/renderer.js";
import type { JobResult } from "./run-job.js";

export async function publishSummary(result: JobResult, config: RunConfig, env: NodeJS.ProcessEnv, stderr: NodeJS.WritableStream, logger?: Logger): Promise<void> {
  if (!result.summary) return;
  const document = result.summary.toJSON();
  const showSeatCheck = config.dryRun || document.shortfall > 0;
  if (config.logFormat === "json" && logger) {
    // JSON logs: every stderr line is a JSON record, so the summary (seat check included) is one too.
    logger.info({ summary: document, resultsPath: config.output, summaryJsonPath: config.summaryJson }, "run summary");
  } else {
    if (showSeatCheck) stderr.write(renderSeatCheckTable(result.seatCheck));
    stderr.write(renderConsoleSummary(document, { resultsPath: config.output, summaryJsonPath: config.summaryJson }));
  }
  if (config.summaryJson) await writeFile(config.summaryJson, `${JSON.stringify(document, null, 2)}\n`);
  if (env.GITHUB_STEP_SUMMARY) await appendFile(env.GITHUB_STEP_SUMMARY, renderMarkdownSummary(document, { resultsPath: config.output }));
}
