// The API's shapes, as generated from openapi/openapi.json.
import type { components } from "./schema";

export type Task = components["schemas"]["TaskView"];
