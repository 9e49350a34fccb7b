// Every user-facing string of the end of a run, as pure functions over data: the console summary,
// the seat check table, the Markdown for $GITHUB_STEP_SUMMARY, and the progress line (the advice
// per error code is data, in advice.ts). No I/O here; callers decide where the strings go.
import { adviceFor } from "./advice.js";
import { ROW_STATUS_ORDER as STATUS_ORDER, type RunSummaryDocument, type SeatCheckEntry, type StatusCounts } from "./summary.js";

export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, "0")}m`;
}

function statusList(counts: StatusCounts): string {
  const parts = STATUS_ORDER.filter((status) => counts[status] > 0).map((status) => `${counts[status]} ${status}`);
  return parts.length > 0 ? parts.join(", ") : "no rows";
}

function stopLine(document: RunSummaryDocument): string | undefined {
  const { stop } = document;
  if (stop.reason === "completed") return undefined;
  if (stop.reason === "interrupted") return "Interrupted: rows in flight were recorded, the rest are aborted; run again with --resume to finish.";
  const code = stop.errorCode ? ` ${stop.errorCode}` : "";
  // The emulator's and the service's codes for a refused bearer token differ: fall back on the status.
  const advice = (stop.errorCode ? adviceFor(stop.errorCode) : undefined) ?? (stop.httpStatus ? adviceFor(String(stop.httpStatus)) : undefined);
  return `Stopped on a run-fatal error${code}: ${stop.message ?? "see the log"}${advice ? `\n  -> ${advice}` : ""}`;
}

export interface ConsoleSummaryOptions {
  resultsPath?: string;
  summaryJsonPath?: string;
  /** How many error codes to list; default 5. */
  maxErrors?: number;
}

const BOUND_TEXT: Record<NonNullable<RunSummaryDocument["pacing"]>["boundBy"], string> = {
  allowance: "the API's allowance (paced)",
  concurrency: "--concurrency",
  latency: "the API's answer time",
};

function pacingLine(pacing: NonNullable<RunSummaryDocument["pacing"]>): string {
  const latency = pacing.latencyMs === null ? "" : `, ${pacing.latencyMs} ms a call`;
  return `Bound by ${BOUND_TEXT[pacing.boundBy]}: at most ${pacing.mostInFlight} of ${pacing.concurrency} requests in flight${latency}.`;
}

/** A few lines for stderr at the end of a run. */
export function renderConsoleSummary(document: RunSummaryDocument, options: ConsoleSummaryOptions = {}): string {
  const lines: string[] = [];
  const took = document.durationMs === null ? "" : ` in ${formatDuration(document.durationMs)}`;
  lines.push(`${document.mode}: ${document.rows.total} rows${took}: ${statusList(document.rows.byStatus)}.`);
  if (document.mode === "run") {
    lines.push(`  ${document.requests.sent} requests sent, ${document.requests.throttled} throttled.${readsText(document)}`);
    if (document.pacing && document.pacing.mostInFlight > 0) lines.push(`  ${pacingLine(document.pacing)}`);
  } else if (document.requests.reads > 0) {
    lines.push(` ${readsText(document)}`);
  }
  const stop = stopLine(document);
  if (stop) lines.push(`  ${stop}`);
  const maxErrors = options.maxErrors ?? 5;
  for (const error of document.errors.slice(0, maxErrors)) {
    lines.push(`  ${error.errorCode}: ${error.count} row${error.count === 1 ? "" : "s"}${error.example ? ` (${oneLine(error.example, 120)})` : ""}`);
    if (error.advice) lines.push(`    -> ${error.advice}`);
  }
  if (document.errors.length > maxErrors) lines.push(`  ... and ${document.errors.length - maxErrors} more error codes.`);
  if (document.shortfall > 0) lines.push(`  Seat shortfall: ${document.shortfall} seat${document.shortfall === 1 ? "" : "s"} missing (see the seat check).`);
  if (options.resultsPath) lines.push(`  Results: ${options.resultsPath}`);
  if (options.summaryJsonPath) lines.push(`  Summary: ${options.summaryJsonPath}`);
  return `${lines.join("\n")}\n`;
}

function readsText(document: RunSummaryDocument): string {
  const reads = document.requests.reads ?? 0;
  return reads > 0 ? ` ${reads} read${reads === 1 ? "" : "s"}.` : "";
}

/** What the assign counts mean: exact with --diff, else an upper bound; removals never offset them. */
function seatCheckBasis(rows: readonly SeatCheckEntry[]): string {
  const basis = rows.every((row) => row.exact)
    ? "Seat counts are exact: the users' current licenses were read (--diff); licenses already held need no seat."
    : "Seat counts are upper bounds: every assignment is counted, held licenses included (--diff counts only new seats).";
  return `${basis} Removals are not counted as freeing seats: requests run concurrently.`;
}

/** The seat check as an aligned plain-text table (for stderr). */
export function renderSeatCheckTable(rows: readonly SeatCheckEntry[]): string {
  if (rows.length === 0) return "Seat check: nothing to assign or remove.\n";
  const header = ["customer", "sku", "group", "assign", "remove", "available", "shortfall"];
  const body = rows.map((row) => [
    row.customerName ? `${row.customerId} (${oneLine(row.customerName, 40)})` : row.customerId,
    oneLine(row.sku || row.skuId, 48),
    row.licenseGroup,
    String(row.toAssign),
    String(row.toRemove),
    String(row.available),
    row.shortfall > 0 ? `${row.shortfall} SHORT` : "0",
  ]);
  const numeric = [false, false, false, true, true, true, true];
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((cells) => cells[column]!.length)));
  const format = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (numeric[column] ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join("  ")
      .trimEnd();
  const short = rows.filter((row) => row.shortfall > 0).length;
  const verdict = short > 0 ? `Seat check: ${short} customer SKU${short === 1 ? "" : "s"} short of seats.` : "Seat check: enough seats for every assignment.";
  return `${[format(header), ...body.map(format), verdict, seatCheckBasis(rows)].join("\n")}\n`;
}

export interface MarkdownSummaryOptions {
  resultsPath?: string;
  /** Rows per table before "... and N more"; default 50. */
  maxRows?: number;
  title?: string;
}

/** Markdown for $GITHUB_STEP_SUMMARY: counts by status, customer, SKU and error code, and the seat check. */
export function renderMarkdownSummary(document: RunSummaryDocument, options: MarkdownSummaryOptions = {}): string {
  const maxRows = options.maxRows ?? 50;
  const out: string[] = [];
  out.push(`## ${markdownText(options.title ?? `license-runner ${document.mode}`)}`, "");
  const took = document.durationMs === null ? "" : ` in ${formatDuration(document.durationMs)}`;
  const requests = document.mode === "run" ? ` ${document.requests.sent} requests sent, ${document.requests.throttled} throttled.` : "";
  out.push(`**${document.rows.total} rows**${took}: ${statusList(document.rows.byStatus)}.${requests}`, "");
  const stop = stopLine(document);
  if (stop) out.push(`> ${markdownText(stop.replace(/\n\s*/g, " "))}`, "");

  // Only statuses that occur anywhere get a column: narrow tables read better.
  const statuses = STATUS_ORDER.filter((status) => document.rows.byStatus[status] > 0);
  out.push("| status | rows |", "|---|---:|");
  for (const status of statuses) out.push(`| ${status} | ${document.rows.byStatus[status]} |`);
  out.push("");

  const problems = (counts: StatusCounts): number => counts.failed + counts.invalid + counts.aborted;
  if (document.customers.length > 0) {
    out.push("### By customer", "", `| customer | rows | ${statuses.join(" | ")} |`, `|---|---:|${statuses.map(() => "---:|").join("")}`);
    // Customers with problems first: they are what a reader is looking for.
    const customers = [...document.customers].sort((a, b) => problems(b.byStatus) - problems(a.byStatus));
    for (const customer of customers.slice(0, maxRows)) {
      out.push(`| ${markdownText(customer.customerName ? `${customer.customerId} (${customer.customerName})` : customer.customerId)} | ${customer.total} | ${statuses.map((s) => customer.byStatus[s]).join(" | ")} |`);
    }
    if (customers.length > maxRows) out.push("", `... and ${customers.length - maxRows} more customers (see --summary-json).`);
    out.push("");
  }

  if (document.skus.length > 0) {
    out.push("### By SKU", "", `| SKU | SKU id | rows | ${statuses.join(" | ")} |`, `|---|---|---:|${statuses.map(() => "---:|").join("")}`);
    const skus = [...document.skus].sort((a, b) => b.total - a.total);
    for (const sku of skus.slice(0, maxRows)) {
      out.push(`| ${markdownText(sku.sku)} | ${markdownText(sku.skuId)} | ${sku.total} | ${statuses.map((s) => sku.byStatus[s]).join(" | ")} |`);
    }
    if (skus.length > maxRows) out.push("", `... and ${skus.length - maxRows} more SKUs (see --summary-json).`);
    out.push("");
  }

  if (document.errors.length > 0) {
    out.push("### Errors", "", "| code | rows | HTTP | example | what to do |", "|---|---:|---:|---|---|");
    for (const error of document.errors.slice(0, maxRows)) {
      out.push(
        `| ${markdownText(error.errorCode)} | ${error.count} | ${error.httpStatus ?? ""} | ${markdownText(oneLine(error.example, 160))} | ${markdownText(error.advice ?? "")} |`,
      );
    }
    if (document.errors.length > maxRows) out.push("", `... and ${document.errors.length - maxRows} more error codes.`);
    out.push("");
  }

  if (document.seatCheck.length > 0) {
    out.push("### Seat check", "", "| customer | SKU | group | to assign | to remove | available | shortfall |", "|---|---|---|---:|---:|---:|---:|");
    const seats = [...document.seatCheck].sort((a, b) => b.shortfall - a.shortfall);
    for (const row of seats.slice(0, maxRows)) {
      const shortfall = row.shortfall > 0 ? `**${row.shortfall}**` : "0";
      out.push(
        `| ${markdownText(row.customerName ? `${row.customerId} (${row.customerName})` : row.customerId)} | ${markdownText(row.sku || row.skuId)} | ${markdownText(row.licenseGroup)} | ${row.toAssign} | ${row.toRemove} | ${row.available} | ${shortfall} |`,
      );
    }
    if (seats.length > maxRows) out.push("", `... and ${seats.length - maxRows} more seat check rows.`);
    out.push("");
  }

  if (options.resultsPath) out.push(`Results: \`${options.resultsPath.replace(/`/g, "'")}\``, "");
  return `${out.join("\n")}\n`;
}

