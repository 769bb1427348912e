// Type-checked by `make test` (tsc --noEmit --strict) next to the types openapi-typescript
// generates from openapi.yaml as ./api.d.ts: it fails when the document stops giving a
// TypeScript client what the guest journey needs.
import type { components, operations, paths } from "./api";

type Schemas = components["schemas"];
type Json<T> = T extends { content: { "application/json": infer B } } ? B : never;
type Answer<Op extends keyof operations, S extends keyof operations[Op]["responses"]> = Json<
  operations[Op]["responses"][S]
>;

// The guest journey's bodies and answers.
const company: Schemas["CompanyCreateRequest"] = { name: "Acme", website: "https://acme.example" };
const chat: Json<operations["createChat"]["requestBody"]> = { company_id: "01JD3Z8K4Q6W9XG5M2T7RVBN0C", name: "Support" };
const sendCode: Schemas["SendCodeRequest"] = { email: "guest@example.com", name: "Guest", password: "from share" };
const getToken: Schemas["GetTokenRequest"] = { email: "guest@example.com", auth_code: "123456" };
const message: Schemas["MessageCreateRequest"] = { body: "Hello!", client_id: "c-1" };

function guestToken(answer: Answer<"getChatUserToken", 200>): string {
  return answer.data.token;
}
function lastId(page: Answer<"listMessages", 200>): string | undefined {
  return page.data[page.data.length - 1]?.id;
}
function retryAfterSeconds(op: operations["listMessages"]["responses"][503]): number | undefined {
  return op.headers["Retry-After"];
}

// No GET or DELETE declares a body: generated calls never ask for one.
type ReadOps = NonNullable<{ [P in keyof paths]: paths[P]["get"] | paths[P]["delete"] }[keyof paths]>;
const readsTakeNoBody: [NonNullable<ReadOps["requestBody"]>] extends [never] ? true : false = true;

// Every operation that calls AWS documents the 503 (AWS unavailable) with its JSON message:
// all but the static pages and scripts (the widget's and the console's), which answer
// from memory.
type AwsOps = Exclude<
  keyof operations,
  "getWidgetScript" | "getWidgetDemo" | "getWidgetCompanyDemo" | "getConsole" | "getConsoleScript"
>;
const every503: [operations[AwsOps]] extends [{ responses: { 503: { content: { "application/json": Schemas["Error"] } } } }]
  ? true
  : false = true;

export { company, chat, sendCode, getToken, message, guestToken, lastId, retryAfterSeconds, readsTakeNoBody, every503 };
