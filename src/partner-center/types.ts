// The Partner Center REST contract this project speaks (Microsoft's Partner Center REST reference): resource shapes
// as the service sends and accepts them. Shared by the client and the emulator; no logic here.

/** License groups as responses spell them. Query parameters use "Group1"/"Group2". */
export type LicenseGroupId = "group1" | "group2";
export const LICENSE_GROUPS: readonly LicenseGroupId[] = ["group1", "group2"];

export interface ProductSku {
  id: string;
  name: string;
  skuPartNumber: string;
  targetType?: "User" | "Tenant";
  licenseGroupId: LicenseGroupId;
}

export interface ServicePlan {
  id: string;
  displayName: string;
  serviceName: string;
  capabilityStatus: string;
  targetType: string;
}

export interface SubscribedSku {
  availableUnits: number;
  activeUnits: number;
  consumedUnits: number;
  suspendedUnits: number;
  totalUnits: number;
  warningUnits: number;
  productSku: ProductSku;
  servicePlans: ServicePlan[];
  capabilityStatus: string;
  attributes: { objectType: "SubscribedSku" };
}

export interface Link {
  uri: string;
  method: string;
  headers: { key: string; value: string }[];
}

export interface Collection<T> {
  totalCount: number;
  items: T[];
  links?: { self?: Link; next?: Link };
  /** The .NET SDK's SeekBasedResourceCollection: sent back as MS-ContinuationToken with seekOperation=Next. */
  continuationToken?: string | null;
  attributes: { objectType: "Collection" };
}

export interface CustomerUser {
  id: string;
  userPrincipalName: string;
  firstName?: string;
  lastName?: string;
  displayName?: string;
  usageLocation?: string | null;
  state?: string;
  attributes: { objectType: "CustomerUser" };
}

/** A customer ("Get a customer by ID"); only what this project reads. */
export interface Customer {
  id: string;
  companyProfile?: { tenantId?: string; domain?: string; companyName?: string; attributes?: { objectType: string } };
  relationshipToPartner?: string;
  attributes: { objectType: "Customer" };
}

/** The body of a user update ("Update user accounts for a customer"): here only the usage location. */
export interface CustomerUserUpdate {
  usageLocation: string;
  attributes: { objectType: "CustomerUser" };
}

export interface License {
  servicePlans: (Omit<ServicePlan, "capabilityStatus"> & { capabilityStatus: string })[];
  productSku: Omit<ProductSku, "targetType">;
  attributes: { objectType: "License" };
}

export interface LicenseAssignment {
  skuId: string;
  /** Service plan ids to leave off; null assigns every plan. */
  excludedPlans: string[] | null;
}

export interface LicenseWarning {
  code: string;
  message: string;
  servicePlans: string[];
}

export interface LicenseUpdate {
  licensesToAssign: LicenseAssignment[] | null;
  licensesToRemove: string[] | null;
  licenseWarnings?: LicenseWarning[];
  attributes: { objectType: "LicenseUpdate" };
}

/** The documented error body. `code` is usually a number, sometimes a string. */
export interface PartnerCenterErrorBody {
  code: number | string;
  description: string;
  data?: string[];
  source?: string;
}

/** The 429 body, which is not the error shape. */
export interface ThrottleBody {
  statusCode: 429;
  message: string;
}

/** Request headers ("Partner Center REST request and response headers"). */
export const HEADER = {
  requestId: "MS-RequestId",
  correlationId: "MS-CorrelationId",
  cv: "MS-CV",
  serverId: "MS-ServerId",
  continuationToken: "MS-ContinuationToken",
  contractVersion: "MS-Contract-Version",
  locale: "X-Locale",
  application: "MS-PartnerCenter-Application",
  retryAfter: "Retry-After",
} as const;

/** Error codes the runner acts on ("Partner Center error codes"). */
export const ERROR_CODE = {
  outOfLicenses: "60012",
  userNotFound: "60002",
  customerNotFound: "60003",
  partnerToken: "900316",
  conditionalAccess: "900309",
  mfaRequired: "900421",
  missingGdapRole: "900150",
  noRelationship: "20002",
} as const;

export const DEFAULT_BASE_URL = "https://api.partnercenter.microsoft.com";
export const DEFAULT_AUTHORITY = "https://login.microsoftonline.com";
/** @deprecated the global cloud's scope only: ask cloud.ts's userImpersonationScope(baseUrl), which follows the API's cloud. */
export const PARTNER_CENTER_SCOPE = "https://api.partnercenter.microsoft.com/user_impersonation";
