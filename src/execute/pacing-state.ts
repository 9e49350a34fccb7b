// What a run learned about the allowance, kept in a small JSON file (`--pacing-state FILE`) so the
// next run starts from it: discovery costs 429s and Retry-After waits a short job cannot amortise.
// Read at the start, written at the end (a temporary file renamed over it, so a crash never leaves
// half a file). A state that is missing, unreadable, of another service or old is no error: it is a
// hint the pacer starts from and may grow past, never a ceiling.
import { rename, readFile, writeFile } from "node:fs/promises";
import { z } from "zod";
import type { PacingState } from "./pacer.js";

const callWindow = z.object({ limit: z.number().positive(), ms: z.number().positive() });

const stateSchema = z.object({
  version: z.literal(1),
  savedAt: z.string(),
  baseUrl: z.string().optional(),
  partner: z.number().positive().optional(),
  customers: z.record(z.string(), z.number().positive()),
  longRun: z.array(z.string()).optional(),
  refused: z.record(z.string(), z.number().positive()).optional(),
  slowStart: z.record(z.string(), z.number().positive()).optional(),
  windows: z
    .object({
      partner: callWindow.optional(),
      customers: z.record(z.string(), callWindow).optional(),
    })
    .optional(),
});

export type SavedPacingState = PacingState & { baseUrl?: string };

export type ReadPacingState = { ok: true; state: SavedPacingState } | { ok: false; reason: string };

export async function readPacingState(path: string): Promise<ReadPacingState> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { ok: false, reason: code === "ENOENT" ? "no pacing state yet" : `the pacing state cannot be read (${code ?? "error"})` };
  }
  try {
    const parsed = stateSchema.safeParse(JSON.parse(text));
    if (!parsed.success) return { ok: false, reason: "the pacing state is not one this version writes" };
    const { baseUrl, partner, longRun, refused, slowStart, windows, ...rest } = parsed.data;
    const state: SavedPacingState = { ...rest };
    if (baseUrl !== undefined) state.baseUrl = baseUrl;
    if (partner !== undefined) state.partner = partner;
    if (longRun !== undefined) state.longRun = longRun;
    if (refused !== undefined) state.refused = refused;
    if (slowStart !== undefined) state.slowStart = slowStart;
    if (windows !== undefined) {
      state.windows = {};
      if (windows.partner) state.windows.partner = windows.partner;
      if (windows.customers) state.windows.customers = windows.customers;
    }
    return { ok: true, state };
  } catch {
    return { ok: false, reason: "the pacing state is not JSON" };
  }
}

export async function writePacingState(path: string, state: SavedPacingState): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`, "utf8");
  await rename(temporary, path);
}
