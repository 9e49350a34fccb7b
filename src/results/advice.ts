// What a user should do about each error code, as data: the one table the console summary, the
// Markdown summary and --summary-json all read. A new code's advice is one entry here.

const ADVICE: Readonly<Record<string, string>> = {
  "60012":
    "The customer has no seats left for this SKU: buy more seats (or free some), then run again with --resume; rows already assigned are kept.",
  "60002": "The user does not exist in that customer's tenant: check the userId (or userPrincipalName) and the customerId of the row.",
  "60003": "The customer was not found: check the customerId is the customer's tenant id and that it is one of your customers.",
  "900150":
    "Your partner user lacks the GDAP role for this customer: grant License Administrator, User Administrator or Directory Writers to your partner security group in the customer's GDAP relationship.",
  "20002": "There is no partner relationship with this customer: set up (or renew) the reseller/GDAP relationship first.",
  "900316":
    "The token is an app-only/partner token: license calls need an App+User token from the secure application model (PARTNER_CENTER_REFRESH_TOKEN with PARTNER_CENTER_CLIENT_ID/SECRET/TENANT_ID).",
  "900309":
    "A Conditional Access policy blocks the sign-in behind the token: exclude the service account or allow the runner's location, then mint a new refresh token.",
  "900421": "The token carries no MFA claim: redo the secure application model consent with MFA to get a new refresh token.",
  "429": "Partner Center throttled the run: lower --concurrency, run fewer shards at once, or schedule outside busy hours; --resume continues.",
  "401":
    "The token was refused (expired or invalid): a PARTNER_CENTER_ACCESS_TOKEN cannot be renewed, so mint a new one, or set the four App+User variables (PARTNER_CENTER_TENANT_ID, _CLIENT_ID, _CLIENT_SECRET, _REFRESH_TOKEN) so the runner renews tokens itself.",
  "800002": "Partner Center refused the request's input: check the row's SKU and excluded plans.",
  "400056": "Partner Center refused the request's input: check the row's SKU and excluded plans.",
  "3000": "Partner Center refused the request's input: check the row's SKU and excluded plans.",
  NETWORK_ERROR: "The network failed on every attempt: check connectivity to Partner Center, then run again with --resume.",
  UNKNOWN_SKU: "No subscribed SKU of the customer matches: use a SKU id, part number or product name the customer has (see `plan`).",
  AMBIGUOUS_SKU: "Several subscribed SKUs match that name: write the SKU id or part number instead.",
  UNKNOWN_PLAN: "An excluded plan is not a service plan of that SKU: use a plan id or service name listed in the message.",
  UNKNOWN_USER: "No user of the customer has that principal name: check the spelling, or give the userId.",
  MISSING_USER: "The row names no user: fill in userId or userPrincipalName.",
  DUPLICATE_ROW: "The same customer, user and SKU appear more than once: the first row is run, remove the others.",
  CONFLICTING_ACTIONS: "The roster both assigns and removes one SKU for one user: keep one of the two rows.",
  INTERRUPTED: "The run was stopped before these rows were sent: run again with --resume to finish.",
  NOT_SENT: "These rows were never sent: run again with --resume.",
  MALFORMED_ANSWER:
    "Partner Center's answer for this customer lacked fields every answer has (see the message): the customer's other rows ran; run again with --resume later, and report it if it persists.",
  RESULTS_UNWRITABLE:
    "The results file could not be written (disk full, a file-size limit, an I/O error): free space or fix the file, then run again with --resume: it takes the fallback file's outcomes back into the results file and does not send their rows again (outcomes printed to stderr instead are not taken back: keep them).",
  RUN_STOPPED: "The run stopped on a run-fatal error before these rows were sent: fix the cause, then run again with --resume.",
  USAGE_LOCATION_NOT_SET:
    "The user's usage location could not be set (PATCH of the user refused, see the message): your partner user needs User Administrator or Directory Writers in the customer's GDAP relationship; then run again with --resume.",
  CONFLICTING_USAGE_LOCATION: "Rows of one user give different usage locations: give the user one usageLocation.",
  NETWORK_TIMEOUT: "Partner Center did not answer in time on every attempt: check connectivity (or raise --timeout-ms), then run again with --resume.",
  NETWORK_RESET: "The connection was reset on every attempt: check the network path (proxy, firewall), then run again with --resume.",
  NETWORK_DNS: "The API's host name does not resolve: check --base-url, the DNS, or set HTTPS_PROXY when the network needs a proxy.",
  NETWORK_TLS: "The server's certificate was not trusted: behind a TLS-inspecting proxy, trust its CA with NODE_EXTRA_CA_CERTS=/path/to/ca.pem.",
  NETWORK_PROXY: "The proxy refused or failed the connection: check HTTPS_PROXY (and its credentials) and NO_PROXY.",
  USERS_PAGING_LOOP: "Paging the customer's users did not end (a repeated page or token): run again later; give user ids instead of principal names to avoid the user list.",
  WRITE_NOT_APPLIED: "Something answered 2xx without Partner Center's answer, and the user's licenses show the change did not happen: check --base-url and any proxy, then run again with --resume.",
  UNCONFIRMED_WRITE: "The write's answer could not be read and the user's licenses could not be read either: check the user in Partner Center before running again.",
};

/** The service's text for a user without a usage location (it documents no code for it). */
const NO_USAGE_LOCATION = /invalid usage location/i;

/** What to do about a failure whose message says the user has no usage location. */
function usageLocationAdvice(given: boolean): string {
  return given
    ? "The user has no (valid) usage location and this row gave none: fill in the row's usageLocation (or --usage-location CC), then run again with --resume."
    : "The user has no usage location: add a usageLocation column (ISO 3166-1 alpha-2, e.g. US) to the roster, or pass --usage-location CC, then run again with --resume; the runner sets it before assigning.";
}

/** Codes that share advice, by pattern: checked in order after the exact codes. */
const ADVICE_BY_PATTERN: readonly { pattern: RegExp; advice: string }[] = [
  { pattern: /^INVALID_/, advice: "The row's value is not valid (see the message): fix the roster row, then run again with --resume." },
  { pattern: /^(408|5\d\d)$/, advice: "Partner Center kept failing transiently for this request: run again with --resume later." },
];

/** What a user should do about an error code, for the codes we know; undefined otherwise. */
export function adviceFor(errorCode: string, context: { example?: string; usageLocationGiven?: boolean } = {}): string | undefined {
  if (context.example !== undefined && NO_USAGE_LOCATION.test(context.example)) return usageLocationAdvice(context.usageLocationGiven ?? false);
  return ADVICE[errorCode] ?? ADVICE_BY_PATTERN.find(({ pattern }) => pattern.test(errorCode))?.advice;
}
