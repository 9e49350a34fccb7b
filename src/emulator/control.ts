// The control path under /_emulator/ for tests and benchmarks: counters, the request log, the
// live state, reset, and run-time configuration. Never throttled, faulted, delayed or BOM-prefixed.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Counters } from "./counters.js";
import { readBody, sendControlJson } from "./http-io.js";
import { idKey } from "./ids.js";
import type { ReplayStore } from "./replay.js";
import type { RequestLog } from "./request-log.js";
import { renderSubscribedSku } from "./resources.js";
import { configPatchSchema, type EmulatorRuntime } from "./runtime.js";
import type { CustomerRecord, EmulatorState } from "./state.js";

export interface ControlContext {
  state: EmulatorState;
  counters: () => Counters;
  log: RequestLog;
  replay: ReplayStore;
  runtime: EmulatorRuntime;
  identityCounters?: () => Record<string, number>;
  /** Initial state, fresh counters, empty log and replay store, full buckets. */
  reset: () => void;
}

export const CONTROL_PREFIX = "/_emulator/";

export async function handleControlRequest(req: IncomingMessage, res: ServerResponse, ctx: ControlContext): Promise<void> {
  const url = new URL(req.url ?? "/", "http://emulator");
  const action = url.pathname.slice(CONTROL_PREFIX.length).replace(/\/$/, "").toLowerCase();
  const method = req.method ?? "GET";
  const route = `${method} ${action}`;
  switch (route) {
    case "GET counters":
      return sendControlJson(res, 200, ctx.counters().snapshot(ctx.identityCounters?.()));
    case "GET log": {
      const limit = numberParam(url, "limit");
      const sinceSeq = numberParam(url, "since");
      const entries = ctx.log.entries({
        ...(limit !== undefined ? { limit } : {}),
        ...(sinceSeq !== undefined ? { sinceSeq } : {}),
      });
      return sendControlJson(res, 200, { total: ctx.log.total, dropped: ctx.log.dropped, entries });
    }
    case "GET state": {
      const only = url.searchParams.get("customerId");
      const customers = only
        ? ctx.state.customers.filter((c) => idKey(c.customer.id) === idKey(only))
        : ctx.state.customers;
      return sendControlJson(res, 200, {
        partner: ctx.state.file.partner,
        customers: customers.map(describeCustomer),
      });
    }
    case "POST reset":
      ctx.reset();
      return sendControlJson(res, 200, { reset: true });
    case "GET config":
      return sendControlJson(res, 200, ctx.runtime.describe());
    case "POST config": {
      const body = await readBody(req);
      if (!body.ok) return sendControlJson(res, 400, { error: "unreadable body" });
      let json: unknown;
      try {
        json = JSON.parse(body.text || "{}");
      } catch {
        return sendControlJson(res, 400, { error: "the body is not JSON" });
      }
      const patch = configPatchSchema.safeParse(json);
      if (!patch.success) {
        return sendControlJson(res, 400, {
          error: patch.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; "),
        });
      }
      const problem = ctx.runtime.configure(patch.data);
      if (problem) return sendControlJson(res, 400, { error: problem });
      return sendControlJson(res, 200, ctx.runtime.describe());
    }
    default:
      return sendControlJson(res, 404, {
        error: `no control route ${route}; try GET counters, GET log, GET state, POST reset, GET/POST config`,
      });
  }
}

function numberParam(url: URL, name: string): number | undefined {
  const value = url.searchParams.get(name);
  return value !== null && /^\d+$/.test(value) ? Number(value) : undefined;
}

/** A customer as it stands now: SKUs with live counts, users with the licenses they hold. */
function describeCustomer(record: CustomerRecord): unknown {
  return {
    id: record.customer.id,
    companyName: record.customer.companyName,
    access: record.access,
    subscribedSkus: record.skuList.map(renderSubscribedSku),
    users: record.userList.map((u) => ({
      id: u.user.id,
      userPrincipalName: u.user.userPrincipalName,
      displayName: u.user.displayName ?? null,
      usageLocation: u.usageLocation,
      licenses: [...u.licenses.values()].map((l) => ({ skuId: l.skuId, excludedPlans: l.excludedPlans })),
    })),
  };
}
