// End to end: the package installs like a released CLI. A copy of the sources with no dist/ is
// packed with `npm pack` (its prepare script builds), the tarball's file list holds only what runs,
// and the tarball installed into an empty prefix (offline: the dependencies come from the npm cache
// that `npm ci` filled) answers --version and --help and runs the demo from an unrelated directory.
import { spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, readResults, REPO } from "../support/cli.js";

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function exec(command: string, args: string[], cwd: string): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: cleanEnv({ npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false" }) });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** npm itself: the one running this suite when there is one, so the Node under test runs it too. */
function npm(args: string[], cwd: string): Promise<Exit> {
  const cli = process.env.npm_execpath;
  return cli && /npm-cli\.js$/.test(cli) ? exec(process.execPath, [cli, ...args], cwd) : exec("npm", args, cwd);
}

interface Manifest {
  name: string;
  version: string;
  license: string;
  bin: Record<string, string>;
  engines: Record<string, string>;
  dependencies: Record<string, string>;
}

/**
 * A lock file for an empty prefix that installs the tarball with the dependency versions of the
 * project's own lock file: `npm ci --offline` then needs no registry metadata, only the tarballs
 * `npm ci` already put in the cache, as on a fresh CI machine.
 */
async function prefixLock(tarball: string, manifest: Manifest): Promise<{ packageJson: object; lock: object }> {
  const projectLock = JSON.parse(await readFile(join(REPO, "package-lock.json"), "utf8")) as { packages: Record<string, { dev?: boolean; devOptional?: boolean }> };
  const spec = `file:${tarball}`;
  const packages: Record<string, unknown> = {
    "": { name: "install-check", dependencies: { [manifest.name]: spec } },
    [`node_modules/${manifest.name}`]: {
      version: manifest.version,
      resolved: spec,
      license: manifest.license,
      dependencies: manifest.dependencies,
      bin: manifest.bin,
      engines: manifest.engines,
    },
  };
  for (const [path, entry] of Object.entries(projectLock.packages)) {
    if (path !== "" && !entry.dev && !entry.devOptional) packages[path] = entry;
  }
  return {
    packageJson: { name: "install-check", private: true, dependencies: { [manifest.name]: spec } },
    lock: { name: "install-check", lockfileVersion: 3, requires: true, packages },
  };
}

let work: string;
let files: string[];
let installedBin: string;
let manifest: Manifest;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "lr-package-"));
  manifest = JSON.parse(await readFile(join(REPO, "package.json"), "utf8")) as Manifest;

  // A checkout with no dist/: what a git install or a release build starts from.
  const checkout = join(work, "checkout");
  await mkdir(checkout);
  for (const entry of ["package.json", "package-lock.json", "tsconfig.json", "README.md", "LICENSE", "src", "fixtures", "jobs"]) {
    await cp(join(REPO, entry), join(checkout, entry), { recursive: true });
  }
  await symlink(join(REPO, "node_modules"), join(checkout, "node_modules"), "dir");
  const packed = await npm(["pack", "--json", "--pack-destination", work], checkout);
  expect(packed.code, packed.stderr).toBe(0);
  const [report] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("["))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  files = report!.files.map((file) => file.path);
  const tarball = join(work, report!.filename);

  const prefix = join(work, "prefix");
  await mkdir(prefix);
  const { packageJson, lock } = await prefixLock(tarball, manifest);
  await writeFile(join(prefix, "package.json"), JSON.stringify(packageJson, null, 2));
  await writeFile(join(prefix, "package-lock.json"), JSON.stringify(lock, null, 2));
  const installed = await npm(["ci", "--offline", "--no-audit", "--no-fund"], prefix);
  expect(installed.code, installed.stderr).toBe(0);
  installedBin = join(prefix, "node_modules", ".bin", "license-runner");
}, 300_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("the packed tarball", () => {
  it("was built by npm pack from a checkout without dist/", () => {
    expect(files).toContain("dist/cli.js");
    expect(files).toContain("package.json");
    expect(files).toContain("LICENSE");
    expect(files).toContain("fixtures/demo/roster.csv");
    expect(files).toContain("fixtures/emulator/demo-state.json");
  });

  it("ships no source map, no benchmark, no test code and no test data", () => {
    expect(files.filter((path) => path.endsWith(".map"))).toEqual([]);
    expect(files.filter((path) => /(^|\/)(bench|test|tests)(\/|$)/.test(path))).toEqual([]);
    expect(files.filter((path) => /\.test\.|^fixtures\/rosters\//.test(path))).toEqual([]);
    expect(files.filter((path) => path.startsWith("src/"))).toEqual([]);
  });
});

describe("the installed command, from an unrelated directory", () => {
  it("prints the package's own version and its help", async () => {
    const elsewhere = await mkdtemp(join(work, "elsewhere-"));
    // A host project with a version of its own must not leak into --version.
    await writeFile(join(elsewhere, "package.json"), JSON.stringify({ name: "host", version: "9.9.9" }));
    const version = await exec(installedBin, ["--version"], elsewhere);
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(manifest.version);
    const help = await exec(installedBin, ["--help"], elsewhere);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/run .*plan .*demo/s);
  });

  it("runs the demo, writing its results into the current directory", async () => {
    const elsewhere = await mkdtemp(join(work, "demo-"));
    const demo = await exec(installedBin, ["demo", "--no-progress"], elsewhere);
    expect(demo.code, demo.stderr).toBe(3); // the demo roster holds rows that fail by design
    const results = await readResults(join(elsewhere, "demo.results.csv"));
    expect(results).toHaveLength(30);
    expect(results.filter((row) => row.status === "assigned").length).toBe(18);
    expect(existsSync(join(elsewhere, "demo.summary.json"))).toBe(true);
  });
});
