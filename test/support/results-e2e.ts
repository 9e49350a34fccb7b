// Helpers of the "the results file never lies" end-to-end tests: the built CLI run as a user
// would, optionally as another user (real EACCES; the tests run as root) or under a file-size
// limit (`ulimit -f`, through bash), and a small fault proxy that rewrites one endpoint's answers
// where the emulator cannot misbehave on its own.
import { spawn } from "node:child_process";
import { createServer, request, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { CLI, REPO, type CliRun } from "./cli.js";

/** The CLI under test; LICENSE_RUNNER_CLI points the same tests at another build (to show them failing before a fix). */
export const CLI_UNDER_TEST = process.env.LICENSE_RUNNER_CLI ?? CLI;

export interface SpawnOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this uid/gid (e.g. nobody: 65534). */
  user?: { uid: number; gid: number };
  /** `ulimit -f` in 512-byte blocks. */
  fileSizeLimitBlocks?: number;
  /** Pipe stdout and stderr into `head -c N`, which reads N bytes and closes the pipe (as `| head` does). */
  outputClosedAfterBytes?: number;
  /** Called with the child once it runs (to signal it, or to close its pipes). */
  onSpawn?: (child: ReturnType<typeof spawn>) => void;
}

export function runCliWith(args: string[], options: SpawnOptions): Promise<CliRun> {
  const node = process.execPath;
  const [command, argv] =
    options.outputClosedAfterBytes !== undefined
      ? ["bash", ["-c", `"$0" "$@" 2>&1 | head -c ${options.outputClosedAfterBytes} >/dev/null; exit "\${PIPESTATUS[0]}"`, node, CLI_UNDER_TEST, ...args]]
      : options.fileSizeLimitBlocks === undefined
        ? [node, [CLI_UNDER_TEST, ...args]]
        : ["bash", ["-c", `ulimit -f ${options.fileSizeLimitBlocks}; exec "$0" "$@"`, node, CLI_UNDER_TEST, ...args]];
  const child = spawn(command, argv, {
    cwd: options.cwd ?? REPO,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
    ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  options.onSpawn?.(child);
  return new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
}

export const NOBODY = { uid: 65534, gid: 65534 };

export interface FaultProxy {
  url: string;
  close(): Promise<void>;
}

/**
 * A loopback proxy in front of the emulator: requests whose path matches `match` get their answer
 * body passed through `rewrite`; everything else is relayed unchanged.
 */
export async function startFaultProxy(target: string, match: RegExp, rewrite: (body: string) => string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const forward = request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
        (answer: IncomingMessage) => {
          const body: Buffer[] = [];
          answer.on("data", (chunk: Buffer) => body.push(chunk));
          answer.on("end", () => {
            let text = Buffer.concat(body).toString("utf8");
            if (match.test(req.url ?? "")) text = rewrite(text);
            const headers = { ...answer.headers };
            delete headers["content-length"];
            delete headers["transfer-encoding"];
            res.writeHead(answer.statusCode ?? 502, { ...headers, "content-length": Buffer.byteLength(text) });
            res.end(text);
          });
        },
      );
      forward.on("error", () => res.destroy());
      forward.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
