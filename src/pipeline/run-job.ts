// The pipeline of one `run` or `plan`, read top to bottom:
//   read roster -> open results journal -> per customer: resolve SKUs (and UPNs) once -> group into
//   licenseupdates requests -> execute (concurrent, paced, retried) -> record every row -> summary.
// Every input row of this shard ends with exactly one line in the results file.
import { setMaxListeners } from "node:events";
import type { Logger } from "pino";
import type { RunConfig } from "../config.js";
import type { LicenseUpdateRequest, RosterRow, RowOutcome, RowRejection } from "../model.js";
import type { AccessTokenProvider, PartnerCenterApi, UserAccountsApi } from "../partner-center/api.js";
import { CustomerCatalogs, type CallApi } from "../catalog/customer-catalogs.js";
import type { HeldLicense } from "../plan/held-licenses.js";
import type { SeatCheckRow } from "../plan/seat-check.js";
import type { Clock } from "../execute/clock.js";
import { executeRequests, type ExecuteReport } from "../execute/executor.js";
import { createPacer } from "../execute/pacer.js";
import { readPacingState, writePacingState } from "../execute/pacing-state.js";
import type { RetryDeps } from "../execute/call-with-retry.js";
import { createRosterFingerprint } from "../results/fingerprint.js";
import { openResultsJournal, type DoneLines } from "../results/journal.js";
import { isOutcomeOfRow } from "../results/row-identity.js";
import { createResultsSink, type ResultsSink } from "../results/results-sink.js";
import { claimRunOutputs } from "../results/run-outputs.js";
import { renderResultsWriteFailure } from "../results/renderer.js";
import { RunSummary } from "../results/summary.js";
import { createProgress } from "../results/progress.js";
import { makeCallApi } from "./call-api.js";
import { PartnerWideFailures } from "../execute/partner-wide-failures.js";
import { readShardRoster, type ShardRoster } from "./read-shard-roster.js";
import { eachPlannedOutcome, outcomeOf, plannedOutcome, rejectedOutcome, skippedOutcome } from "./row-outcomes.js";
import { planCustomers, type PlannedCustomer } from "./plan-customers.js";
import { RowLedger } from "./row-ledger.js";
import { boundHeap } from "./heap-bound.js";

export interface JobDeps {
  config: RunConfig;
  api: PartnerCenterApi & UserAccountsApi;
  tokens: AccessTokenProvider;
  logger: Logger;
  /** Aborted on SIGINT/SIGTERM: start nothing new, drain what is in flight. */
  stop: AbortSignal;
  clock: Clock;
  random?: () => number;
  correlationId: string;
  stdin: NodeJS.ReadableStream;
  stderr: NodeJS.WriteStream;
  /** Where $GITHUB_STEP_SUMMARY is read; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The command line, recorded in the results lock. */
  command?: string;
}

export type StopReason = NonNullable<ExecuteReport["stoppedBy"]>;

export interface JobResult {
  exitCode: 0 | 2 | 3 | 4 | 130;
  /** Set when exitCode is 2: the usage or roster problem, for the user. */
  error?: string;
  summary?: RunSummary;
  seatCheck: SeatCheckRow[];
  stoppedBy?: StopReason;
}

export async function runLicenseJob(deps: JobDeps): Promise<JobResult> {
  const { config } = deps;
  // 0. One run per results file, no output that is the roster, every output writable: else nothing is sent.
  const claimed = await claimRunOutputs({
    input: config.input,
    results: config.output,
    summaryJson: config.summaryJson,
    stepSummary: (deps.env ?? process.env).GITHUB_STEP_SUMMARY || undefined,
    breakLock: config.breakLock,
    command: deps.command ?? `license-runner ${process.argv.slice(2).join(" ")}`,
  });
  if (!claimed.ok) return { exitCode: 2, error: claimed.message, seatCheck: [] };
  if (claimed.warning) deps.logger.warn({ lock: claimed.lock.path }, claimed.warning);
  const open: { sink?: ResultsSink } = {};
  try {
    return await runClaimedJob(deps, open);
  } catch (error) {
    // An internal error: keep what was recorded as a finished, resumable results file.
    await open.sink?.finish().catch(() => undefined);
    throw error;
  } finally {
    claimed.lock.release();
  }
}

