// `license-runner undo --results RUN.results.csv [--output undo.csv] [--assume-new]`: reads a
// results file (alone: the roster may be gone) and writes a roster that reverses what the run
// changed (results/undo-roster.ts decides each row). Exit 0 when written; 2 when the results
// cannot be read, the output cannot be written, or the run's prior state is unknown without
// --assume-new.
import { createReadStream } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { resolve } from "node:path";
import { parse } from "csv-parse";
import { stringify } from "csv-stringify/sync";
import { restoreCell } from "../results/csv-cells.js";
import { UNDO_COLUMNS, undoDecision, type ResultsRecord, type UndoRow } from "../results/undo-roster.js";

export interface UndoOptions {
  results: string;
  output?: string | undefined;
  assumeNew: boolean;
}

export interface UndoReport {
  exitCode: 0 | 2;
  /** The line for stderr: the summary, or why nothing was written. */
  message: string;
  warnings: string[];
}

const REQUIRED = ["line", "customerId", "userId", "sku", "skuId", "action", "status"] as const;
const MAX_WARNINGS_SHOWN = 5;

export async function undoCommand(options: UndoOptions): Promise<UndoReport> {
  const output = options.output ?? `${options.results.replace(/\.csv$/i, "")}.undo.csv`;
  if (resolve(output) === resolve(options.results)) return refused(`--output ${output} is the results file itself`);

  const undo = new Map<number, UndoRow>(); // by original line: a later entry of a line replaces an earlier one
  const warnings = new Map<number, string>();
  let records = 0;
  let unknownBefore = 0;
  let leftOut = 0;
  try {
    const source = createReadStream(options.results);
    const parser = parse({ columns: true, bom: true, skip_empty_lines: true, relax_column_count: true });
    source.on("error", (error) => parser.destroy(error)); // pipe() does not carry a read error on
    source.pipe(parser);
    let checked = false;
    for await (const raw of parser as AsyncIterable<Record<string, string>>) {
      if (!checked) {
        const missing = REQUIRED.filter((column) => !(column in raw));
        if (missing.length > 0) return refused(`${options.results} is not a license-runner results file (no ${missing.join(", ")} column)`);
        checked = true;
      }
      records += 1;
      const record = Object.fromEntries(Object.entries(raw).map(([key, value]) => [key, restoreCell(value ?? "")])) as unknown as ResultsRecord;
      const line = Number(record.line);
      undo.delete(line);
      warnings.delete(line);
      const decision = undoDecision(record, options.assumeNew);
      if (decision.kind === "undo") {
        undo.set(line, decision.row);
        if (decision.warning) warnings.set(line, decision.warning);
      } else if (decision.kind === "unknown-before") unknownBefore += 1;
      else leftOut += 1;
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return refused(`the results file ${options.results} cannot be read: ${code && !code.startsWith("CSV_") ? code : (error as Error).message}`);
  }
  if (unknownBefore > 0) {
    return refused(
      `${options.results} comes from a run without --diff: for ${unknownBefore} changed row${unknownBefore === 1 ? "" : "s"} it cannot tell a new assignment from a license the user already held, ` +
        "so undoing could remove licenses held before the run. Pass --assume-new to take every change as new (nothing was held before), or use a run made with --diff",
    );
  }

  const rows = [...undo.values()].sort((a, b) => a.originalLine - b.originalLine);
  // Removals first: the seats they free are there for the assignments put back after them.
  rows.sort((a, b) => (a.action === b.action ? 0 : a.action === "remove" ? -1 : 1));
  const note = options.assumeNew
    ? `# undo of ${oneLine(options.results)} with --assume-new: the run did not read the users' licenses (no --diff) so every change is taken as new\n`
    : "";
  const body = stringify(
    rows.map((row) => [row.customerId, row.userId, row.userPrincipalName, row.sku, row.action, row.excludedPlans.join(";"), String(row.originalLine)]),
    { header: true, columns: [...UNDO_COLUMNS], record_delimiter: "\n" },
  );
  const written = await writeAtomically(output, note + body);
  if (written) return refused(`cannot write ${output}: ${written}`);

  const removals = rows.filter((row) => row.action === "remove").length;
  const assumed = options.assumeNew ? " (--assume-new: every change taken as new)" : "";
  return {
    exitCode: 0,
    message: `undo: ${rows.length} row${rows.length === 1 ? "" : "s"} to reverse (${removals} removal${removals === 1 ? "" : "s"}, ${rows.length - removals} assignment${rows.length - removals === 1 ? "" : "s"}) from ${records} results rows, ${leftOut} left out (nothing changed or not applied)${assumed}; written to ${output}. Check it with plan, then run it with --diff.`,
    warnings: [...warnings.values()].slice(0, MAX_WARNINGS_SHOWN).concat(warnings.size > MAX_WARNINGS_SHOWN ? [`... and ${warnings.size - MAX_WARNINGS_SHOWN} more rows assigned back with every plan`] : []),
  };
}

function refused(message: string): UndoReport {
  return { exitCode: 2, message, warnings: [] };
}

function oneLine(text: string): string {
  return text.replace(/[\r\n,"]/g, " ");
}

/** Writes to a temporary file beside the output, then renames it over: never a half-written roster. */
async function writeAtomically(path: string, text: string): Promise<string | undefined> {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    const handle = await open(temporary, "w", 0o644);
    try {
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
    return undefined;
  } catch (error) {
    await rm(temporary, { force: true });
    return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  }
}
