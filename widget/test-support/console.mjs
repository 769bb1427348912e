// Shared by the console's browser scenarios (widget/test/console*.test.mjs): a company of
// its own with an identity secret, visitors through its front door, operators signed in
// to the console in their own browser contexts, and the locators the scenarios read. No
// tests here.

import assert from "node:assert/strict";
import { LIMIT_MS, api, exactly, expectApi, identityToken, need, remember, unique, watch } from "./harness.mjs";

export const WIDE = { width: 1440, height: 900 };
export const LAPTOP = { width: 1024, height: 768 };
export const TABLET = { width: 768, height: 1024 };
export const XSS = "<img src=x onerror=alert(1)>";

/** A fresh company of the demo operator's (its owner), with an identity secret. */
export async function ownCompany(label) {
  const login = await expectApi(201, "POST", "/api/tokens", { body: { email: need("DEMO_EMAIL"), password: need("DEMO_PASSWORD"), name: `${label} tests`, expires_in: 3600 } });
  remember(login.data.token);
  const me = await expectApi(200, "GET", "/api/user", { token: login.data.token });
  const owner = { token: login.data.token, id: me.data.id, name: me.data.name };
  const name = `${label} ${Date.now().toString(36)}`;
  const id = (await expectApi(201, "POST", "/api/companies", { token: owner.token, body: { name } })).data.id;
  const secret = (await expectApi(201, "POST", `/api/companies/${id}/identity-secret`, { token: owner.token })).data.secret;
  remember(secret);
  return { owner, id, name, secret };
}

/** A visitor of the company's site, through its front door (identify): its own conversation. */
export async function visitor(company, name) {
  const claims = { sub: unique("sub"), name, email: unique("visitor"), exp: Math.floor(Date.now() / 1000) + 600 };
  const reply = await api("POST", `/api/companies/${company.id}/conversations/identify`, { body: { token: identityToken(company.secret, claims) } });
  assert.ok(reply.status === 200 || reply.status === 201, `identify: ${reply.text}`);
  remember(reply.json.data.token);
  return { name, email: claims.email, token: reply.json.data.token, chatId: reply.json.data.chat_user.chat_id, chatUserId: reply.json.data.chat_user.id };
}

export async function visitorSays(v, body) {
  await expectApi(201, "POST", `/api/chats/${v.chatId}/messages`, { token: v.token, body: { body } });
}

/** What the visitor can read of its conversation (notes are never in it). */
export async function visitorReads(v) {
  const page = await expectApi(200, "GET", `/api/chats/${v.chatId}/messages?per_page=100`, { token: v.token });
  return page.data.map((m) => m.body);
}

/** An operator signed in to the console in a browser context of its own; `init` runs in
 *  the page before the console's script (a stub, say). */
export async function signIn(browser, company, { name, email, password, viewport = WIDE, problems, dialogs, init }) {
  const context = await browser.newContext({ viewport, locale: "en-US" });
  if (init) await context.addInitScript(init);
  const page = await context.newPage();
  watch(page, name, problems);
  page.on("dialog", (d) => {
    dialogs.push(`${name}: ${d.message()}`);
    void d.dismiss();
  });
  await page.goto(`${need("CHAT_API_URL")}/console`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor({ timeout: LIMIT_MS });
  const picker = page.getByLabel("Company");
  if (await picker.count()) await picker.selectOption({ label: company.name });
  await page.getByRole("heading", { level: 1, name: company.name }).waitFor({ timeout: LIMIT_MS });
  await page.locator("#console[data-status=online]").waitFor({ timeout: LIMIT_MS });
  return { name, context, page };
}

/** The inbox row of the visitor (or room) called `name`. */
export const row = (page, name) => page.locator(".rows .row").filter({ has: page.locator(".name", { hasText: exactly(name) }) });
/** The messages of the open conversation that read `text`. */
export const bubbles = (page, text) => page.locator(".log .msg .bubble").filter({ hasText: exactly(text) });
