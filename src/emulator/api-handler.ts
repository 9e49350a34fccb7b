// One Partner Center API request, checked in the service's order: bearer token -> throttling ->
// injected faults -> replay of a known MS-RequestId -> customer (60003) -> partner access (900150 /
// 20002) -> user (60002) -> the resource route. Then the answer is delayed (latency, slow fault),
// sent or dropped, counted and logged. Everything before the delay is synchronous, so a write is
// validated and applied without interleaving.
import type { IncomingMessage, ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Counters } from "./counters.js";
import {
  conditionalAccessBlocked,
  customerNotFound,
  injectedServerError,
  invalidInput,
  invalidToken,
  methodNotAllowed,
  mfaRequired,
  missingGdapRole,
  noRelationship,
  partnerTokenNotAllowed,
  applicationCredentialsRefused,
  routeNotFound,
  userNotFound,
  type ApiAnswer,
} from "./errors.js";
import type { FaultKind } from "./faults.js";
import { acceptsGzip, header, readBody, sendJson } from "./http-io.js";
import { idKey, isGuid } from "./ids.js";
import type { ReplayStore } from "./replay.js";
import type { RequestLog } from "./request-log.js";
import { matchRoute, type Endpoint, type RouteMatch } from "./router.js";
import { postLicenseUpdate } from "./routes/license-updates.js";
import type { RouteAnswer, RouteRequest } from "./routes/route.js";
import { getSubscribedSkus } from "./routes/subscribed-skus.js";
import { getUserLicenses } from "./routes/user-licenses.js";
import { getUser, listUsers } from "./routes/users.js";
import { getCustomer } from "./routes/customer.js";
import { patchUser } from "./routes/user-update.js";
import type { EmulatorRuntime } from "./runtime.js";
import type { EmulatorState } from "./state.js";
import type { TokenStore } from "./token-store.js";

export interface ApiContext {
  state: EmulatorState;
  tokens: TokenStore;
  replay: ReplayStore;
  counters: Counters;
  log: RequestLog;
  runtime: EmulatorRuntime;
  now: () => number;
}

const ROUTES: Record<Endpoint, (request: RouteRequest) => RouteAnswer> = {
  customer: getCustomer,
  userUpdate: patchUser,
  subscribedSkus: getSubscribedSkus,
  users: listUsers,
  user: getUser,
  userLicenses: getUserLicenses,
  licenseUpdates: postLicenseUpdate,
};

/** What was decided for a request before its answer goes out. */
interface Decision {
  answer: ApiAnswer | null; // null: destroy the connection instead of answering
  faults: FaultKind[];
  replayed: boolean;
  applied: boolean;
  slowMs: number;
}

export async function handleApiRequest(req: IncomingMessage, res: ServerResponse, ctx: ApiContext): Promise<void> {
  const arrivalMs = ctx.now();
  const method = req.method ?? "GET";
  const route = matchRoute(req.url ?? "/", method);
  const sentRequestId = header(req, "ms-requestid")?.trim() || undefined;
  const requestId = sentRequestId ?? randomUUID();
  const correlationId = header(req, "ms-correlationid")?.trim() || randomUUID();
  const customerKey = route.kind === "api" ? idKey(route.customerId) : undefined;

  // undefined: a body over the size cap, refused like a malformed one after the common checks.
  let bodyText: string | undefined = "";
  if (method !== "GET" && method !== "HEAD") {
    const body = await readBody(req);
    if (!body.ok && body.reason === "aborted") return;
    bodyText = body.ok ? body.text : undefined;
  }
  ctx.counters.request(route.kind === "api" ? route.endpoint : "unknown", customerKey);

  const decision = decide(ctx, route, method, req, bodyText, sentRequestId, customerKey);
  const delayMs = ctx.runtime.latencyMs + decision.slowMs;
  if (delayMs > 0) await sleep(delayMs);

  const answer = decision.answer;
  // Stamped before the answer is written: a pause of this process after the write (a collection)
  // must not make the answer look later than the client could have read it.
  const answerMs = ctx.now();
  if (answer) {
    sendJson(res, answer.status, answer.body, {
      requestId,
      correlationId,
      bom: ctx.runtime.bom,
      gzip: ctx.runtime.gzip && acceptsGzip(req),
      ...(answer.headers ? { extra: answer.headers } : {}),
      ...(answer.contentType ? { contentType: answer.contentType } : {}),
    });
    ctx.counters.status(answer.status);
  } else {
    req.socket.destroy();
  }
  const retryAfter = answer?.headers?.["Retry-After"];
  ctx.log.add({
    arrivalMs,
    answerMs,
    method,
    endpoint: route.kind === "api" ? route.endpoint : "unknown",
    customerId: route.kind === "api" ? route.customerId : null,
    userId: route.kind === "api" ? (route.userId ?? null) : null,
    requestId,
    correlationId,
    status: answer ? answer.status : null,
    errorCode: answer ? answer.errorCode : null,
    // An HTTP-date Retry-After is logged as the seconds it says from now.
    retryAfterSeconds: retryAfter === undefined ? null : /^\d+$/.test(retryAfter) ? Number(retryAfter) : Math.max(0, Math.round((Date.parse(retryAfter) - answerMs) / 1000)),
    fault: decision.faults.length > 0 ? decision.faults.join("+") : null,
    replayed: decision.replayed,
    applied: decision.applied,
  });
}

