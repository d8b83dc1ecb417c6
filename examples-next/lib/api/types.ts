// The API's shapes, as generated from openapi/openapi.json.
import type { components } from "./schema";

export type Task = components["schemas"]["TaskView"];
export type User = components["schemas"]["UserView"];
export type SessionInfo = components["schemas"]["SessionView"];
