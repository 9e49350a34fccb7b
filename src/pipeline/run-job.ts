// The pipeline of one `run` or `plan`, read top to bottom:
//   read roster -> open results journal -> per customer: resolve SKUs (and UPNs) once -> group into
//   licenseupdates requests -> execute (concurrent, paced, retried) -> record every row -> summary.
// Every input row of this shard ends with exactly one line in the results file.
import type { Logger } from "pino";
import type { RunConfig } from "../config.js";
import type { LicenseUpdateRequest, RosterRow, RowOutcome, RowRejection } from "../model.js";
import type { AccessTokenProvider, PartnerCenterApi } from "../partner-center/api.js";
import { CustomerCatalogs } from "../catalog/customer-catalogs.js";
import { resolveRow } from "../plan/resolve-row.js";
import { groupCustomerRows } from "../plan/group-requests.js";
import { seatCheck, type SeatCheckRow } from "../plan/seat-check.js";
import type { Clock } from "../execute/clock.js";
import { executeRequests, type ExecuteReport } from "../execute/executor.js";
import { createPacer } from "../execute/pacer.js";
import { readPacingState, writePacingState } from "../execute/pacing-state.js";
import type { RetryDeps } from "../execute/call-with-retry.js";
import { fingerprintRoster } from "../results/fingerprint.js";
import { openResultsJournal, type DoneLines } from "../results/journal.js";
import { RunSummary } from "../results/summary.js";
import { createProgress } from "../results/progress.js";
import { makeCallApi } from "./call-api.js";
import { readShardRoster, type ShardRoster } from "./read-shard-roster.js";
import { failedByCall, outcomeOf, rejectedOutcome, skippedOutcome } from "./row-outcomes.js";
import { RowLedger } from "./row-ledger.js";

