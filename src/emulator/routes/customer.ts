// GET /v1/customers/{id}: the customer with its company profile ("Get a customer by ID").
import { renderCustomer } from "../resources.js";
import type { RouteAnswer, RouteRequest } from "./route.js";

export function getCustomer(request: RouteRequest): RouteAnswer {
  return { status: 200, body: renderCustomer(request.customer), errorCode: null };
}
