#!/usr/bin/env node
// Combines the results CSVs of the N shards of one roster into the one results CSV a single run
// would have written. Owns only that merge: every results row is keyed by `line` (its line in the
// roster), each shard holds a disjoint set of lines (a customer's rows all hash to one shard), and
// a finished shard's file is sorted by line, so a streaming k-way merge by line gives the full
// run's file in bounded memory, and proves on the way that no line appears twice.
//
// Before it writes anything it proves the files are the N shards of ONE roster, all of them, once:
// - each file's rows hash (with the runner's own shard function) to one shard K of N: that is the
//   file's shard; two files of the same K are a duplicate, a K of 1..N with no file is missing (a
//   shard with no customers has a header-only file: it fills a gap, as long as N files are given);
// - each file's sidecar `<file>.run.json` (written by the runner beside its results) names the same
//   roster fingerprint. What this relies on, so the sidecar may grow: a JSON object with the
//   fingerprint as `fingerprint` (a string, or an object compared as a whole), or failing that
//   `rosterFingerprint` or `roster.fingerprint`. Nothing else of the sidecar is read.
//
// Usage (from the repository root after `npm ci`, which builds dist/; in the image; or from an
// installed package: it uses the package's dist/):
//   node jobs/merge-shard-results.mjs --shards N --output results/merged.results.csv shard-1.csv ... shard-N.csv
// It prints the merged rows' counts by status, and appends them as a Markdown table to
// $GITHUB_STEP_SUMMARY when that is set (the per-shard summaries stay in each shard's artifact).
// The merged file starts with the byte-order mark the shards' files start with (Excel needs it to
// read UTF-8).
// Exit codes: 0 merged; 2 bad usage, unreadable file, a missing or duplicate shard, shards of
// different rosters (or a sidecar missing), mismatched headers, a line in two shards, or a shard
// file that is not finalized (out of order: resume that shard so it finishes).
import { appendFileSync, createReadStream, createWriteStream, openSync, readSync, closeSync, readFileSync } from "node:fs";
import { once } from "node:events";
import { parse } from "csv-parse";
import { stringify } from "csv-stringify/sync";

function fail(message) {
  process.stderr.write(`merge-shard-results: ${message}\n`);
  process.exit(2);
}

function usage(message) {
  fail(`${message}\nusage: node jobs/merge-shard-results.mjs --shards N --output MERGED.csv SHARD-1.csv ... SHARD-N.csv`);
}

function parseArguments(argv) {
  const inputs = [];
  let output;
  let shards;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === "--output" || arg === "-o") output = argv[++i];
    else if (arg.startsWith("--output=")) output = arg.slice("--output=".length);
    else if (arg === "--shards") shards = argv[++i];
    else if (arg.startsWith("--shards=")) shards = arg.slice("--shards=".length);
    else if (arg.startsWith("-")) usage(`unknown option ${arg}`);
    else inputs.push(arg);
  }
  if (!output) usage("--output is required");
  if (inputs.length === 0) usage("no shard results files given");
  if (inputs.includes(output)) usage(`--output ${output} is one of the shard files`);
  if (shards === undefined) usage("--shards N is required: the N of the runs' --shard K/N, so a missing shard is noticed");
  const count = Number(shards);
  if (!/^\d+$/.test(shards) || count < 1) usage(`--shards ${shards}: expected a whole number of 1 or more`);
  if (inputs.length > count) usage(`${inputs.length} shard files given for --shards ${count}: a shard given twice, or a file of another run`);
  return { inputs, output, count };
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

/** The runner's own shard function and cell guard, from the built package beside this script. */
async function runnerModules() {
  try {
    const [{ shardOf }, { restoreCell }] = await Promise.all([import("../dist/plan/shard.js"), import("../dist/results/csv-cells.js")]);
    return { shardOf, restoreCell };
  } catch (error) {
    fail(`cannot load the runner's dist/ beside this script (${error.code ?? error.message}): build it first (npm ci builds it)`);
  }
}

