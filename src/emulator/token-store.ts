// Access tokens the emulator accepts: the static ones of the state file and those its identity
// endpoint mints. Shared by the API side (which checks them) and the identity side (which issues them).
import { randomBytes } from "node:crypto";
import type { StaticAccessToken, TokenKind } from "./state-file.js";

export type TokenCheck =
  | { valid: true; kind: TokenKind }
  | { valid: false; reason: "missing" | "unknown" | "expired" };

interface HeldToken {
  kind: TokenKind;
  expiresAtMs: number; // Infinity: never
}

export class TokenStore {
  private readonly tokens = new Map<string, HeldToken>();
  private mintedCount = 0;

  constructor(
    initial: readonly StaticAccessToken[],
    private readonly now: () => number = Date.now,
  ) {
    for (const t of initial) {
      this.tokens.set(t.token, { kind: t.kind, expiresAtMs: t.expiresAt ? Date.parse(t.expiresAt) : Infinity });
    }
  }

  /** Judge an Authorization header value ("Bearer x"). */
  check(authorization: string | undefined): TokenCheck {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
    if (!match?.[1]) return { valid: false, reason: "missing" };
    const held = this.tokens.get(match[1]);
    if (!held) return { valid: false, reason: "unknown" };
    if (this.now() >= held.expiresAtMs) return { valid: false, reason: "expired" };
    return { valid: true, kind: held.kind };
  }

  /** Mint a new opaque access token living `lifetimeSeconds`. */
  mint(kind: TokenKind, lifetimeSeconds: number): { token: string; expiresAtMs: number } {
    const token = `emu-at-${randomBytes(24).toString("base64url")}`;
    const expiresAtMs = this.now() + lifetimeSeconds * 1000;
    this.tokens.set(token, { kind, expiresAtMs });
    this.mintedCount += 1;
    return { token, expiresAtMs };
  }

  /** How many tokens the identity endpoint has minted (a counter tests read). */
  get minted(): number {
    return this.mintedCount;
  }
}
