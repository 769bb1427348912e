// The operators' console (GET /console), in Chromium, against the local stack of `make test`:
// an owner and an agent sign in (a short-lived token, kept for the tab, never in a URL); a
// visitor opens a conversation through the company's front door (identify); the agent sees
// it appear live, takes it and answers, and the reply reaches the visitor while a note never
// does; the owner sees the assignment change live; a visitor named like markup renders as
// text; the read marker clears the unread badge; signing out revokes the token; axe stays
// clean on the inbox and the conversation; screenshots at 1440 px and 768 px go to
// $WIDGET_OUTPUT_DIR.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { chromium } from "playwright-core";
import { LAUNCH_ARGS, LIMIT_MS, OUT, chromiumPath, exactly, expectApi, api, need, remember, scan, shot, teammate, until, watch } from "../test-support/harness.mjs";
import { TABLET, WIDE, XSS, bubbles, ownCompany, row, signIn as signInto, visitor as visitorOf, visitorReads, visitorSays } from "../test-support/console.mjs";

const API = need("CHAT_API_URL");
const DEMO = { email: need("DEMO_EMAIL"), password: need("DEMO_PASSWORD") };

let browser;
let company; // { owner: { token, id }, id, name, secret }: a fresh company of the demo operator's
let owner;
let agent; // a teammate with sees: all
let companyId;
let companyName;
let vera; // the first visitor
const problems = [];
const dialogs = [];
const desks = {};

const visitor = (name) => visitorOf(company, name);

async function signIn(name, email, password, viewport = WIDE) {
  const desk = await signInto(browser, company, { name, email, password, viewport, problems, dialogs });
  desks[name] = desk;
  return desk;
}

