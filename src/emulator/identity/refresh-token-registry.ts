// The emulator's refresh tokens: those of the state file and those it issues when it rotates them.
// Owns the judgement of a presented refresh token (unknown, expired, revoked, issued to another
// client, superseded, used up) and rotation. Tokens descend from a state-file token or from a
// consent (their "lineage"), which stands for one consented partner user; revoking a lineage
// revokes every token issued from it.
import { createHash, randomBytes } from "node:crypto";
import type { IdentityState, TokenKind } from "../state-file.js";

/** How long an issued refresh token lives, as AAD's inactivity window: 90 days. */
export const ISSUED_REFRESH_TOKEN_LIFETIME_SECONDS = 90 * 24 * 3600;

export type RefreshTokenRefusal = "unknown" | "expired" | "revoked" | "other-client" | "superseded";

export type RedeemOutcome =
  | {
      ok: true;
      kind: TokenKind;
      /** The partner user the lineage stands for (id_token oid, client_info uid). */
      userObjectId: string;
      newRefreshToken: string;
      /** The presented token had already been rotated and was used inside the grace period. */
      presentedWasSuperseded: boolean;
    }
  | { ok: false; reason: RefreshTokenRefusal; issuedAtMs?: number };

/**
 * When a refresh token that has been used expires: after `maxUses` redemptions, or
 * `expirySecondsAfterUse` after its first one. AAD's own window is 90 days; these shorten it so
 * a test sees in seconds what a partner who reuses one refresh token sees on day 91.
 */
export interface RefreshTokenUsePolicy {
  maxUses?: number | undefined;
  expirySecondsAfterUse?: number | undefined;
}

interface HeldRefreshToken {
  clientId: string;
  kind: TokenKind;
  lineage: string;
  issuedAtMs: number;
  expiresAtMs: number; // Infinity: never
  revoked: boolean;
  /** When a newer token replaced this one; it stays usable for the grace period after. */
  supersededAtMs?: number;
  uses: number;
  firstUsedAtMs?: number;
}

export class RefreshTokenRegistry {
  private readonly tokens = new Map<string, HeldRefreshToken>();
  private readonly revokedLineages = new Set<string>();
  private readonly userByLineage = new Map<string, string>();

  constructor(
    identity: IdentityState,
    private readonly now: () => number,
    /** Seconds a rotated (superseded) token still works: lets shards started together share one. */
    private readonly rotationGraceSeconds: number,
    private readonly usePolicy: RefreshTokenUsePolicy = {},
  ) {
    for (const t of identity.refreshTokens) {
      const lineage = t.token;
      this.tokens.set(t.token, {
        clientId: t.clientId,
        kind: t.kind ?? "app+user",
        lineage,
        issuedAtMs: now(),
        expiresAtMs: t.expiresAt ? Date.parse(t.expiresAt) : Infinity,
        revoked: t.revoked === true,
        uses: 0,
      });
      this.userByLineage.set(lineage, userObjectIdFor(lineage));
    }
  }

  /** Judge a presented refresh token for `clientId`; on success rotate it. */
  redeem(presented: string, clientId: string): RedeemOutcome {
    const held = this.tokens.get(presented);
    if (!held) return { ok: false, reason: "unknown" };
    const now = this.now();
    if (held.revoked || this.revokedLineages.has(held.lineage)) return { ok: false, reason: "revoked" };
    if (held.clientId !== clientId) return { ok: false, reason: "other-client" };
    if (now >= held.expiresAtMs || this.usedUp(held, now)) return { ok: false, reason: "expired", issuedAtMs: held.issuedAtMs };
    const presentedWasSuperseded = held.supersededAtMs !== undefined;
    if (held.supersededAtMs !== undefined && now >= held.supersededAtMs + this.rotationGraceSeconds * 1000) {
      return { ok: false, reason: "superseded" };
    }
    held.uses += 1;
    held.firstUsedAtMs ??= now;
    const newRefreshToken = this.issue(held.clientId, held.kind, held.lineage, now);
    held.supersededAtMs ??= now;
    return {
      ok: true,
      kind: held.kind,
      userObjectId: this.userByLineage.get(held.lineage) ?? userObjectIdFor(held.lineage),
      newRefreshToken,
      presentedWasSuperseded,
    };
  }

  /**
   * A partner user consented (the authorization code grant): a new lineage for that user, and its
   * first refresh token. The same user principal name always stands for the same object id.
   */
  issueForConsent(clientId: string, kind: TokenKind, userPrincipalName: string): { refreshToken: string; userObjectId: string } {
    const lineage = `consent:${randomBytes(12).toString("hex")}`;
    const userObjectId = userObjectIdFor(`upn:${userPrincipalName.toLowerCase()}`);
    this.userByLineage.set(lineage, userObjectId);
    return { refreshToken: this.issue(clientId, kind, lineage, this.now()), userObjectId };
  }

  private issue(clientId: string, kind: TokenKind, lineage: string, now: number): string {
    const token = `emu-rt-${randomBytes(36).toString("base64url")}`;
    this.tokens.set(token, {
      clientId,
      kind,
      lineage,
      issuedAtMs: now,
      expiresAtMs: now + ISSUED_REFRESH_TOKEN_LIFETIME_SECONDS * 1000,
      revoked: false,
      uses: 0,
    });
    return token;
  }

  private usedUp(held: HeldRefreshToken, now: number): boolean {
    const { maxUses, expirySecondsAfterUse } = this.usePolicy;
    if (maxUses !== undefined && held.uses >= maxUses) return true;
    return expirySecondsAfterUse !== undefined && held.firstUsedAtMs !== undefined && now >= held.firstUsedAtMs + expirySecondsAfterUse * 1000;
  }

  /** The partner withdrew consent (or an admin revoked sessions): every refresh token stops working. */
  revokeAll(): void {
    for (const lineage of this.userByLineage.keys()) this.revokedLineages.add(lineage);
  }
}

/** A stable GUID-shaped object id per lineage, so MSAL sees the same account on every renewal. */
function userObjectIdFor(lineage: string): string {
  const hex = createHash("sha256").update(`user:${lineage}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