/** The roster fingerprint in a shard's sidecar, read tolerantly (see the top of this file). */
function rosterFingerprint(path) {
  const sidecar = `${path}.run.json`;
  let record;
  try {
    record = JSON.parse(readFileSync(sidecar, "utf8").replace(/^\uFEFF/, ""));
  } catch (error) {
    fail(
      error.code === "ENOENT"
        ? `${sidecar} is missing: each shard's results need the sidecar the runner wrote beside them (it names the roster); copy them together`
        : `${sidecar} cannot be read: ${error.code ?? error.message}`,
    );
  }
  const candidate = record?.fingerprint ?? record?.rosterFingerprint ?? record?.roster?.fingerprint;
  if (candidate === undefined || candidate === null || candidate === "") {
    fail(`${sidecar} names no roster fingerprint (a run from stdin?): cannot prove the shards are of one roster`);
  }
  return typeof candidate === "string" ? candidate : JSON.stringify(candidate);
}

/** Which shard K of `count` a results file holds, from its rows' customers; undefined for a file with no rows. */
async function shardOfFile(path, count, { shardOf, restoreCell }) {
  const parser = createReadStream(path).pipe(parse({ bom: true, skip_empty_lines: true, relax_column_count: true }));
  let customerColumn = -1;
  let found;
  for await (const cells of parser) {
    if (customerColumn < 0) {
      customerColumn = cells.indexOf("customerId");
      if (customerColumn < 0) throw new Error(`${path} has no "customerId" column: not a results file`);
      continue;
    }
    const customer = restoreCell(cells[customerColumn] ?? "");
    const shard = shardOf(customer, count);
    if (found === undefined) found = { shard, customer };
    else if (found.shard !== shard) {
      throw new Error(
        `${path} holds rows of shard ${found.shard} (customer ${found.customer}) and of shard ${shard} (customer ${customer}) of ${count}: ` +
          `not one shard of --shards ${count} (the runs used another N?)`,
      );
    }
  }
  return found?.shard;
}

/** Refuses files that are not exactly the `count` shards of one roster; returns nothing when they are. */
async function checkShardSet(inputs, count) {
  const fingerprints = inputs.map((path) => ({ path, fingerprint: rosterFingerprint(path) }));
  const other = fingerprints.find(({ fingerprint }) => fingerprint !== fingerprints[0].fingerprint);
  if (other) {
    fail(
      `shards of different rosters: ${fingerprints[0].path} was written for roster ${fingerprints[0].fingerprint}, ` +
        `${other.path} for ${other.fingerprint} (see their .run.json sidecars); merge only the shards of one roster`,
    );
  }
  const modules = await runnerModules();
  const byShard = new Map();
  let withoutRows = 0;
  for (const path of inputs) {
    let shard;
    try {
      shard = await shardOfFile(path, count, modules);
    } catch (error) {
      fail(error.syscall ? `cannot read ${path}: ${error.code}` : error.message);
    }
    if (shard === undefined) {
      withoutRows += 1;
      continue;
    }
    if (byShard.has(shard)) fail(`shard ${shard} of ${count} is given twice: ${byShard.get(shard)} and ${path}`);
    byShard.set(shard, path);
  }
  // N files of N distinct shards (header-only files standing for shards with no customers) are all N.
  if (inputs.length < count) {
    const missing = [...Array(count).keys()].map((k) => k + 1).filter((k) => !byShard.has(k));
    const empty = withoutRows > 0 ? ` (${withoutRows} of the files given hold no rows: each stands for one of those)` : "";
    fail(
      `missing shard: ${inputs.length} file(s) given for --shards ${count}; no file holds the rows of shard ${missing.join(", ")} of ${count}${empty}. ` +
        `Wait for every shard to finish (or resume the failed ones), then merge all ${count}`,
    );
  }
}

/** Whether the file starts with a UTF-8 byte-order mark. */
function startsWithBom(path) {
  const bytes = Buffer.alloc(3);
  const handle = openSync(path, "r");
  try {
    return readSync(handle, bytes, 0, 3, 0) === 3 && bytes.equals(Buffer.from([0xef, 0xbb, 0xbf]));
  } finally {
    closeSync(handle);
  }
}

async function main() {
  const { inputs, output, count } = parseArguments(process.argv.slice(2));
  await checkShardSet(inputs, count);
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
  const write = async (text) => {
    if (!out.write(text)) await once(out, "drain");
  };
  // Excel reads a CSV as UTF-8 only after a byte-order mark; the runner writes one, so keep it.
  await write(`${startsWithBom(inputs[0]) ? "\uFEFF" : ""}${stringify([header])}`);
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
      await write(stringify([cells]));
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
