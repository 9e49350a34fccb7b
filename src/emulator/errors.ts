// Every error answer the emulator gives, in the documented shape {code, description, data, source}
// ("Partner Center error codes"). The 60012, 900316 and 900309 bodies are the seed page's, verbatim;
// codes Microsoft does not document are the emulator's own (EMULATOR_CODE) and listed in the README.
import type { PartnerCenterErrorBody, ThrottleBody } from "../partner-center/types.js";

/** An answer the API side produces: status, body and the error code the request log records. */
export interface ApiAnswer {
  status: number;
  body: unknown;
  errorCode: string | null;
  headers?: Record<string, string>;
  /** A body that is not JSON (a gateway's HTML page): sent as it is, with this Content-Type. */
  contentType?: string;
}

/** The emulator's own codes, for failures Microsoft documents without a code. */
export const EMULATOR_CODE = {
  invalidToken: 990401,
  mixedLicenseGroups: 990001,
  unknownSku: 990002,
  excludedPlanNotInSku: 990003,
  invalidUsageLocation: 990004,
  assignAndRemoveSameSku: 990005,
  routeNotFound: 990404,
  methodNotAllowed: 990405,
  internalError: 990500,
  serviceUnavailable: 990503,
} as const;

/** Documented "invalid request input" code, used for malformed ids, bodies and query parameters. */
export const INVALID_INPUT_CODE = 800002;

function error(status: number, code: number, description: string, data: string[] = []): ApiAnswer {
  const body: PartnerCenterErrorBody = { code, description, data, source: "PartnerFD" };
  return { status, body, errorCode: String(code) };
}

export function outOfLicenses(customerId: string, skuId: string): ApiAnswer {
  return error(400, 60012, "We are sorry, it looks like you have run out of licenses. Buy more licenses, and then try again.", [
    `LicenseQuotaExceededException : Subscription with Account ${customerId} and SKU ${skuId} does not have any available licenses left.`,
  ]);
}

/** The seed's body carries no `data`. */
/**
 * An app-only (client credentials) token on an App+User call, as Microsoft Q&A "Partner Centre API"
 * and PartnerCenterSamples/Reseller-Web-Application#13 show it: 403 without a Partner Center code.
 */
export function applicationCredentialsRefused(): ApiAnswer {
  return {
    status: 403,
    errorCode: null,
    body: { description: "This resource can't be accessed by application credentials.", data: [], source: "PartnerFD" },
  };
}

export function partnerTokenNotAllowed(): ApiAnswer {
  return {
    status: 400,
    errorCode: "900316",
    body: {
      code: 900316,
      description:
        "Partner token is not allowed in license management calls. Please call with Partner Access Token. To learn more, see https://learn.microsoft.com/partner-center/developer/enable-secure-app-model#get-access-token",
      source: "PartnerFD",
    },
  };
}

/** The seed's body carries no `data`. */
export function conditionalAccessBlocked(): ApiAnswer {
  return {
    status: 403,
    errorCode: "900309",
    body: {
      code: 900309,
      description:
        "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance. Learn more at https://learn.microsoft.com/azure/active-directory/conditional-access/concept-conditional-access-users-groups.",
      source: "PartnerFD",
    },
  };
}

export function mfaRequired(): ApiAnswer {
  return error(
    401,
    900421,
    "Multi-factor authentication is required. The App+User access token carries no MFA claim; sign in again with MFA and call with the new token.",
  );
}

export function invalidToken(reason: "missing" | "unknown" | "expired"): ApiAnswer {
  const description = {
    missing: "Authorization failed: the request carries no bearer token.",
    unknown: "Authorization failed: the bearer token is not valid.",
    expired: "Authorization failed: the bearer token has expired.",
  }[reason];
  return {
    ...error(401, EMULATOR_CODE.invalidToken, description),
    headers: { "WWW-Authenticate": `Bearer error="invalid_token"` },
  };
}

/** `headers`: the Retry-After as the throttle's settings give it (default: whole seconds). */
export function throttled(retryAfterSeconds: number, headers: Record<string, string> = { "Retry-After": String(retryAfterSeconds) }): ApiAnswer {
  const body: ThrottleBody = {
    statusCode: 429,
    message: `Rate limit is exceeded. Try again in ${retryAfterSeconds} seconds.`,
  };
  return { status: 429, body, errorCode: null, headers };
}

export function customerNotFound(customerId: string): ApiAnswer {
  return error(404, 60003, "Tenant not found.", [`The customer tenant ${customerId} was not found.`]);
}

export function userNotFound(userId: string): ApiAnswer {
  return error(404, 60002, "User object id not found.", [`The user ${userId} was not found.`]);
}

export function missingGdapRole(): ApiAnswer {
  return error(403, 900150, "The supplied role does not have the rights to perform the requested operation");
}

export function noRelationship(customerId: string): ApiAnswer {
  return error(403, 20002, "There is no relationship between the partner and the customer.", [
    `No partner relationship with customer ${customerId}.`,
  ]);
}

export function invalidInput(message: string): ApiAnswer {
  return error(400, INVALID_INPUT_CODE, "The request input is invalid.", [message]);
}

export function unknownSku(skuId: string): ApiAnswer {
  return error(400, EMULATOR_CODE.unknownSku, `The customer has no subscribed SKU with id ${skuId}.`, [skuId]);
}

export function mixedLicenseGroups(groups: readonly string[]): ApiAnswer {
  return error(
    400,
    EMULATOR_CODE.mixedLicenseGroups,
    "A license assignment request must contain licenses from a single license group.",
    [`License groups in the request: ${groups.join(", ")}`],
  );
}

export function excludedPlanNotInSku(planId: string, skuId: string): ApiAnswer {
  return error(400, EMULATOR_CODE.excludedPlanNotInSku, `Service plan ${planId} is not a plan of SKU ${skuId}.`, [planId, skuId]);
}

export function invalidUsageLocation(userId: string): ApiAnswer {
  return error(
    400,
    EMULATOR_CODE.invalidUsageLocation,
    "License assignment cannot be done for user with invalid usage location.",
    [userId],
  );
}

/** A PATCH of a user whose usageLocation is not a two-letter country code. */
export function invalidUsageLocationValue(value: string): ApiAnswer {
  return error(400, EMULATOR_CODE.invalidUsageLocation, `Usage location "${value.slice(0, 40)}" is not an ISO 3166-1 alpha-2 country code.`, [value.slice(0, 40)]);
}

export function assignAndRemoveSameSku(skuId: string): ApiAnswer {
  return error(400, EMULATOR_CODE.assignAndRemoveSameSku, `SKU ${skuId} is both assigned and removed in one request.`, [skuId]);
}

export function routeNotFound(path: string): ApiAnswer {
  return error(404, EMULATOR_CODE.routeNotFound, "No such resource.", [path]);
}

export function methodNotAllowed(method: string, allowed: string): ApiAnswer {
  return { ...error(405, EMULATOR_CODE.methodNotAllowed, `Method ${method} is not allowed here.`), headers: { Allow: allowed } };
}

export function injectedServerError(status: 500 | 503): ApiAnswer {
  return status === 500
    ? error(500, EMULATOR_CODE.internalError, "An internal error occurred. Please try again.")
    : error(503, EMULATOR_CODE.serviceUnavailable, "The service is temporarily unavailable. Please try again.");
}
