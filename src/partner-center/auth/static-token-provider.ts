// The access token given in PARTNER_CENTER_ACCESS_TOKEN (minted elsewhere, e.g. by a CI step).
// It cannot be renewed: a forced refresh returns the same token, and the caller then treats a
// second 401 as run-fatal.
import type { AccessTokenProvider } from "../api.js";

export function createStaticTokenProvider(accessToken: string): AccessTokenProvider {
  return {
    getToken: async () => accessToken,
  };
}