async function runClaimedJob(deps: JobDeps, open: { sink?: ResultsSink }): Promise<JobResult> {
  const { config, logger } = deps;

  // 1. Read the whole roster (this shard's rows) before anything is sent or any file is replaced.
  // The fingerprint is fed the very bytes parsed, never a second read of the path.
  const fingerprinter = createRosterFingerprint();
  const source = config.input === "-" ? { stream: deps.stdin, name: "-" } : { path: config.input, onBytes: (chunk: Buffer) => fingerprinter.update(chunk) };
  // Held compactly (~25 bytes a row); a customer's RosterRow objects exist only while it is planned.
  const shardRoster = await readShardRoster(source, config.shard);
  if (!shardRoster.ok) return { exitCode: 2, error: shardRoster.error, seatCheck: [] };
  const roster = shardRoster.roster;
  logger.info({ rows: roster.rowCount, rejected: shardRoster.rejections.length, customers: roster.customers.length }, "roster read");

  // 2. Open the results journal (resume: the rows an earlier run finished are kept).
  const fingerprint = config.input === "-" ? undefined : fingerprinter.digest();
  const batch = config.dryRun ? "plan" : "task";
  const opened = await openResultsJournal({ path: config.output, rosterFingerprint: fingerprint, resume: config.resume, rosterName: config.input, batch, highestLine: shardRoster.maxLine });
  if (!opened.ok) return { exitCode: 2, error: opened.message, seatCheck: [] };
  const { done, unsaved } = opened;
  if (unsaved.kind === "taken-back") logger.info({ file: unsaved.path, outcomes: unsaved.outcomes }, "took back the outcomes the last run could not write to the results file; their rows are not sent again");
  if (unsaved.kind === "stale") logger.warn({ file: unsaved.path }, "left a fallback file older than the results file's run as it is: its outcomes are another run's");
  if (unsaved.kind === "unreadable") logger.warn({ file: unsaved.path, reason: unsaved.reason }, "left a fallback file that is not a results file as it is: its rows run again");
  // A results file that cannot be written stops the run like a run-fatal error: nothing more is sent.
  const halt = new AbortController();
  const stop = AbortSignal.any([deps.stop, halt.signal]);
  setMaxListeners(0, stop);
  const journal = createResultsSink({ journal: opened.journal, path: config.output, stderr: deps.stderr, onFailure: () => halt.abort(), flushAfterTask: batch === "task" });
  open.sink = journal;

  const usageLocationGiven = shardRoster.columns?.usageLocation !== undefined || config.usageLocation !== undefined;
  const summary = new RunSummary({ dryRun: config.dryRun, startedAt: deps.clock.now(), usageLocationGiven });
  const ledger = new RowLedger(shardRoster.maxLine);
  const progress = createProgress({
    total: roster.rowCount + shardRoster.rejections.length,
    stream: deps.stderr,
    isTTY: Boolean(deps.stderr.isTTY),
    logger,
    enabled: config.progress,
    clock: deps.clock,
  });
  let halted = false; // a run-fatal answer or a stop: plan nothing more
  // --diff: what each sent row's user held of its SKU before, by line, until the row's outcome is recorded (for undo).
  const heldByLine = new Map<number, HeldLicense | null>();
  const record = (answered: RowOutcome): void => {
    if (!ledger.mark(answered.line)) return; // one line per row, whatever happens
    const held = heldByLine.size > 0 ? heldByLine.get(answered.line) : undefined;
    let outcome = answered;
    if (held !== undefined) {
      heldByLine.delete(answered.line);
      outcome = { ...answered, heldBefore: held !== null, ...(held ? { previousExcludedPlans: held.excludedPlanIds } : {}) };
    }
    if (outcome.status === "aborted") halted = true;
    journal.record(outcome);
    summary.add(outcome);
    if (config.progress) progress.update(summary.progressCounts());
  };

  for (const rejection of shardRoster.rejections) recordRejected(rejection, done, record);
  const pending = new Set<string>(); // customers with rows left to run
  for (const customerId of roster.customers) {
    let left = 0;
    const rowAt = done.size > 0 ? new Map(roster.rowsOf(customerId).map((row) => [row.line, row])) : undefined;
    for (const line of roster.linesOf(customerId)) {
      const previous = done.has(line) ? doneFor(done, rowAt?.get(line)) : undefined;
      if (previous) record(skippedOutcome(previous));
      else left++;
    }
    if (left > 0) pending.add(customerId);
  }

  // 3. Resolve and group, customer by customer, feeding the executor as requests become ready.
  const warm = config.pacingState && !config.dryRun ? await readPacingState(config.pacingState) : undefined;
  if (warm && !warm.ok) logger.info({ pacingState: config.pacingState, reason: warm.reason }, "pacing starts cold");
  const pacer = createPacer({ clock: deps.clock, maxRatePerSecond: config.maxRate, ...(warm?.ok ? { warm: warm.state } : {}) });
  const retry: Omit<RetryDeps, "signal"> = {
    pacer,
    clock: deps.clock,
    random: deps.random ?? Math.random,
    maxAttempts: config.maxAttempts,
    correlationId: deps.correlationId,
    tokens: deps.tokens,
    logger,
    onThrottled: () => summary.addThrottled(),
  };
  // Lookups and writes share it: a credential- or network-level failure repeating across customers stops the run.
  const partnerWide = new PartnerWideFailures();
  const callApi = makeCallApi({ ...retry, signal: stop }, partnerWide);
  // Every GET (SKUs, user pages, company names, --diff's licenses) is a read the summary counts.
  const readApi: CallApi = async (customerId, attempt) => {
    const fetched = await callApi(customerId, attempt);
    summary.addReads(fetched.ok ? fetched.attempts : fetched.failure.attempts);
    return fetched;
  };
  const seatRows: SeatCheckRow[] = [];
  let planStop: StopReason | undefined;
  const customers = planCustomers({
    roster,
    customers: [...pending],
    isDone: (line) => ledger.has(line),
    catalogs: new CustomerCatalogs(deps.api, readApi),
    correlationId: deps.correlationId,
    logger,
    halted: () => halted || stop.aborted,
    diff: config.diff,
    usageLocation: config.usageLocation,
    writes: config.dryRun ? undefined : { api: deps.api, call: callApi, onAttempts: (count) => summary.addRequests(count) },
    concurrency: config.concurrency,
  });
  /** Records what the plan settled for a customer; returns the requests left to send. */
  const settle = (planned: PlannedCustomer): LicenseUpdateRequest[] => {
    if (planned.kind === "stop") {
      planStop = planned.stoppedBy;
      halted = true;
      return [];
    }
    if (planned.customerName !== undefined) summary.nameCustomer(planned.customerId, planned.customerName);
    for (const [row, license] of planned.heldBefore ?? []) heldByLine.set(row.line, license ?? null);
    for (const outcome of planned.settled) record(outcome);
    seatRows.push(...planned.seatRows);
    return planned.requests;
  };

  // 4. Execute the requests as customers are planned; or, for plan, record them as planned.
  let stoppedBy: StopReason | undefined;
  if (config.dryRun) {
    for await (const planned of customers) {
      for (const request of settle(planned)) {
        for (const row of request.rows) record(plannedOutcome(row, deps.correlationId));
      }
      if (planned.kind === "customer" && planned.plain) eachPlannedOutcome(planned.customerId, planned.plain, deps.correlationId, record);
      journal.flush(); // a customer's lines on file before the next customer is planned
      boundHeap(); // the customer's rows are garbage now
    }
  } else {
    async function* requestsToSend(): AsyncGenerator<LicenseUpdateRequest> {
      for await (const planned of customers) yield* settle(planned);
    }
    const report = await executeRequests(requestsToSend(), {
      api: deps.api,
      retry,
      concurrency: config.concurrency,
      stop,
      onOutcome: record,
      logger,
      clock: deps.clock,
      partnerWide,
    });
    summary.addRequests(report.requestsSent);
    summary.setPacing(report.pacing);
    stoppedBy = report.stoppedBy;
    if (config.pacingState && pacer.snapshot) {
      try {
        await writePacingState(config.pacingState, { ...pacer.snapshot(), baseUrl: config.baseUrl });
      } catch (error) {
        logger.warn({ pacingState: config.pacingState, err: error instanceof Error ? error.message : String(error) }, "the pacing state could not be saved");
      }
    }
  }
  stoppedBy ??= planStop ?? (stop.aborted ? { kind: "interrupted" } : undefined);
  if (journal.failure) stoppedBy = resultsStop(journal);

  // 5. Every row not recorded yet was never sent: the run stopped before it.
  const errorCode = !stoppedBy ? "NOT_SENT" : stoppedBy.kind === "interrupted" ? "INTERRUPTED" : (stoppedBy.errorCode ?? "RUN_STOPPED");
  const why = !stoppedBy ? "no outcome was recorded for it" : stoppedBy.kind === "interrupted" ? "the run was interrupted" : `the run stopped: ${stoppedBy.message}`;
  for (const customerId of pending) {
    let unrecorded = false;
    for (const line of roster.linesOf(customerId)) {
      if (!ledger.has(line)) {
        unrecorded = true;
        break;
      }
    }
    if (!unrecorded) continue;
    for (const row of roster.rowsOf(customerId)) {
      if (ledger.has(row.line)) continue;
      if (!stoppedBy) logger.error({ line: row.line }, "row left without an outcome");
      record(outcomeOf(row, "aborted", { errorCode, errorMessage: `not sent: ${why}`, correlationId: deps.correlationId }));
    }
  }
  progress.stop();
  await journal.finish();
  if (journal.failure) stoppedBy = resultsStop(journal);
  summary.finish({ finishedAt: deps.clock.now(), stoppedBy, seatCheck: seatRows });

  return { exitCode: exitCodeOf(config, summary, seatRows, stoppedBy), summary, seatCheck: seatRows, stoppedBy };
}

