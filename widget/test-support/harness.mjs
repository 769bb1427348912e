// Shared by the widget's browser scenarios: the API, moto's emails, waiting on conditions,
// axe and screenshots. No tests here. Needs CHAT_API_URL and MOTO_URL (make test sets them).

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { appendFileSync, existsSync, writeFileSync } from "node:fs";
import { join as joinPath } from "node:path";
import { AxeBuilder } from "@axe-core/playwright";

export const LIMIT_MS = 60_000;
export const OUT = process.env.WIDGET_OUTPUT_DIR || "target/test-output/widget";

export function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the widget tests through make test`);
  return value;
}

/** Tokens and codes the test used: the log check of make test looks for them afterwards. */
export function remember(secret) {
  if (process.env.SECRETS_FILE && secret) appendFileSync(process.env.SECRETS_FILE, secret + "\n");
}

export function chromiumPath() {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  for (const p of ["/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser"]) if (existsSync(p)) return p;
  throw new Error("no chromium: make test installs Debian's chromium (see the Makefile)");
}

export const LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-dev-shm-usage"];

export async function api(method, path, { token, body } = {}) {
  const headers = { accept: "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(need("CHAT_API_URL") + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: response.status, json, text };
}

export async function expectApi(status, method, path, options) {
  const reply = await api(method, path, options);
  assert.equal(reply.status, status, `${method} ${path}: ${reply.text}`);
  return reply.json;
}

/** Polls `check` until it returns a truthy value (returned), or fails after `limit` ms. */
export async function until(what, check, limit = LIMIT_MS) {
  const started = Date.now();
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() - started > limit) throw new Error(`timed out waiting for ${what}${last ? ": " + last.message : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The 6-digit code in the newest email moto's SES holds for `email`. */
export async function codeFor(email) {
  const code = await until(`an auth code emailed to ${email}`, async () => {
    const data = await (await fetch(`${need("MOTO_URL")}/local-api/ses-messages`)).json();
    const mails = (data.Message || []).filter((m) => ((m.destinations || {}).ToAddresses || []).includes(email));
    const last = mails[mails.length - 1];
    if (!last) return null;
    const match = `${last.subject} ${last.body}`.match(/\b(\d{6})\b/);
    return match && match[1];
  });
  remember(code);
  return code;
}

export const unique = (tag) => `${tag}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}@example.com`;

/** Page errors and CSP violations go to `problems`. */
export function watch(page, name, problems) {
  if (process.env.WIDGET_TEST_TRACE) {
    page.on("request", (r) => {
      if (r.url().includes("/api/")) console.log(`[${name}] > ${r.method()} ${r.url().replace(/.*\/api\//, "/api/")}`);
    });
    page.on("console", (m) => console.log(`[${name}] console: ${m.text()}`));
  }
  page.on("pageerror", (e) => problems.push(`${name}: page error: ${e.message}`));
  page.on("console", (m) => {
    if (/Content.Security.Policy|Refused to/i.test(m.text())) problems.push(`${name}: ${m.text()}`);
  });
}

export const composer = (page) => page.getByRole("textbox", { name: "Message", exact: true });
export const exactly = (text) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
/** Every copy of a message text on the page, pending ones included. */
export const bubbles = (page, text) => page.locator(".log .bubble").filter({ hasText: exactly(text) });
export const confirmed = (page, text) => page.locator(".log .msg:not([data-state])").filter({ has: page.locator(".bubble", { hasText: exactly(text) }) });

export async function say(who, text) {
  await composer(who.page).fill(text);
  await composer(who.page).press("Enter");
  await until(`${who.name}'s "${text.slice(0, 30)}" sent`, async () => (await confirmed(who.page, text).count()) === 1);
}

export async function seesOnce(who, text) {
  await until(`${who.name} to show "${text.slice(0, 30)}"`, async () => (await bubbles(who.page, text).count()) >= 1);
  assert.equal(await bubbles(who.page, text).count(), 1, `${who.name} shows "${text.slice(0, 30)}" once`);
}

export async function status(page) {
  return page.locator(".root").getAttribute("data-status");
}

export async function scan(page, what) {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const report = bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  writeFileSync(joinPath(OUT, `axe-${what}.json`), JSON.stringify(result.violations, null, 2));
  assert.deepEqual(report, [], `axe on the ${what}: no serious or critical violation`);
  return result;
}

export async function shot(page, file) {
  await page.screenshot({ path: joinPath(OUT, file), animations: "disabled" });
}

/** The invitation code in the newest invitation email moto's SES holds for `email`. */
export async function invitationCodeFor(email) {
  const code = await until(`an invitation emailed to ${email}`, async () => {
    const data = await (await fetch(`${need("MOTO_URL")}/local-api/ses-messages`)).json();
    const mails = (data.Message || []).filter((m) => ((m.destinations || {}).ToAddresses || []).includes(email));
    for (const mail of mails.reverse()) {
      const match = `${mail.subject} ${mail.body}`.match(/Your invitation code: (?:<code>)?([A-Za-z0-9_-]+)/);
      if (match) return match[1];
    }
    return null;
  });
  remember(code);
  return code;
}

/** A new member of `companyId`, invited by `ownerToken` and accepted: {id, email, password, token}. */
export async function teammate(ownerToken, companyId, { role = "agent", sees = "all", name = "Teammate" } = {}) {
  const email = unique(name.toLowerCase().replace(/\W+/g, "-"));
  await expectApi(201, "POST", `/api/companies/${companyId}/members`, { token: ownerToken, body: { email, role, sees } });
  const code = await invitationCodeFor(email);
  const password = `orbit lantern ${Math.random().toString(36).slice(2)}`;
  remember(password);
  const accepted = await expectApi(201, "POST", "/api/invitations/accept", { body: { email, code, name, password } });
  remember(accepted.data.token);
  return { id: accepted.data.user.id, email, password, token: accepted.data.token };
}

/** A visitor of `companyId`'s site, on the company-mode demo page (the real widget), in a
 *  browser context of its own: {context, page, name, email, storageKey}. */
export async function openCompanyVisitor(browser, companyId, { name, number, viewport, problems }) {
  const context = await browser.newContext({ viewport, locale: "en-US" });
  const page = await context.newPage();
  watch(page, name, problems);
  await page.goto(`${need("CHAT_API_URL")}/widget/company-demo/${companyId}?visitor=${number}`);
  await page.locator(".launcher").waitFor();
  return { context, page, name, email: unique(name.toLowerCase().replace(/\W+/g, "-")), storageKey: `demo-company-${companyId}-visitor-${number}` };
}

/** The widget's session of a company visitor (its token and conversation). */
export async function companySession(visitor) {
  return visitor.page.evaluate((key) => JSON.parse(localStorage.getItem(`chat-widget:${key}:session`) || "null"), visitor.storageKey);
}

/** Name and email, then the emailed code, once: the visitor's own conversation opens
 *  (its session is kept on `visitor.session`). The widget must be open. */
export async function startCompanyVisitor(visitor) {
  const { page } = visitor;
  await page.getByLabel("Your name", { exact: true }).fill(visitor.name);
  await page.getByLabel("Email", { exact: true }).fill(visitor.email);
  assert.equal(await page.getByLabel("Chat password").count(), 0, "no password in company mode");
  await page.getByRole("button", { name: "Email me a code" }).click();
  const codeBox = page.getByLabel("6-digit code");
  await codeBox.waitFor({ timeout: LIMIT_MS });
  await codeBox.fill(await codeFor(visitor.email));
  await composer(page).waitFor({ timeout: LIMIT_MS });
  visitor.session = await companySession(visitor);
  remember(visitor.session.token);
  assert.match(visitor.session.chatId, /^[0-9A-Z]{26}$/, "the conversation is kept with the token");
}

/** An HS256 JWT, as a company's server signs it for a logged-in visitor with `key`. */
export function identityToken(key, claims) {
  const part = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const unsigned = `${part({ alg: "HS256", typ: "JWT" })}.${part(claims)}`;
  const token = `${unsigned}.${createHmac("sha256", key).update(unsigned).digest("base64url")}`;
  remember(token);
  return token;
}

/** A file uploaded to chat `chatId` as `token` would from a script: a slot from the API,
 *  then the bytes to the bucket as the slot says. Its attachment id, for a message. */
export async function uploadAs(token, chatId, filename, contentType, bytes) {
  const slot = await expectApi(201, "POST", `/api/chats/${chatId}/attachments`, { token, body: { filename, content_type: contentType, size: bytes.length } });
  remember(slot.data.upload.fields["x-amz-signature"]);
  const form = new FormData();
  for (const [name, value] of Object.entries(slot.data.upload.fields)) form.append(name, value);
  form.append("file", new Blob([bytes], { type: contentType }), filename);
  const stored = await fetch(slot.data.upload.url, { method: "POST", body: form });
  assert.ok(stored.ok, `the upload of ${filename}: ${stored.status}`);
  return slot.data.id;
}

/** Small valid files: a 1x1 PNG and a one-object PDF. */
export const PNG_1X1 = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64");
export const SMALL_PDF = Buffer.from("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n");
