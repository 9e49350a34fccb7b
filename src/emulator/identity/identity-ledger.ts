// What the emulator's identity endpoint counts and remembers: one counter per kind of request
// and outcome, and the last tokens, codes and PKCE verifiers it handled, so tests can assert what
// happened and that none of those secrets leaks into a client's logs or outputs.
import type { GrantAnswer, GrantOutcome } from "./token-grant.js";

/** How many issued tokens of each kind issuedTokens() remembers: bounded for long-running emulators. */
const ISSUED_MEMORY = 1000;

const COUNTER_NAMES = [
  "tokenRequests",
  "tokensIssued",
  "refreshTokensRotated",
  "supersededRefreshTokensRedeemed",
  "invalidGrant",
  "invalidClient",
  "unauthorizedClient",
  "invalidRequest",
  "invalidScope",
  "unsupportedGrantType",
  "invalidTenant",
  "openIdConfigurationRequests",
  "notFound",
  "authorizeRequests",
  "consentsAccepted",
  "consentsDeclined",
  "codesRedeemed",
  "codesRefused",
  "pkceMismatches",
] as const;
export type IdentityCounter = (typeof COUNTER_NAMES)[number];

const COUNTER_BY_OUTCOME: Record<GrantOutcome, IdentityCounter> = {
  issued: "tokensIssued",
  invalid_grant: "invalidGrant",
  invalid_client: "invalidClient",
  unauthorized_client: "unauthorizedClient",
  invalid_request: "invalidRequest",
  invalid_scope: "invalidScope",
  unsupported_grant_type: "unsupportedGrantType",
};

export interface IssuedSecrets {
  accessTokens: string[];
  refreshTokens: string[];
  codes: string[];
  codeVerifiers: string[];
}

export class IdentityLedger {
  private readonly counters = Object.fromEntries(COUNTER_NAMES.map((name) => [name, 0])) as Record<IdentityCounter, number>;
  private readonly issued: IssuedSecrets = { accessTokens: [], refreshTokens: [], codes: [], codeVerifiers: [] };

  count(name: IdentityCounter): void {
    this.counters[name] += 1;
  }

  remember(kind: keyof IssuedSecrets, secret: unknown): void {
    if (typeof secret !== "string") return;
    const list = this.issued[kind];
    list.push(secret);
    if (list.length > ISSUED_MEMORY) list.shift();
  }

  /** Counts a token endpoint's answer and remembers what it issued. */
  recordTokenAnswer(answer: GrantAnswer): void {
    this.count(COUNTER_BY_OUTCOME[answer.outcome]);
    if (answer.outcome === "issued") {
      this.remember("accessTokens", answer.body.access_token);
      this.remember("refreshTokens", answer.body.refresh_token);
    }
    if (answer.code === "redeemed") this.count("codesRedeemed");
    if (answer.code === "refused" || answer.code === "pkce-mismatch") this.count("codesRefused");
    if (answer.code === "pkce-mismatch") this.count("pkceMismatches");
    if (answer.rotated) {
      this.count("refreshTokensRotated");
      if (answer.rotated.presentedWasSuperseded) this.count("supersededRefreshTokensRedeemed");
    }
  }

  snapshot(): Record<string, number> {
    return { ...this.counters };
  }

  issuedSecrets(): IssuedSecrets {
    return { accessTokens: [...this.issued.accessTokens], refreshTokens: [...this.issued.refreshTokens], codes: [...this.issued.codes], codeVerifiers: [...this.issued.codeVerifiers] };
  }
}
