#!/usr/bin/env node
// Combines the results CSVs of the N shards of one roster into the one results CSV a single run
// would have written. Owns only that merge: every results row is keyed by `line` (its line in the
// roster), each shard holds a disjoint set of lines (a customer's rows all hash to one shard), and
// a finished shard's file is sorted by line, so a streaming k-way merge by line gives the full
// run's file in bounded memory, and proves on the way that no line appears twice.
//
// Usage (from the repository root, after `npm ci`, or in the container image):
//   node jobs/merge-shard-results.mjs --output results/merged.results.csv shard-1.csv shard-2.csv ...
// It prints the merged rows' counts by status, and appends them as a Markdown table to
// $GITHUB_STEP_SUMMARY when that is set (the per-shard summaries stay in each shard's artifact).
// Exit codes: 0 merged; 2 bad usage, unreadable file, mismatched headers, a line in two shards,
// or a shard file that is not finalized (out of order: resume that shard so it finishes).
import { appendFileSync, createReadStream, createWriteStream } from "node:fs";
import { once } from "node:events";
import { parse } from "csv-parse";
import { stringify } from "csv-stringify/sync";

function fail(message) {
  process.stderr.write(`merge-shard-results: ${message}\n`);
  process.exit(2);
}

function usage(message) {
  fail(`${message}\nusage: node jobs/merge-shard-results.mjs --output MERGED.csv SHARD.csv [SHARD.csv ...]`);
}

function parseArguments(argv) {
  const inputs = [];
  let output;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === "--output" || arg === "-o") output = argv[++i];
    else if (arg.startsWith("--output=")) output = arg.slice("--output=".length);
    else if (arg.startsWith("-")) usage(`unknown option ${arg}`);
    else inputs.push(arg);
  }
  if (!output) usage("--output is required");
  if (inputs.length === 0) usage("no shard results files given");
  if (inputs.includes(output)) usage(`--output ${output} is one of the shard files`);
  return { inputs, output };
}

/** One shard's rows in file order, with the line number of each parsed out. */
async function openShard(path) {
  const source = createReadStream(path);
  const parser = parse({ bom: true, skip_empty_lines: true });
  // pipe() does not forward a read error (no such file) to the parser; without this it would crash.
  source.on("error", (error) => parser.destroy(error));
  const records = source.pipe(parser)[Symbol.asyncIterator]();
  const first = await records.next();
  if (first.done) throw new Error(`${path} is empty: not a results file`);
  const header = first.value;
  const lineColumn = header.indexOf("line");
  if (lineColumn < 0) throw new Error(`${path} has no "line" column: not a results file`);
  const shard = {
    path,
    header,
    current: undefined,
    previousLine: 0,
    async advance() {
      let next;
      try {
        next = await records.next();
      } catch (error) {
        // A torn last line (a crash mid-write) lands here: the shard was not finalized.
        throw new Error(`${path}: ${error.message}: the shard did not finish; run it again with --resume, then merge`);
      }
      if (next.done) {
        shard.current = undefined;
        return;
      }
      const line = Number(next.value[lineColumn]);
      if (!Number.isInteger(line) || line < 2) throw new Error(`${path}: a row has line "${next.value[lineColumn]}", expected a roster line number >= 2`);
      // A finished run writes each line once, in order; anything else is a journal that was not finalized.
      if (line <= shard.previousLine) {
        throw new Error(`${path}: line ${line} comes after line ${shard.previousLine}: the shard did not finish; run it again with --resume, then merge`);
      }
      shard.previousLine = line;
      shard.current = { line, cells: next.value };
    },
  };
  await shard.advance();
  return shard;
}

async function main() {
  const { inputs, output } = parseArguments(process.argv.slice(2));
  const shards = [];
  for (const path of inputs) {
    try {
      shards.push(await openShard(path));
    } catch (error) {
      fail(error.syscall ? `cannot read ${path}: ${error.code}` : error.message);
    }
  }
  const header = shards[0].header;
  for (const shard of shards) {
    if (shard.header.join(",") !== header.join(",")) {
      fail(`${shard.path} has columns ${shard.header.join(",")}, but ${shards[0].path} has ${header.join(",")}: results of different versions`);
    }
  }

  const out = createWriteStream(output);
  const write = async (cells) => {
    if (!out.write(stringify([cells]))) await once(out, "drain");
  };
  await write(header);
  const statusColumn = header.indexOf("status");
  const rowsByStatus = new Map();
  let rows = 0;
  let lastLine = 0;
  let lastPath = "";
  try {
    // N is small (shards), so a linear scan for the smallest line beats a heap in clarity.
    for (;;) {
      let next;
      for (const shard of shards) {
        if (shard.current && (!next || shard.current.line < next.current.line)) next = shard;
      }
      if (!next) break;
      const { line, cells } = next.current;
      if (line === lastLine) {
        throw new Error(`line ${line} is in two shard files (${lastPath} and ${next.path}): shards of different N, or a file given twice`);
      }
      await write(cells);
      rows += 1;
      if (statusColumn >= 0) {
        const status = cells[statusColumn] ?? "";
        rowsByStatus.set(status, (rowsByStatus.get(status) ?? 0) + 1);
      }
      lastLine = line;
      lastPath = next.path;
      await next.advance();
    }
  } catch (error) {
    out.destroy();
    fail(error.message);
  }
  out.end();
  await once(out, "finish");
  const counts = [...rowsByStatus].sort(([a], [b]) => a.localeCompare(b));
  process.stderr.write(`merge-shard-results: ${rows} rows from ${shards.length} shard files -> ${output}\n`);
  for (const [status, count] of counts) process.stderr.write(`  ${status}: ${count}\n`);
  if (process.env.GITHUB_STEP_SUMMARY) {
    const table = ["| status | rows |", "|---|---:|", ...counts.map(([status, count]) => `| ${status} | ${count} |`), `| **total** | ${rows} |`];
    appendFileSync(
      process.env.GITHUB_STEP_SUMMARY,
      `### Merged results of ${shards.length} shards\n\n${table.join("\n")}\n\nFile: \`${output}\`\n\n`,
    );
  }
}

await main();
