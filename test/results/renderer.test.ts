import { describe, expect, it } from "vitest";
import {
  markdownText,
  renderConsoleSummary,
  renderMarkdownSummary,
  renderProgressLine,
  renderSeatCheckTable,
} from "../../dist/results/renderer.js";
import { sampleSummary } from "../support/sample-summary.js";

/** The cells of the Markdown table row whose first cell is `first`. */
function tableRow(markdown: string, first: string): string[] | undefined {
  const line = markdown.split("\n").find((text) => text.startsWith(`| ${first} |`));
  return line
    ?.split(/(?<!\\)\|/)
    .slice(1, -1)
    .map((cell) => cell.trim());
}

describe("renderer", () => {
  it("renders the Markdown summary with the counts, customers, SKUs, errors and seat check", () => {
    const markdown = renderMarkdownSummary(sampleSummary().toJSON(), { resultsPath: "out/results.csv" });
    expect(markdown).toMatch(/^## license-runner run\n/);
    expect(markdown).toContain("**7 rows** in 2m 05s: 2 assigned, 1 skipped, 3 failed, 1 invalid. 9 requests sent, 3 throttled.");
    expect(tableRow(markdown, "assigned")).toEqual(["assigned", "2"]);
    expect(tableRow(markdown, "failed")).toEqual(["failed", "3"]);
    expect(markdown).toContain("| customer | rows | assigned | skipped | failed | invalid |");
    expect(tableRow(markdown, "7a1b2c3d-4444-4555-8666-977788889999")).toEqual(["7a1b2c3d-4444-4555-8666-977788889999", "4", "0", "1", "2", "1"]);
    expect(tableRow(markdown, "0c6f1a2b-1111-4222-8333-944455556666")?.slice(0, 5)).toEqual(["0c6f1a2b-1111-4222-8333-944455556666", "3", "2", "0", "1"]);
    expect(tableRow(markdown, "SPE\\_E3")?.slice(0, 3)).toEqual(["SPE\\_E3", "05e9a617-0261-4cee-bb44-138d3ef5d965", "6"]);
    const gdap = tableRow(markdown, "900150");
    expect(gdap?.slice(0, 4)).toEqual(["900150", "2", "403", "role \\| missing"]);
    expect(gdap?.[4]).toMatch(/GDAP role/);
    expect(tableRow(markdown, "60012")?.[4]).toMatch(/buy more seats/i);
    expect(tableRow(markdown, "0c6f1a2b-1111-4222-8333-944455556666", )).toBeDefined();
    expect(markdown).toContain("| 0c6f1a2b-1111-4222-8333-944455556666 | Microsoft 365 E3 | group1 | 3 | 0 | 2 | **1** |");
    expect(markdown).toContain("Results: `out/results.csv`");
  });

  it("keeps hostile values from breaking Markdown tables or injecting HTML", () => {
    expect(markdownText("a|b\n<script>x</script>")).toBe("a\\|b &lt;script&gt;x&lt;/script&gt;");
  });

  it("renders the console summary with top errors and advice and the results path", () => {
    const text = renderConsoleSummary(sampleSummary().toJSON(), { resultsPath: "out/results.csv", maxErrors: 2 });
    const lines = text.trimEnd().split("\n");
    expect(lines[0]).toBe("run: 7 rows in 2m 05s: 2 assigned, 1 skipped, 3 failed, 1 invalid.");
    expect(text).toContain("9 requests sent, 3 throttled.");
    expect(text).toContain("900150: 2 rows (role | missing)");
    expect(text).toMatch(/-> .*GDAP role/);
    expect(text).toContain("60012: 1 row");
    expect(text).not.toContain("UNKNOWN_SKU");
    expect(text).toContain("... and 1 more error codes.");
    expect(text).toContain("Seat shortfall: 1 seat missing");
    expect(lines.at(-1)).toBe("  Results: out/results.csv");
  });

  it("says which bound held the run: the allowance, --concurrency or the answer time", () => {
    const summary = sampleSummary();
    expect(renderConsoleSummary(summary.toJSON())).not.toContain("Bound by");
    summary.setPacing({ boundBy: "concurrency", concurrency: 8, mostInFlight: 8, latencyMs: 502 });
    expect(summary.toJSON().pacing).toEqual({ boundBy: "concurrency", concurrency: 8, mostInFlight: 8, latencyMs: 502 });
    expect(renderConsoleSummary(summary.toJSON())).toContain("  Bound by --concurrency: at most 8 of 8 requests in flight, 502 ms a call.\n");
    summary.setPacing({ boundBy: "allowance", concurrency: 32, mostInFlight: 12 });
    expect(summary.toJSON().pacing!.latencyMs).toBeNull();
    expect(renderConsoleSummary(summary.toJSON())).toContain("  Bound by the API's allowance (paced): at most 12 of 32 requests in flight.\n");
  });

  it("renders the seat check as an aligned table", () => {
    const table = renderSeatCheckTable(sampleSummary().toJSON().seatCheck);
    const lines = table.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^customer\s+sku\s+group\s+assign\s+remove\s+available\s+shortfall$/);
    expect(lines[1]).toMatch(/^0c6f1a2b-1111-4222-8333-944455556666\s+Microsoft 365 E3\s+group1\s+3\s+0\s+2\s+1 SHORT$/);
    expect(lines[0]!.indexOf("sku")).toBe(lines[1]!.indexOf("Microsoft"));
    expect(lines[2]).toBe("Seat check: 1 customer SKU short of seats.");
    expect(renderSeatCheckTable([])).toMatch(/nothing to assign/);
  });

  it("renders the progress line and keeps it within the terminal width", () => {
    const snapshot = { done: 250, total: 1000, assigned: 240, removed: 0, failed: 10, invalid: 0, throttled: 4, rowsPerSecond: 12.5, etaMs: 60_000 };
    expect(renderProgressLine(snapshot)).toBe("250/1000 rows (25%) | 240 assigned | 10 failed | 4 throttled | 12.5 rows/s | ETA 1m 00s");
    expect(renderProgressLine({ ...snapshot, rowsPerSecond: undefined, etaMs: undefined })).toContain("-- rows/s | ETA --");
    expect(renderProgressLine(snapshot, 20)).toHaveLength(19);
  });
});