describe("operators' console", { concurrency: false }, () => {
  before(async () => {
    mkdirSync(OUT, { recursive: true });
    browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: LAUNCH_ARGS });
    company = await ownCompany("Console Co");
    ({ owner, id: companyId, name: companyName } = company);
    agent = await teammate(owner.token, companyId, { role: "agent", sees: "all", name: "Agent Ada" });
  });

  after(async () => {
    if (browser) await browser.close();
  });

  test("the page: a strict CSP, a versioned script, and a sign-in that refuses a wrong password", async () => {
    const reply = await fetch(`${API}/console`);
    assert.equal(reply.status, 200);
    const csp = reply.headers.get("content-security-policy");
    assert.match(csp, /script-src 'self';/);
    assert.match(csp, /style-src 'none';/);
    assert.doesNotMatch(csp, /unsafe/);
    assert.match(await reply.text(), /<script src="\/console\.js\?v=[0-9a-f]{16}" defer><\/script>/);

    const context = await browser.newContext({ viewport: WIDE });
    const page = await context.newPage();
    watch(page, "stranger", problems);
    await page.goto(`${API}/console`);
    await page.getByLabel("Email").fill(agent.email);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator(".signin .error").filter({ hasText: /./ }).waitFor({ timeout: LIMIT_MS });
    await scan(page, "console-sign-in");
    await shot(page, "console-sign-in-1440.png");
    await context.close();
  });

  test("the agent sees a new conversation appear live, takes it and answers; the owner sees it taken", async () => {
    const ownerDesk = await signIn("Owner", DEMO.email, DEMO.password);
    const agentDesk = await signIn("Agent", agent.email, agent.password);
    // The token is kept for the tab, short-lived, and never in a URL.
    const kept = await agentDesk.page.evaluate(() => JSON.parse(sessionStorage.getItem("chat-console:session")));
    remember(kept.token);
    assert.ok(kept.expiresAt && Date.parse(kept.expiresAt) - Date.now() <= 12 * 3600 * 1000, "a short-lived token");
    assert.ok(!agentDesk.page.url().includes(kept.token));
    await agentDesk.page.locator(".rows .empty").waitFor();

    vera = await visitor("Vera Visitor");
    await visitorSays(vera, "Hello, my kettle leaks");
    const veraRow = row(agentDesk.page, "Vera Visitor");
    await veraRow.waitFor({ timeout: LIMIT_MS });
    await veraRow.locator(".preview", { hasText: "Hello, my kettle leaks" }).waitFor({ timeout: LIMIT_MS });
    await veraRow.locator(".email", { hasText: exactly(vera.email) }).waitFor();
    await veraRow.locator(".unread").waitFor();
    await veraRow.locator(".waiting").waitFor();
    await until("the tab title to count the unread message", async () => (await agentDesk.page.title()) === `(1) ${companyName} · Console`);
    await row(ownerDesk.page, "Vera Visitor").locator(".who", { hasText: exactly("Unassigned") }).waitFor({ timeout: LIMIT_MS });
    await scan(agentDesk.page, "console-inbox");
    await shot(agentDesk.page, "console-inbox-1440.png");

    await veraRow.click();
    const page = agentDesk.page;
    await bubbles(page, "Hello, my kettle leaks").waitFor({ timeout: LIMIT_MS });
    // Reading it moves the agent's marker: the badge goes, and the API agrees.
    await until("the unread badge to clear", async () => (await veraRow.locator(".unread").count()) === 0);
    await until("the tab title to drop its count", async () => (await page.title()) === `${companyName} · Console`);
    await until("the agent's marker to move", async () => {
      const inbox = await expectApi(200, "GET", `/api/inbox?company_id=${companyId}`, { token: agent.token });
      const r = inbox.data.find((x) => x.id === vera.chatId);
      return r && r.unread_count === 0;
    });

    await page.getByRole("button", { name: "Assign to me" }).click();
    await page.locator(".conv .meta", { hasText: "assigned to you" }).waitFor({ timeout: LIMIT_MS });
    await row(ownerDesk.page, "Vera Visitor").locator(".who", { hasText: exactly("Assigned to Agent Ada") }).waitFor({ timeout: LIMIT_MS });
    assert.equal(await page.getByLabel("Assignee").count(), 0, "an agent assigns only itself");

    await page.getByRole("textbox", { name: "Reply" }).fill("We will send you a new one today.");
    await page.getByRole("button", { name: "Send reply" }).click();
    await bubbles(page, "We will send you a new one today.").waitFor({ timeout: LIMIT_MS });
    await until("the reply to reach the visitor", async () => (await visitorReads(vera)).includes("We will send you a new one today."));

    await page.getByRole("button", { name: "Note", exact: true }).click();
    await page.getByRole("textbox", { name: "Note" }).fill("Refund approved internally");
    await page.getByRole("button", { name: "Add note" }).click();
    const note = page.locator(".log .msg.internal").filter({ has: page.locator(".bubble", { hasText: exactly("Refund approved internally") }) });
    await note.waitFor({ timeout: LIMIT_MS });
    await note.locator(".by", { hasText: /^Note by/ }).waitFor();
    // The owner, in the same conversation, sees the note live as a note.
    await row(ownerDesk.page, "Vera Visitor").click();
    await ownerDesk.page.locator(".log .msg.internal").filter({ has: ownerDesk.page.locator(".bubble", { hasText: exactly("Refund approved internally") }) }).waitFor({ timeout: LIMIT_MS });
    assert.equal(await ownerDesk.page.getByLabel("Assignee").inputValue(), agent.id, "the owner's picker names the agent");
    assert.ok(!(await visitorReads(vera)).includes("Refund approved internally"), "a note never reaches the visitor");
    const events = await expectApi(200, "GET", `/api/chats/${vera.chatId}/events`, { token: vera.token });
    assert.ok(!JSON.stringify(events).includes("Refund approved internally"), "nor its events");

    // A visitor message arrives live in the open conversation, once.
    await visitorSays(vera, "Thank you!");
    await bubbles(page, "Thank you!").waitFor({ timeout: LIMIT_MS });
    assert.equal(await bubbles(page, "Thank you!").count(), 1);
    await scan(page, "console-conversation");
    await shot(page, "console-conversation-1440.png");

    // Resolve, then reopen.
    await page.getByRole("button", { name: "Resolve" }).click();
    await page.getByRole("button", { name: "Reopen" }).waitFor({ timeout: LIMIT_MS });
    await until("the conversation resolved", async () => (await expectApi(200, "GET", `/api/chats/${vera.chatId}`, { token: owner.token })).data.status === "resolved");
    await page.getByRole("button", { name: "Reopen" }).click();
    await page.getByRole("button", { name: "Resolve" }).waitFor({ timeout: LIMIT_MS });

    await page.setViewportSize(TABLET);
    await shot(page, "console-conversation-768.png");
    await scan(page, "console-conversation-768");
  });

  test("a visitor named like markup, writing markup, renders as text", async () => {
    const page = desks.Agent.page;
    const mallory = await visitor(XSS);
    await visitorSays(mallory, "<img src=x onerror=alert(2)><script>alert(3)</script>");
    const r = row(page, XSS);
    await r.waitFor({ timeout: LIMIT_MS });
    await r.click();
    await bubbles(page, "<img src=x onerror=alert(2)><script>alert(3)</script>").waitFor({ timeout: LIMIT_MS });
    await page.getByRole("heading", { level: 2, name: XSS }).waitFor();
    assert.equal(await page.locator("#console img").count(), 0, "no element made of a visitor's text");
    await shot(page, "console-markup-768.png");
    await page.setViewportSize(WIDE);
    await shot(page, "console-markup-1440.png");
  });

  test("offline and back: what was said meanwhile shows once, nothing lost or repeated", async () => {
    const { page, context } = desks.Agent;
    await row(page, "Vera Visitor").click();
    await bubbles(page, "Thank you!").waitFor({ timeout: LIMIT_MS });
    await context.setOffline(true);
    await page.locator("#console[data-status=offline]").waitFor({ timeout: LIMIT_MS });
    await visitorSays(vera, "Are you still there?");
    await visitorSays(vera, "Hello again");
    await context.setOffline(false);
    await page.locator("#console[data-status=online]").waitFor({ timeout: LIMIT_MS });
    for (const text of ["Are you still there?", "Hello again", "Thank you!"]) {
      await bubbles(page, text).waitFor({ timeout: LIMIT_MS });
      assert.equal(await bubbles(page, text).count(), 1, `"${text}" once`);
    }
    await row(page, "Vera Visitor").locator(".preview", { hasText: "Hello again" }).waitFor({ timeout: LIMIT_MS });
  });

  test("filters: mine and unassigned", async () => {
    const page = desks.Agent.page;
    await page.getByRole("button", { name: "Mine" }).click();
    await row(page, "Vera Visitor").waitFor({ timeout: LIMIT_MS });
    await until("Mine to hold only the agent's", async () => (await row(page, XSS).count()) === 0);
    await page.getByRole("button", { name: "Unassigned" }).click();
    await row(page, XSS).waitFor({ timeout: LIMIT_MS });
    await until("Unassigned to leave Vera out", async () => (await row(page, "Vera Visitor").count()) === 0);
    await page.getByLabel("Status").selectOption("resolved");
    await page.locator(".rows .empty").waitFor({ timeout: LIMIT_MS });
    await page.getByLabel("Status").selectOption("open");
    await page.getByRole("button", { name: "All" }).click();
    await page.getByLabel("Sort").selectOption("recent");
    await row(page, "Vera Visitor").waitFor({ timeout: LIMIT_MS });
    await shot(page, "console-inbox-recent-1440.png");
  });

  test("signing out revokes the token", async () => {
    const page = desks.Owner.page;
    const kept = await page.evaluate(() => JSON.parse(sessionStorage.getItem("chat-console:session")));
    remember(kept.token);
    assert.equal((await api("GET", "/api/user", { token: kept.token })).status, 200);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("button", { name: "Sign in" }).waitFor({ timeout: LIMIT_MS });
    assert.equal(await page.evaluate(() => sessionStorage.getItem("chat-console:session")), null);
    await until("the token to be revoked", async () => (await api("GET", "/api/user", { token: kept.token })).status === 401);
  });

  test("no page error, no CSP violation, no dialog", () => {
    assert.deepEqual(problems, []);
    assert.deepEqual(dialogs, []);
  });
});
