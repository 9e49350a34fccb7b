// The one root logger: pino on stderr (stdout stays clean), JSON or pretty. Redaction is only the
// safety net: code never hands a token, secret or header bag to a log call.
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

export function createLogger(level: LogLevel, format: LogFormat): Logger {
  const options = { level, base: undefined, redact: { paths: REDACTED_PATHS, censor: "[redacted]" } };
  if (format === "pretty") {
    return pino(options, pretty({ destination: 2, sync: true, colorize: process.stderr.isTTY, ignore: "pid,hostname" }));
  }
  return pino(options, pino.destination({ dest: 2, sync: true }));
}
