// Which Partner Center cloud a base URL belongs to, and so the token scope a sign-in must ask
// for: the scope is the API's own resource. Microsoft's "Partner Center authentication" names the
// global one; 21Vianet's API answers at partner.partnercenterapi.microsoftonline.cn and its tokens
// carry that resource (Partner Center PowerShell builds the scope from the cloud's endpoint).
// Any other host (a test emulator, a proxy-only name) is taken for the global cloud.
import { DEFAULT_BASE_URL } from "./types.js";

export interface PartnerCenterCloud {
  name: "global" | "china";
  /** The API's resource URI: the audience of its access tokens. */
  resource: string;
  /** Where the cloud's partners sign in. */
  authority: string;
}

const CLOUDS: readonly (PartnerCenterCloud & { apiHosts: readonly string[] })[] = [
  {
    name: "china",
    apiHosts: ["partner.partnercenterapi.microsoftonline.cn"],
    resource: "https://partner.partnercenterapi.microsoftonline.cn",
    authority: "https://login.chinacloudapi.cn",
  },
];

const GLOBAL: PartnerCenterCloud = { name: "global", resource: "https://api.partnercenter.microsoft.com", authority: "https://login.microsoftonline.com" };

/** The cloud of a Partner Center base URL (the global one when absent or not a known sovereign host). */
export function cloudOfBaseUrl(baseUrl: string | undefined = DEFAULT_BASE_URL): PartnerCenterCloud {
  let host: string;
  try {
    host = new URL(baseUrl).hostname.toLowerCase();
  } catch {
    return GLOBAL;
  }
  const cloud = CLOUDS.find((c) => c.apiHosts.includes(host));
  return cloud ? { name: cloud.name, resource: cloud.resource, authority: cloud.authority } : GLOBAL;
}

/** The delegated (App+User) scope for calls to `baseUrl`. */
export function userImpersonationScope(baseUrl?: string): string {
  return `${cloudOfBaseUrl(baseUrl).resource}/user_impersonation`;
}
