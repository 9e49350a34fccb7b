// A plain HTTP server on loopback that records every request (for client tests) and answers with
// whatever handler the test sets.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach } from "vitest";

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
  /** Which connection carried it: the client port. */
  port: number;
  /** Resolves when the server side of that connection has closed. */
  closed: Promise<void>;
}

export interface RecordingServer {
  readonly url: string;
  /** The requests received, oldest first; `forget()` empties it. */
  readonly seen: SeenRequest[];
  handler: Handler;
  forget(): void;
  close(): Promise<void>;
}

/** `seen`: the array to record into (default a new one). */
export async function startRecordingServer(seen: SeenRequest[] = []): Promise<RecordingServer> {
  const recording = {
    url: "",
    seen,
    handler: ((_req, res) => res.end()) as Handler,
    forget: () => void seen.splice(0),
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    req.on("end", () => {
      const socket = req.socket;
      const closed = socket.destroyed ? Promise.resolve() : new Promise<void>((resolve) => socket.once("close", () => resolve()));
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body, port: socket.remotePort ?? 0, closed });
      recording.handler(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  recording.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return recording;
}

/**
 * One recording server for a test file: started before its tests, its requests forgotten before
 * each test, closed after them. `seen` is the same array throughout; `url` and `handler` reach the
 * running server.
 */
export function useRecordingServer(): { readonly url: string; readonly seen: SeenRequest[]; handler: Handler; forget(): void } {
  const seen: SeenRequest[] = [];
  let server: RecordingServer | undefined;
  beforeAll(async () => {
    server = await startRecordingServer(seen);
  });
  afterAll(() => server?.close());
  beforeEach(() => server?.forget());
  return {
    seen,
    forget: () => void seen.splice(0),
    get url() {
      return server!.url;
    },
    get handler() {
      return server!.handler;
    },
    set handler(handler: Handler) {
      server!.handler = handler;
    },
  };
}
