// The emulator's state file: what a fixture JSON holds. Types only; loading and validation live in
// state.ts. The emulator may share types with partner-center/ and nothing else.
import type { RateLimits, ThrottleBehaviour } from "./rate-limit.js";
import type { ProductSku, ServicePlan } from "../partner-center/types.js";

/**
 * What a bearer token stands for, as the real service would judge it:
 * - "app+user": a delegated partner-user token (the only kind license calls accept);
 * - "app-only": an app or partner token, refused with the seed's 900316 body;
 * - "app-only-403": an app-only token as other reports show it refused: 403 "This resource can't be
 *   accessed by application credentials." on every read, the seed's 900316 on license writes;
 * - "conditional-access-blocked": refused with the seed's 900309 body (403);
 * - "no-mfa": an App+User token without an MFA claim, refused with 900421 (401).
 */
export type TokenKind = "app+user" | "app-only" | "app-only-403" | "conditional-access-blocked" | "no-mfa";

export interface StaticAccessToken {
  token: string;
  kind: TokenKind;
  /** ISO 8601; absent or null: never expires. */
  expiresAt?: string | null;
}

export interface IdentityClient {
  clientId: string;
  clientSecret: string;
}

export interface StateRefreshToken {
  token: string;
  clientId: string;
  /** What the access tokens minted from it are. Default "app+user". */
  kind?: TokenKind;
  expiresAt?: string | null;
  revoked?: boolean;
}

export interface IdentityState {
  clients: IdentityClient[];
  refreshTokens: StateRefreshToken[];
  /** Lifetime of minted access tokens, seconds. Default 3600. */
  accessTokenLifetimeSeconds?: number;
  /**
   * A refresh token expires (AADSTS700082) once it has been redeemed this many times: 1 makes
   * every refresh token single-use, so a client that does not keep the rotated one fails on its
   * next run. Default: no limit.
   */
  refreshTokenMaxUses?: number;
  /** A refresh token expires (AADSTS700082) this many seconds after its first redemption. Default: never. */
  refreshTokenExpirySecondsAfterUse?: number;
}

/** How the partner stands with a customer; anything but "granted" refuses every call for it. */
export type CustomerAccess = "granted" | "missing-gdap-role" | "no-relationship";

export interface StateSubscribedSku {
  productSku: ProductSku;
  servicePlans: ServicePlan[];
  activeUnits: number;
  warningUnits?: number;
  suspendedUnits?: number;
  /** Seats in use at start. Default: the listed users holding it; never fewer than them. */
  consumedUnits?: number;
  capabilityStatus?: string;
}

export interface StateUserLicense {
  skuId: string;
  excludedPlans?: string[];
}

export interface StateUser {
  id: string;
  userPrincipalName: string;
  firstName?: string;
  lastName?: string;
  displayName?: string;
  /** ISO country code; null or absent: the user cannot be given licenses. */
  usageLocation?: string | null;
  licenses?: StateUserLicense[];
}

export interface StateCustomer {
  id: string;
  companyName: string;
  access?: CustomerAccess;
  subscribedSkus: StateSubscribedSku[];
  users: StateUser[];
}

/** Throttling the state file asks for (options and flags given at start override it). */
export interface StateThrottling extends ThrottleBehaviour {
  /** A `--rate-limit` spec ("customer=fixed:10/1s") or the limits as objects. */
  rateLimit?: string | RateLimits;
}

export interface EmulatorStateFile {
  partner: { tenantId: string; name?: string };
  throttling?: StateThrottling;
  identity?: IdentityState;
  accessTokens: StaticAccessToken[];
  customers: StateCustomer[];
}
