// Every user-facing string of the end of a run, as pure functions over data: the console summary,
// the seat check table, the Markdown for $GITHUB_STEP_SUMMARY, the progress line, and the advice
// for each error code. No I/O here; callers decide where the strings go.
import type { RowStatus } from "../model.js";
import type { RunSummaryDocument, SeatCheckEntry, StatusCounts } from "./summary.js";

const STATUS_ORDER: readonly RowStatus[] = ["assigned", "removed", "skipped", "unchanged", "planned", "failed", "invalid", "aborted"];

const ADVICE: Record<string, string> = {
  "60012":
    "The customer has no seats left for this SKU: buy more seats (or free some), then run again with --resume; rows already assigned are kept.",
  "60002": "The user does not exist in that customer's tenant: check the userId (or userPrincipalName) and the customerId of the row.",
  "60003": "The customer was not found: check the customerId is the customer's tenant id and that it is one of your customers.",
  "900150":
    "Your partner user lacks the GDAP role for this customer: grant License Administrator, User Administrator or Directory Writers to your partner security group in the customer's GDAP relationship.",
  "20002": "There is no partner relationship with this customer: set up (or renew) the reseller/GDAP relationship first.",
  "900316":
    "The token is an app-only/partner token: license calls need an App+User token from the secure application model (PARTNER_CENTER_REFRESH_TOKEN with PARTNER_CENTER_CLIENT_ID/SECRET/TENANT_ID).",
  "900309":
    "A Conditional Access policy blocks the sign-in behind the token: exclude the service account or allow the runner's location, then mint a new refresh token.",
  "900421": "The token carries no MFA claim: redo the secure application model consent with MFA to get a new refresh token.",
  "429": "Partner Center throttled the run: lower --concurrency, run fewer shards at once, or schedule outside busy hours; --resume continues.",
  "401":
    "The token was refused (expired or invalid): a PARTNER_CENTER_ACCESS_TOKEN cannot be renewed, so mint a new one, or set the four App+User variables (PARTNER_CENTER_TENANT_ID, _CLIENT_ID, _CLIENT_SECRET, _REFRESH_TOKEN) so the runner renews tokens itself.",
  "800002": "Partner Center refused the request's input: check the row's SKU and excluded plans.",
  "400056": "Partner Center refused the request's input: check the row's SKU and excluded plans.",
  "3000": "Partner Center refused the request's input: check the row's SKU and excluded plans.",
  NETWORK_ERROR: "The network failed on every attempt: check connectivity to Partner Center, then run again with --resume.",
  UNKNOWN_SKU: "No subscribed SKU of the customer matches: use a SKU id, part number or product name the customer has (see `plan`).",
  AMBIGUOUS_SKU: "Several subscribed SKUs match that name: write the SKU id or part number instead.",
  UNKNOWN_PLAN: "An excluded plan is not a service plan of that SKU: use a plan id or service name listed in the message.",
  UNKNOWN_USER: "No user of the customer has that principal name: check the spelling, or give the userId.",
  MISSING_USER: "The row names no user: fill in userId or userPrincipalName.",
  DUPLICATE_ROW: "The same customer, user and SKU appear more than once: the first row is run, remove the others.",
  CONFLICTING_ACTIONS: "The roster both assigns and removes one SKU for one user: keep one of the two rows.",
  INTERRUPTED: "The run was stopped before these rows were sent: run again with --resume to finish.",
  NOT_SENT: "These rows were never sent: run again with --resume.",
  RUN_STOPPED: "The run stopped on a run-fatal error before these rows were sent: fix the cause, then run again with --resume.",
  USAGE_LOCATION_NOT_SET:
    "The user's usage location could not be set (PATCH of the user refused, see the message): your partner user needs User Administrator or Directory Writers in the customer's GDAP relationship; then run again with --resume.",
  CONFLICTING_USAGE_LOCATION: "Rows of one user give different usage locations: give the user one usageLocation.",
};

/** The service's text for a user without a usage location (it documents no code for it). */
const NO_USAGE_LOCATION = /invalid usage location/i;

/** What to do about a failure whose message says the user has no usage location. */
function usageLocationAdvice(given: boolean): string {
  return given
    ? "The user has no (valid) usage location and this row gave none: fill in the row's usageLocation (or --usage-location CC), then run again with --resume."
    : "The user has no usage location: add a usageLocation column (ISO 3166-1 alpha-2, e.g. US) to the roster, or pass --usage-location CC, then run again with --resume; the runner sets it before assigning.";
}

/** What a user should do about an error code, for the codes we know; undefined otherwise. */
export function adviceFor(errorCode: string, context: { example?: string; usageLocationGiven?: boolean } = {}): string | undefined {
  if (context.example !== undefined && NO_USAGE_LOCATION.test(context.example)) return usageLocationAdvice(context.usageLocationGiven ?? false);
  const known = ADVICE[errorCode];
  if (known) return known;
  if (errorCode.startsWith("INVALID_")) return "The row's value is not valid (see the message): fix the roster row, then run again with --resume.";
  if (/^(408|5\d\d)$/.test(errorCode)) {
    return "Partner Center kept failing transiently for this request: run again with --resume later.";
  }
  return undefined;
}

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

/** A few lines for stderr at the end of a run. */
export function renderConsoleSummary(document: RunSummaryDocument, options: ConsoleSummaryOptions = {}): string {
  const lines: string[] = [];
  const took = document.durationMs === null ? "" : ` in ${formatDuration(document.durationMs)}`;
  lines.push(`${document.mode}: ${document.rows.total} rows${took}: ${statusList(document.rows.byStatus)}.`);
  if (document.mode === "run") {
    lines.push(`  ${document.requests.sent} requests sent, ${document.requests.throttled} throttled.${readsText(document)}`);
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
