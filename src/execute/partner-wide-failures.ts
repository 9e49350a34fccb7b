// Failures that are not about one row or one customer but about the partner's credentials or the
// network: the same credential- or network-level answer from calls of different customers means
// every other call will get it too, so the run stops (run-fatal, exit 4) with one message saying
// what to fix, instead of failing every customer one by one.
//
// - App-only credentials: "This resource can't be accessed by application credentials." (403, also
//   seen as 500; Microsoft Q&A "Partner Centre API", PartnerCenterSamples/Reseller-Web-Application#13).
// - 403 900150 from every customer: the partner user lacks its GDAP role everywhere. A single
//   customer's 900150 is that customer's; it is partner-wide only from five customers while no
//   call has succeeded.
// - The host name does not resolve, the TLS certificate is not trusted, the proxy refuses: the
//   network between the runner and Partner Center, the same for every call.
//
// A success of any call ends a streak: what works for one customer is not a partner-wide fault.
import type { CallFailure } from "../model.js";

interface Signature {
  code: string;
  /** Distinct customers that must answer alike before the run stops. */
  customers: number;
  /** Only while no call of the run has succeeded. */
  onlyBeforeAnySuccess?: boolean;
  matches(failure: CallFailure): boolean;
  advice: string;
}

const APP_CREDENTIALS = /can(?:'|&#39;|no)t be accessed by application credentials/i;

const SIGNATURES: readonly Signature[] = [
  {
    code: "APP_CREDENTIALS_REFUSED",
    customers: 2,
    matches: (f) => (f.httpStatus === 403 || f.httpStatus === 500) && (f.errorCode === "900329" || APP_CREDENTIALS.test(f.message)),
    advice:
      "Partner Center refuses application (app-only) credentials on every customer: these calls need an App+User token of a partner user " +
      "(the secure application model). Set PARTNER_CENTER_TENANT_ID, _CLIENT_ID, _CLIENT_SECRET and _REFRESH_TOKEN (run `license-runner login` once), " +
      "or a delegated PARTNER_CENTER_ACCESS_TOKEN, not a client-credentials token.",
  },
  {
    code: "PARTNER_ROLE_MISSING",
    // Five: more than the lookups one run has in flight at the start (the first customer and four
    // read ahead), so customers that do work have answered before a streak can reach it.
    customers: 5,
    onlyBeforeAnySuccess: true,
    matches: (f) => f.httpStatus === 403 && f.errorCode === "900150",
    advice:
      "Every customer answers 403 900150 (the supplied role does not have the rights): the partner user behind the token lacks its GDAP role. " +
      "Add the user to the security group the GDAP relationships grant License Administrator or User Administrator to, or sign in as a user who is in it.",
  },
  {
    code: "NETWORK_DNS",
    customers: 2,
    matches: (f) => f.errorCode === "NETWORK_DNS",
    advice:
      "The Partner Center host name does not resolve on this network: check --base-url / PARTNER_CENTER_BASE_URL and DNS; " +
      "on a network that reaches the internet only through a proxy, set HTTPS_PROXY (and NO_PROXY for hosts to reach directly).",
  },
  {
    code: "NETWORK_TLS",
    customers: 2,
    matches: (f) => f.errorCode === "NETWORK_TLS",
    advice:
      "The TLS certificate presented for Partner Center is not trusted: a TLS-inspecting proxy or firewall re-signs the connection. " +
      "Add its CA certificate with NODE_EXTRA_CA_CERTS=/path/to/ca.pem, or exempt the Partner Center hosts from inspection.",
  },
  {
    code: "NETWORK_PROXY",
    customers: 2,
    matches: (f) => f.errorCode === "NETWORK_PROXY",
    advice:
      "The proxy refuses the connection to Partner Center: check HTTPS_PROXY / HTTP_PROXY (its address, and the user and password in the URL " +
      "if it needs them) and NO_PROXY.",
  },
];

export class PartnerWideFailures {
  private readonly streaks = new Map<string, Set<string>>();
  private anySuccess = false;

  /** A call succeeded: whatever streak was building is not partner-wide. */
  noteSuccess(): void {
    this.anySuccess = true;
    if (this.streaks.size > 0) this.streaks.clear();
  }

  /**
   * The failure as the run should treat it: unchanged, or (once the same credential- or
   * network-level failure has come from enough different customers) run-fatal with the advice.
   */
  escalate(customerId: string, failure: CallFailure): CallFailure {
    if (failure.scope === "run") return failure;
    const signature = SIGNATURES.find((s) => s.matches(failure));
    if (!signature || (signature.onlyBeforeAnySuccess && this.anySuccess)) return failure;
    let customers = this.streaks.get(signature.code);
    if (!customers) this.streaks.set(signature.code, (customers = new Set()));
    customers.add(customerId.toLowerCase());
    if (customers.size < signature.customers) return failure;
    return { ...failure, scope: "run", errorCode: signature.code, message: `${signature.advice} (last answer: ${failure.message})` };
  }
}
