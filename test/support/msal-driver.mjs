// Runs the built token provider in its own process so NODE_EXTRA_CA_CERTS (read only at process
// start) can make it trust the identity server's self-signed certificate. Reads its script from
// AUTH_DRIVER_SCRIPT (JSON), writes one JSON event per line on stdout; pino logs (debug) on stderr.
import { pino } from "pino";
import { createAccessTokenProvider, CredentialsRefusedError } from "../../dist/partner-center/auth/index.js";

const script = JSON.parse(process.env.AUTH_DRIVER_SCRIPT ?? "{}");
const emit = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);

// Every URL MSAL fetches, to prove it never calls a host other than the configured authority.
const fetchedUrls = [];
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  fetchedUrls.push(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
  return realFetch(input, init);
};
// MSAL's network client runs on undici, whose diagnostics channel names every request it sends.
import { subscribe } from "node:diagnostics_channel";
subscribe("undici:request:create", ({ request }) => fetchedUrls.push(new URL(request.path, request.origin).href));

const logger = pino({ level: script.logLevel ?? "debug" }, pino.destination(2));
const provider = createAccessTokenProvider(script.credentials, { logger, ...(script.deps ?? {}) });

const get = async (forceRefresh) => {
  try {
    const token = await provider.getToken(forceRefresh ? { forceRefresh: true } : undefined);
    emit({ type: "token", token, atMs: Date.now() });
  } catch (error) {
    emit({
      type: "error",
      credentialsRefused: error instanceof CredentialsRefusedError,
      name: error?.name,
      reason: error?.reason,
      aadsts: error?.aadsts,
      message: String(error?.message),
    });
  }
};

for (const step of script.steps ?? []) {
  if (step.op === "get") await get(step.forceRefresh === true);
  else if (step.op === "concurrent") await Promise.all(Array.from({ length: step.n }, () => get(false)));
  else if (step.op === "poll") {
    const until = Date.now() + step.forMs;
    while (Date.now() < until) {
      await get(false);
      await new Promise((resolve) => setTimeout(resolve, step.everyMs));
    }
  } else if (step.op === "mark") emit({ type: "mark", name: step.name });
  else if (step.op === "wait") await new Promise((resolve) => setTimeout(resolve, step.ms));
}
emit({ type: "done", fetchedUrls });
logger.flush?.();
