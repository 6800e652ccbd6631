// The console's clients of the admin API: generated from proto/ (src/gen),
// spoken over the Connect protocol to the console's own origin. The admin
// token travels in an Authorization header set here on every call; it is
// kept in the tab's sessionStorage, never in a cookie.
import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { AdminService } from "./gen/apigw/admin/v1/admin_pb";
import { DebugService } from "./gen/apigw/admin/v1/debug_pb";
import { OpenAPIService } from "./gen/apigw/admin/v1/openapi_pb";

/** Where the token is kept (sessionStorage in the browser). */
export interface TokenStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export const TOKEN_KEY = "apigw.console.token";

/** An interceptor that sends the stored token as a bearer token. */
export function authInterceptor(store: TokenStore): Interceptor {
  return (next) => async (req) => {
    const token = store.getItem(TOKEN_KEY);
    if (token) req.header.set("Authorization", "Bearer " + token);
    return next(req);
  };
}

export interface Api {
  admin: Client<typeof AdminService>;
  debug: Client<typeof DebugService>;
  openapi: Client<typeof OpenAPIService>;
  store: TokenStore;
}

/** Creates the clients over a transport (tests pass their own). */
export function createApi(store: TokenStore, transport?: Transport, baseUrl = "/"): Api {
  const t = transport ?? createConnectTransport({ baseUrl, useBinaryFormat: true, interceptors: [authInterceptor(store)] });
  return {
    admin: createClient(AdminService, t),
    debug: createClient(DebugService, t),
    openapi: createClient(OpenAPIService, t),
    store,
  };
}