export interface JobDeps {
  config: RunConfig;
  api: PartnerCenterApi;
  tokens: AccessTokenProvider;
  logger: Logger;
  /** Aborted on SIGINT/SIGTERM: start nothing new, drain what is in flight. */
  stop: AbortSignal;
  clock: Clock;
  random?: () => number;
  correlationId: string;
  stdin: NodeJS.ReadableStream;
  stderr: NodeJS.WriteStream;
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

/** How many customers' catalogs are fetched ahead of the one being planned. */
const CATALOG_LOOKAHEAD = 4;

export async function runLicenseJob(deps: JobDeps): Promise<JobResult> {
  const { config, logger } = deps;

  // 1. Read the whole roster (this shard's rows) before anything is sent or any file is replaced.
  const source = config.input === "-" ? { stream: deps.stdin, name: "-" } : { path: config.input };
  // Held compactly (~25 bytes a row); a customer's RosterRow objects exist only while it is planned.
  const shardRoster = await readShardRoster(source, config.shard);
  if (!shardRoster.ok) return { exitCode: 2, error: shardRoster.error, seatCheck: [] };
  const roster = shardRoster.roster;
  logger.info({ rows: roster.rowCount, rejected: shardRoster.rejections.length, customers: roster.customers.length }, "roster read");

  // 2. Open the results journal (resume: the rows an earlier run finished are kept).
  const fingerprint = config.input === "-" ? undefined : await fingerprintRoster(config.input);
  const opened = await openResultsJournal({ path: config.output, rosterFingerprint: fingerprint, resume: config.resume, rosterName: config.input });
  if (!opened.ok) return { exitCode: 2, error: opened.message, seatCheck: [] };
  const { journal, done } = opened;

  const summary = new RunSummary({ dryRun: config.dryRun, startedAt: deps.clock.now() });
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
  const record = (outcome: RowOutcome): void => {
    if (!ledger.mark(outcome.line)) return; // one line per row, whatever happens
    if (outcome.status === "aborted") halted = true;
    journal.record(outcome);
    summary.add(outcome);
    progress.update(summary.progressCounts());
  };

  for (const rejection of shardRoster.rejections) recordRejected(rejection, done, record);
  const pending = new Set<string>(); // customers with rows left to run
  for (const customerId of roster.customers) {
    let left = 0;
    for (const line of roster.linesOf(customerId)) {
      const previous = done.has(line) ? done.get(line) : undefined;
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
  const callApi = makeCallApi({ ...retry, signal: deps.stop });
  const catalogs = new CustomerCatalogs(deps.api, callApi);
  const seatRows: SeatCheckRow[] = [];
  let catalogStop: StopReason | undefined;

  async function* plannedRequests(): AsyncGenerator<LicenseUpdateRequest> {
    const customers = [...pending];
    for (let index = 0; index < customers.length; index += 1) {
      if (halted || deps.stop.aborted) return;
      for (const ahead of customers.slice(index + 1, index + 1 + CATALOG_LOOKAHEAD)) {
        void catalogs.skus(ahead);
        if (roster.usesPrincipalNames(ahead)) void catalogs.users(ahead);
      }
      const customerId = customers[index]!;
      const rows = roster.rowsOf(customerId).filter((row) => !done.has(row.line));
      const log = logger.child({ customerId });

      const skus = await catalogs.skus(customerId);
      const users = rows.some(needsDirectory) ? await catalogs.users(customerId) : undefined;
      if (halted || deps.stop.aborted) return;
      const failed = !skus.ok ? skus.failure : users && !users.ok ? users.failure : undefined;
      if (failed) {
        if (failed.scope === "run") {
          catalogStop = { kind: "run-fatal", errorCode: failed.errorCode, message: failed.message, httpStatus: failed.httpStatus };
          halted = true;
          return;
        }
        const what = !skus.ok ? "the customer's subscribed SKUs could not be read" : "the customer's users could not be read";
        log.warn({ errorCode: failed.errorCode, httpStatus: failed.httpStatus }, "customer lookup failed");
        for (const row of rows) record(failedByCall(row, failed, what, deps.correlationId));
        catalogs.forget(customerId);
        continue;
      }
      if (!skus.ok || (users && !users.ok)) continue; // narrowed above; keeps the types honest

      const resolved = [];
      for (const row of rows) {
        const resolution = resolveRow(row, skus.value, users?.ok ? users.value : undefined);
        if (resolution.ok) resolved.push(resolution.row);
        else record(outcomeOf(row, "invalid", { errorCode: resolution.errorCode, errorMessage: resolution.message }));
      }
      const { requests, refused } = groupCustomerRows(resolved);
      for (const { row, errorCode, message } of refused) record(outcomeOf(row, "invalid", { errorCode, errorMessage: message }));
      seatRows.push(...seatCheck(customerId, skus.value.skus, requests));
      catalogs.forget(customerId);
      log.debug({ rows: rows.length, requests: requests.length }, "customer planned");

      if (config.dryRun) {
        for (const request of requests) {
          for (const row of request.rows) record(outcomeOf(row, "planned", { correlationId: deps.correlationId }));
        }
      } else {
        yield* requests;
      }
    }
  }

  // 4. Execute (or, for plan, only walk the plan).
  let stoppedBy: StopReason | undefined;
  if (config.dryRun) {
    for await (const _ of plannedRequests()) void _;
  } else {
    const report = await executeRequests(plannedRequests(), {
      api: deps.api,
      retry,
      concurrency: config.concurrency,
      stop: deps.stop,
      onOutcome: record,
      logger,
      clock: deps.clock,
    });
    summary.addRequests(report.requestsSent);
    stoppedBy = report.stoppedBy;
    if (config.pacingState && pacer.snapshot) {
      try {
        await writePacingState(config.pacingState, { ...pacer.snapshot(), baseUrl: config.baseUrl });
      } catch (error) {
        logger.warn({ pacingState: config.pacingState, err: error instanceof Error ? error.message : String(error) }, "the pacing state could not be saved");
      }
    }
  }
  stoppedBy ??= catalogStop ?? (deps.stop.aborted ? { kind: "interrupted" } : undefined);

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
  summary.finish({ finishedAt: deps.clock.now(), stoppedBy, seatCheck: seatRows });
  await journal.finalize();
  await journal.close();

  return { exitCode: exitCodeOf(config, summary, seatRows, stoppedBy), summary, seatCheck: seatRows, stoppedBy };
}

function needsDirectory(row: RosterRow): boolean {
  return !row.userId && Boolean(row.userPrincipalName);
}

function recordRejected(rejection: RowRejection, done: DoneLines, record: (o: RowOutcome) => void): void {
  const previous = done.get(rejection.line);
  record(previous ? skippedOutcome(previous) : rejectedOutcome(rejection));
}

function exitCodeOf(config: RunConfig, summary: RunSummary, seats: SeatCheckRow[], stoppedBy: StopReason | undefined): JobResult["exitCode"] {
  if (stoppedBy?.kind === "interrupted") return 130;
  if (stoppedBy?.kind === "run-fatal") return 4;
  const counts = summary.byStatus();
  if ((counts.failed ?? 0) > 0 || (counts.invalid ?? 0) > 0) return 3;
  if (config.dryRun && seats.some((s) => s.shortfall > 0)) return 3;
  return 0;
}

export type { ShardRoster };
