// MSAL's own log lines, routed to the project's pino logger at debug with PII logging off. MSAL
// does not log tokens with PII off, but its lines can quote server answers; so every line is also
// scrubbed of the secrets this process knows and of anything shaped like a token before it leaves.
import { LogLevel, type NodeSystemOptions } from "@azure/msal-node";
import type { Logger } from "pino";

const REDACTED = "[redacted]";
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Runs of token alphabet long enough to be a token, JWT segments or an opaque secret. */
const TOKEN_LIKE = /[A-Za-z0-9_\-.~+=/]{24,}/g;

/** Removes known secrets and token-shaped strings from text bound for a log. */
export class SecretScrubber {
  private readonly secrets = new Set<string>();

  remember(secret: string | undefined | null): void {
    if (secret && secret.length >= 4) this.secrets.add(secret);
  }

  scrub(text: string): string {
    let out = text;
    for (const secret of this.secrets) out = out.split(secret).join(REDACTED);
    return out.replace(TOKEN_LIKE, scrubRun);
  }
}

/**
 * A run goes when it mixes letters and digits like a token does; GUIDs (correlation ids) and plain
 * words stay. URL paths are judged segment by segment so endpoints stay readable.
 */
function scrubRun(run: string): string {
  return run
    .split("/")
    .map((segment) => (segment.length >= 24 && !GUID.test(segment) && /[0-9]/.test(segment) && /[A-Za-z]/.test(segment) ? REDACTED : segment))
    .join("/");
}

export function msalLoggerOptions(logger: Logger, scrubber: SecretScrubber): NonNullable<NodeSystemOptions["loggerOptions"]> {
  return {
    piiLoggingEnabled: false,
    // MSAL builds its verbose lines only if asked: ask only when they would be written.
    logLevel: logger.isLevelEnabled("debug") ? LogLevel.Verbose : LogLevel.Error,
    loggerCallback: (level: LogLevel, message: string, containsPii: boolean) => {
      if (containsPii) return; // never forwarded, whatever MSAL's settings
      logger.debug({ msalLevel: LogLevel[level] }, scrubber.scrub(message));
    },
  };
}
