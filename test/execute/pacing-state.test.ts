import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readPacingState, writePacingState, type SavedPacingState } from "../../dist/execute/pacing-state.js";

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("pacing state file", () => {
  it("round-trips what a run learned, written whole (no temporary file left)", async () => {
    dir = await mkdtemp(join(tmpdir(), "pacing-state-"));
    const path = join(dir, "pacing.json");
    const state = { version: 1 as const, savedAt: "2026-01-01T00:00:00.000Z", baseUrl: "http://127.0.0.1:4010", partner: 40, customers: { a: 9.5 } };
    await writePacingState(path, state);
    expect(await readPacingState(path)).toEqual({ ok: true, state });
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual(state);
  });

  it("keeps every key a run saves: which estimates are long-run rates, the paces refused (where an estimate is a share of one), the call windows learnt, what slow starts admitted", async () => {
    dir = await mkdtemp(join(tmpdir(), "pacing-state-"));
    const path = join(dir, "pacing.json");
    // Every key a run saves (Required: a key added to PacingState must be added here, and then
    // must come back from the file).
    const state: Required<SavedPacingState> = {
      version: 1,
      savedAt: "2026-01-01T00:00:00.000Z",
      baseUrl: "http://127.0.0.1:4010",
      partner: 40,
      customers: { a: 9.5, b: 10.1 },
      longRun: ["b"],
      refused: { a: 13.6 },
      windows: { partner: { limit: 200, ms: 60_450 }, customers: { a: { limit: 100, ms: 10_650 } } },
      slowStart: { c: 6 },
    };
    await writePacingState(path, state);
    expect(await readPacingState(path)).toEqual({ ok: true, state });
  });

  it("a missing, broken or foreign file is no error: the run starts cold and says why", async () => {
    dir = await mkdtemp(join(tmpdir(), "pacing-state-"));
    expect(await readPacingState(join(dir, "none.json"))).toEqual({ ok: false, reason: "no pacing state yet" });
    await writeFile(join(dir, "broken.json"), "{", "utf8");
    expect(await readPacingState(join(dir, "broken.json"))).toEqual({ ok: false, reason: "the pacing state is not JSON" });
    await writeFile(join(dir, "other.json"), JSON.stringify({ version: 2, customers: {} }), "utf8");
    expect(await readPacingState(join(dir, "other.json"))).toEqual({ ok: false, reason: "the pacing state is not one this version writes" });
  });
});