function decide(
  ctx: ApiContext,
  route: RouteMatch,
  method: string,
  req: IncomingMessage,
  bodyText: string | undefined,
  sentRequestId: string | undefined,
  customerKey: string | undefined,
): Decision {
  const decision: Decision = { answer: null, faults: [], replayed: false, applied: false, slowMs: 0 };
  const answer = (a: ApiAnswer): Decision => ({ ...decision, answer: a });

  const token = ctx.tokens.check(header(req, "authorization"));
  if (!token.valid) return answer(invalidToken(token.reason));
  if (token.kind === "app-only") return answer(partnerTokenNotAllowed());
  // Reads refuse app credentials outright; license writes answer the seed's 900316.
  if (token.kind === "app-only-403") return answer(method === "GET" ? applicationCredentialsRefused() : partnerTokenNotAllowed());
  if (token.kind === "conditional-access-blocked") return answer(conditionalAccessBlocked());
  if (token.kind === "no-mfa") return answer(mfaRequired());

  if (route.kind === "unknown") return answer(routeNotFound(route.path));
  if (method !== route.method) return answer(methodNotAllowed(method, route.method));

  const verdict = ctx.runtime.throttle.admit(customerKey);
  if (!verdict.admitted) {
    ctx.counters.throttled(verdict.scope);
    return answer(ctx.runtime.throttle.refusal(verdict.retryAfterSeconds));
  }

  const front = ctx.runtime.dice.rollFront();
  if (front.slowMs > 0) {
    decision.slowMs = front.slowMs;
    decision.faults.push("slow");
    ctx.counters.fault("slow");
  }
  if (front.kind) {
    decision.faults.push(front.kind);
    ctx.counters.fault(front.kind);
    if (front.kind === "reset") return decision;
    return answer(injectedServerError(front.kind === "error500" ? 500 : 503));
  }

  const isWrite = route.method !== "GET";
  if (isWrite && sentRequestId) {
    const stored = ctx.replay.get(sentRequestId);
    if (stored) {
      ctx.counters.replay();
      return { ...answer({ status: stored.status, body: stored.body, errorCode: stored.errorCode }), replayed: true };
    }
  }

  const result = resolveAndRoute(ctx, route, req, bodyText);
  if (isWrite && sentRequestId) {
    ctx.replay.remember(sentRequestId, { status: result.status, body: result.body, errorCode: result.errorCode });
  }
  if (!result.committed) return answer(result);
  ctx.counters.writeApplied(result.committed.assigned, result.committed.removed);
  if (ctx.runtime.dice.rollDropAfterCommit()) {
    decision.faults.push("dropAfterCommit");
    ctx.counters.fault("dropAfterCommit");
    return { ...decision, applied: true };
  }
  return { ...answer(result), applied: true };
}

/** Customer, access and user checks, then the resource route. */
function resolveAndRoute(ctx: ApiContext, route: Extract<RouteMatch, { kind: "api" }>, req: IncomingMessage, bodyText: string | undefined): RouteAnswer {
  if (!isGuid(route.customerId)) return invalidInput(`customer id "${route.customerId}" is not a GUID`);
  const customer = ctx.state.customer(route.customerId);
  if (!customer) return customerNotFound(route.customerId);
  if (customer.access === "missing-gdap-role") return missingGdapRole();
  if (customer.access === "no-relationship") return noRelationship(route.customerId);
  let user;
  if (route.userId !== undefined) {
    if (!isGuid(route.userId)) return invalidInput(`user id "${route.userId}" is not a GUID`);
    user = customer.users.get(idKey(route.userId));
    if (!user) return userNotFound(route.userId);
  }
  if (bodyText === undefined) return invalidInput("the body is too large");
  const continuationToken = header(req, "ms-continuationtoken");
  const request: RouteRequest = {
    customer,
    pathCustomerId: route.customerId,
    query: route.query,
    bodyText,
    maxPageSize: ctx.runtime.maxPageSize,
    usersPaging: ctx.runtime.usersPaging,
    ...(user ? { user } : {}),
    ...(continuationToken ? { continuationToken } : {}),
  };
  return ROUTES[route.endpoint](request);
}