/** The earlier outcome of this row, if it is done: a line counts only if it recorded this very row. */
function doneFor(done: DoneLines, row: RosterRow | RowRejection | undefined): RowOutcome | undefined {
  const previous = row ? done.get(row.line) : undefined;
  return previous && row && isOutcomeOfRow(previous, row) ? previous : undefined;
}

function resultsStop(sink: ResultsSink): StopReason {
  return { kind: "run-fatal", errorCode: "RESULTS_UNWRITABLE", message: renderResultsWriteFailure(sink.failure!) };
}

function recordRejected(rejection: RowRejection, done: DoneLines, record: (o: RowOutcome) => void): void {
  const previous = doneFor(done, rejection);
  record(previous ? skippedOutcome(previous) : rejectedOutcome(rejection));
}

function exitCodeOf(config: RunConfig, summary: RunSummary, seats: SeatCheckRow[], stoppedBy: StopReason | undefined): JobResult["exitCode"] {
  if (stoppedBy?.kind === "interrupted") return 130;
  if (stoppedBy?.kind === "run-fatal") return 4;
  // --fail-on: which findings make a finished run exit 3 (default all three).
  const counts = summary.byStatus();
  if (config.failOn.includes("failed") && (counts.failed ?? 0) > 0) return 3;
  if (config.failOn.includes("invalid") && (counts.invalid ?? 0) > 0) return 3;
  if (config.failOn.includes("shortfall") && config.dryRun && seats.some((s) => s.shortfall > 0)) return 3;
  return 0;
}

export type { ShardRoster };