export interface ProgressSnapshot {
  done: number;
  total: number;
  assigned: number;
  removed: number;
  failed: number;
  invalid: number;
  throttled: number;
  /** Rows per second over the recent past; undefined until there is a rate. */
  rowsPerSecond: number | undefined;
  /** Time left at that rate; undefined when unknown. */
  etaMs: number | undefined;
}

/** The live progress line (no control characters; the caller adds `\r` and clears the line). */
export function renderProgressLine(snapshot: ProgressSnapshot, columns?: number): string {
  const percent = snapshot.total > 0 ? Math.floor((snapshot.done / snapshot.total) * 100) : 100;
  const parts = [`${snapshot.done}/${snapshot.total} rows (${percent}%)`, `${snapshot.assigned} assigned`];
  if (snapshot.removed > 0) parts.push(`${snapshot.removed} removed`);
  parts.push(`${snapshot.failed} failed`);
  if (snapshot.invalid > 0) parts.push(`${snapshot.invalid} invalid`);
  parts.push(`${snapshot.throttled} throttled`);
  parts.push(snapshot.rowsPerSecond === undefined ? "-- rows/s" : `${formatRate(snapshot.rowsPerSecond)} rows/s`);
  parts.push(snapshot.etaMs === undefined ? "ETA --" : `ETA ${formatDuration(snapshot.etaMs)}`);
  const line = parts.join(" | ");
  // Never wrap: a wrapped line cannot be redrawn in place with \r.
  return columns !== undefined && columns > 1 && line.length >= columns ? line.slice(0, columns - 1) : line;
}

