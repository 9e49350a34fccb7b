// Test helper: drains readRoster into plain data (records, summary, or the RosterFileError).
import { expect } from "vitest";
import { readRoster, RosterFileError, type ReadRosterOptions, type RosterSource, type RosterSummary } from "../../dist/input/roster-reader.js";
import type { RosterRecord, RosterRow, RowRejection } from "../../dist/model.js";

export interface RosterReadOutcome {
  records: RosterRecord[];
  summary?: RosterSummary;
  error?: RosterFileError;
}

export async function readAll(source: RosterSource, options?: ReadRosterOptions): Promise<RosterReadOutcome> {
  const records: RosterRecord[] = [];
  const reader = readRoster(source, options);
  try {
    for (;;) {
      const next = await reader.next();
      if (next.done) return { records, summary: next.value };
      records.push(next.value);
    }
  } catch (error) {
    if (error instanceof RosterFileError) return { records, error };
    throw error;
  }
}

export function row(line: number, fields: Omit<RosterRow, "line" | "excludedPlans" | "action"> & Partial<RosterRow>): RosterRecord {
  return { kind: "row", row: { line, excludedPlans: [], action: "assign", ...fields } };
}

/** A rejection whose message names `column`; values default to empty. */
export function rejected(line: number, errorCode: string, column: string, values: Partial<RowRejection> = {}): unknown {
  return {
    kind: "rejected",
    rejection: {
      line,
      customerId: "",
      userId: "",
      userPrincipalName: "",
      sku: "",
      action: "",
      errorCode,
      errorMessage: expect.stringContaining(column),
      ...values,
    },
  };
}

