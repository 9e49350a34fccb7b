// The one root logger: pino on stderr (stdout stays clean), JSON or pretty. Redaction is only the
// safety net: code never hands a token, secret or header bag to a log call.
import { Writable } from "node:stream";
import { pino, type Logger } from "pino";
import pretty from "pino-pretty";
import type { LogFormat, LogLevel } from "./config.js";

export const REDACTED_PATHS = [
  "authorization",
  "*.authorization",
  "headers",
  "*.headers",
  "accessToken",
  "*.accessToken",
  "refreshToken",
  "*.refreshToken",
  "clientSecret",
  "*.clientSecret",
  "token",
  "*.token",
  "secret",
  "*.secret",
];

/** `progressLine`: a live progress line is drawn on this terminal (log lines then clear it first). */
export function createLogger(level: LogLevel, format: LogFormat, terminal: { progressLine?: boolean } = {}): Logger {
  const options = { level, base: undefined, redact: { paths: REDACTED_PATHS, censor: "[redacted]" } };
  if (format === "pretty") {
    const destination = terminal.progressLine && process.stderr.isTTY ? clearingProgressLine(process.stderr) : 2;
    return pino(options, pretty({ destination, sync: true, colorize: process.stderr.isTTY, ignore: "pid,hostname" }));
  }
  return pino(options, pino.destination({ dest: 2, sync: true }));
}

/**
 * One error line on stderr for a run that stops before (or without) its logger: plain text for a
 * person, or one JSON record when the logs are JSON, so every stderr line of a JSON run parses.
 */
export function writeErrorLine(format: LogFormat | undefined, message: string, exitCode = 2): void {
  if (format === "json") createLogger("error", "json").error({ exitCode }, message);
  else process.stderr.write(`license-runner: ${message}\n`);
}

/**
 * On a terminal the progress line is redrawn in place; a log line written over it would be glued
 * to its end. Clearing the line first lets the log line take its place; progress redraws below it.
 */
function clearingProgressLine(terminal: NodeJS.WriteStream): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      terminal.write("\r\x1b[2K");
      terminal.write(chunk, done);
    },
  });
}