function formatRate(rate: number): string {
  return rate >= 100 ? String(Math.round(rate)) : rate.toFixed(1);
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}

/** A table cell or line of GitHub Markdown that cannot break the table or inject HTML. */
export function markdownText(text: string): string {
  return text
    .replace(/[\r\n]+/g, " ")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\\/g, "\\\\")
    .replace(/\|/g, "\\|")
    .replace(/([`*_[\]])/g, "\\$1");
}

/** Why the run stopped when the results file could not be written, and where its outcomes went. */
export function renderResultsWriteFailure(failure: { path: string; errno: string; fallback: string; saved: number }): string {
  if (failure.fallback === "") {
    return `the results file "${failure.path}" could not be rewritten at the end (${failure.errno}): every outcome is in it as a journal (one or more lines per row); --resume reads it`;
  }
  const where = failure.fallback === "stderr" ? "written to stderr as CSV" : `saved in "${failure.fallback}"`;
  return `the results file "${failure.path}" cannot be written (${failure.errno}): nothing more was sent; ${failure.saved} outcome${failure.saved === 1 ? "" : "s"} it could not take ${failure.saved === 1 ? "is" : "are"} ${where}`;
}

/** A summary file that could not be written after the run (the results file is complete). */
export function renderUnwritableSummary(what: string, path: string, errno: string): string {
  return `${what} "${path}" could not be written (${errno}); the results file is complete`;
}
