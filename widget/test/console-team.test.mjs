// The console with a team, in Chromium, against the local stack of `make test`: two
// operators (the owner and an agent who sees all) and two visitors on the REAL widget in
// company mode each answer their own; an agent whose `sees` is assigned-only gets the one
// conversation assigned to it and never the other, in its inbox, its stream or the API; the
// team page (owner and admins) lists, invites, changes and removes members and saves the
// company's settings (sites, business hours, retention, a new identity secret shown once,
// webhooks); axe stays clean on it. Screenshots at 1440 px and 768 px go to $WIDGET_OUTPUT_DIR.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { chromium } from "playwright-core";
import { LAUNCH_ARGS, LIMIT_MS, OUT, api, chromiumPath, composer, expectApi, identityToken, need, openCompanyVisitor, remember, say, scan, seesOnce, shot, startCompanyVisitor, teammate, unique, until } from "../test-support/harness.mjs";
import { TABLET, WIDE, bubbles, ownCompany, row, signIn } from "../test-support/console.mjs";

const DEMO = { email: need("DEMO_EMAIL"), password: need("DEMO_PASSWORD") };

let browser;
let company;
let agent; // sees all
let asa; // an agent who sees only what is assigned to it
const problems = [];
const dialogs = [];
const people = {};

const member = async (id) => (await expectApi(200, "GET", `/api/companies/${company.id}/members`, { token: company.owner.token })).data.find((m) => m.id === id || m.user_id === id);

describe("the console with a team", { concurrency: false }, () => {
  before(async () => {
    mkdirSync(OUT, { recursive: true });
    browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: LAUNCH_ARGS });
    company = await ownCompany("Team Co");
    agent = await teammate(company.owner.token, company.id, { role: "agent", sees: "all", name: "Agent Ola" });
    asa = await teammate(company.owner.token, company.id, { role: "agent", sees: "assigned", name: "Agent Asa" });
  });

  after(async () => {
    if (browser) await browser.close();
  });

  test("two operators answer two visitors on the real widget; each visitor sees only its own", async () => {
    const owner = (people.owner = await signIn(browser, company, { name: "Owner", ...DEMO, problems, dialogs }));
    const ola = (people.ola = await signIn(browser, company, { name: "Ola", email: agent.email, password: agent.password, viewport: TABLET, problems, dialogs }));
    const wim = (people.wim = await openCompanyVisitor(browser, company.id, { name: "Wim Widget", number: 1, viewport: WIDE, problems }));
    const zoe = (people.zoe = await openCompanyVisitor(browser, company.id, { name: "Zoe Widget", number: 2, viewport: WIDE, problems }));
    await Promise.all([startCompanyVisitor(wim), startCompanyVisitor(zoe)]);
    await say(wim, "My order never came");
    await say(zoe, "Do you ship to Iceland?");
    for (const desk of [owner, ola]) {
      await row(desk.page, "Wim Widget").locator(".preview", { hasText: "My order never came" }).waitFor({ timeout: LIMIT_MS });
      await row(desk.page, "Zoe Widget").locator(".preview", { hasText: "Do you ship to Iceland?" }).waitFor({ timeout: LIMIT_MS });
    }

    // The owner takes Wim's; Ola takes Zoe's; each answers, and Ola leaves a note.
    await row(owner.page, "Wim Widget").click();
    await owner.page.getByRole("button", { name: "Assign to me" }).click();
    await owner.page.getByRole("textbox", { name: "Reply" }).fill("Sorry! A new parcel leaves today.");
    await owner.page.getByRole("button", { name: "Send reply" }).click();
    await row(ola.page, "Zoe Widget").click();
    await ola.page.getByRole("button", { name: "Assign to me" }).click();
    await row(owner.page, "Zoe Widget").locator(".who", { hasText: "Assigned to Agent Ola" }).waitFor({ timeout: LIMIT_MS });
    await ola.page.getByRole("textbox", { name: "Reply" }).fill("Yes, in 5 days.");
    await ola.page.getByRole("button", { name: "Send reply" }).click();
    await bubbles(ola.page, "Yes, in 5 days.").waitFor({ timeout: LIMIT_MS });
    await ola.page.getByRole("button", { name: "Note", exact: true }).click();
    await ola.page.getByRole("textbox", { name: "Note" }).fill("Check the Iceland tariff");
    await ola.page.getByRole("button", { name: "Add note" }).click();
    await bubbles(ola.page, "Check the Iceland tariff").waitFor({ timeout: LIMIT_MS });

    await seesOnce(wim, "Sorry! A new parcel leaves today.");
    await seesOnce(zoe, "Yes, in 5 days.");
    // The visitor writes back on the widget; the operator sees it live, once.
    await say(zoe, "Great, thanks");
    await bubbles(ola.page, "Great, thanks").waitFor({ timeout: LIMIT_MS });
    assert.equal(await bubbles(ola.page, "Great, thanks").count(), 1);
    for (const [v, other] of [
      [wim, "Yes, in 5 days."],
      [zoe, "Sorry! A new parcel leaves today."],
    ]) {
      const text = await v.page.locator(".log").innerText();
      assert.ok(!text.includes(other), `${v.name} never sees the other visitor's conversation`);
      assert.ok(!text.includes("Check the Iceland tariff"), `${v.name} never sees a note`);
    }
    await shot(owner.page, "console-team-owner-1440.png");
    await shot(ola.page, "console-team-agent-768.png");
    await shot(zoe.page, "console-team-visitor-widget.png");
  });

  test("an agent who sees only its assigned conversations never sees the other visitor's", async () => {
    const desk = (people.asa = await signIn(browser, company, { name: "Asa", email: asa.email, password: asa.password, problems, dialogs }));
    const { page } = desk;
    const { wim, zoe, owner } = people;
    await page.locator(".rows .empty").waitFor({ timeout: LIMIT_MS });
    // The owner gives Wim's conversation to Asa, in the console.
    await row(owner.page, "Wim Widget").click();
    await owner.page.getByLabel("Assignee").selectOption({ label: "Agent Asa" });
    await row(page, "Wim Widget").waitFor({ timeout: LIMIT_MS });
    // Both visitors write; Asa's inbox follows Wim live and never shows Zoe.
    await say(zoe, "Zoe again: any news?");
    await say(wim, "Wim again: any news?");
    await row(page, "Wim Widget").locator(".preview", { hasText: "Wim again: any news?" }).waitFor({ timeout: LIMIT_MS });
    await row(people.ola.page, "Zoe Widget").locator(".preview", { hasText: "Zoe again: any news?" }).waitFor({ timeout: LIMIT_MS });
    for (const view of ["All", "Unassigned", "Mine"]) {
      await page.getByRole("button", { name: view, exact: true }).click();
      await until(`${view} to be read`, async () => (await page.locator(".rows .row, .rows .empty").count()) > 0);
      assert.equal(await row(page, "Zoe Widget").count(), 0, `no Zoe under ${view}`);
    }
    assert.ok(!(await page.locator("#console").innerText()).includes("Zoe"), "Zoe's name is nowhere on Asa's page");
    const zoeChat = people.zoe.session.chatId;
    assert.equal((await api("GET", `/api/chats/${zoeChat}`, { token: asa.token })).status, 404, "nor through the API");
    assert.equal((await api("GET", `/api/chats/${zoeChat}/events`, { token: asa.token })).status, 404);

    await page.getByRole("button", { name: "Mine", exact: true }).click();
    await row(page, "Wim Widget").click();
    await bubbles(page, "Wim again: any news?").waitFor({ timeout: LIMIT_MS });
    assert.equal(await page.getByRole("button", { name: "Team & settings" }).count(), 0, "an agent has no team page");
    await page.getByRole("textbox", { name: "Reply" }).fill("Asa here: it is on its way.");
    await page.getByRole("button", { name: "Send reply" }).click();
    await seesOnce(wim, "Asa here: it is on its way.");
    // Read and answered: the row says so once the inbox has read the list again.
    await until("Asa's row to show it read and answered", async () => (await row(page, "Wim Widget").locator(".unread, .waiting").count()) === 0);
    await shot(page, "console-assigned-only-1440.png");
    await page.setViewportSize(TABLET);
    await shot(page, "console-assigned-only-768.png");
  });

  test("the team page: members invited, changed and removed; the company's settings saved", async () => {
    const { page } = people.owner;
    await page.getByRole("button", { name: "Team & settings" }).click();
    const members = page.getByRole("region", { name: "Members" });
    await members.locator("tr", { hasText: agent.email }).waitFor({ timeout: LIMIT_MS });
    await members.locator("tr", { hasText: "Owner" }).first().waitFor();

    const invited = unique("invitee");
    await page.getByLabel("Email", { exact: true }).fill(invited);
    await page.getByLabel("Role", { exact: true }).selectOption("admin");
    await page.getByLabel("Sees", { exact: true }).selectOption("all");
    await page.getByRole("button", { name: "Invite" }).click();
    await members.locator("tr", { hasText: invited }).locator("td", { hasText: "Invited" }).waitFor({ timeout: LIMIT_MS });
    const invitation = (await expectApi(200, "GET", `/api/companies/${company.id}/members`, { token: company.owner.token })).data.find((m) => m.email === invited);
    assert.deepEqual([invitation.role, invitation.status], ["admin", "invited"]);

    await page.getByLabel("Role of Agent Ola").selectOption("admin");
    await until("Ola to be an admin", async () => (await member(agent.id)).role === "admin");
    await members.getByText("Saved: Agent Ola.").waitFor({ timeout: LIMIT_MS });
    await page.getByLabel("What Agent Ola sees").selectOption("assigned");
    await until("Ola to see assigned only", async () => (await member(agent.id)).sees === "assigned");
    await page.getByLabel("Role of Agent Ola").selectOption("agent");
    await until("Ola to be an agent again", async () => (await member(agent.id)).role === "agent");

    const remove = page.getByRole("button", { name: `Remove ${invited}` });
    await remove.click();
    await remove.filter({ hasText: "Confirm removal" }).waitFor();
    assert.ok(await member(invitation.id), "one click asks, and removes nothing");
    await remove.click();
    await until("the invitation to be gone", async () => !(await member(invitation.id)));
    await members.locator("tr", { hasText: invited }).waitFor({ state: "detached", timeout: LIMIT_MS });
    await shot(page, "console-team-members-1440.png");

    await page.getByLabel("Allowed sites").fill("https://shop.example\nhttp://localhost:8080");
    await page.getByRole("region", { name: "Sites" }).getByRole("button", { name: "Save" }).click();
    await page.getByText("Sites saved.").waitFor({ timeout: LIMIT_MS });
    const hours = page.getByRole("region", { name: "Business hours" });
    await hours.getByLabel("Always open").uncheck();
    await hours.getByLabel("Time zone").fill("Europe/Berlin");
    await hours.getByLabel("Monday open").check();
    await hours.getByLabel("Monday from").fill("08:30");
    await hours.getByLabel("Monday to").fill("16:00");
    await hours.getByRole("button", { name: "Save" }).click();
    await page.getByText("Business hours saved.").waitFor({ timeout: LIMIT_MS });
    await page.getByLabel("Keep messages for (days)").fill("30");
    await page.getByRole("region", { name: "Retention" }).getByRole("button", { name: "Save" }).click();
    await page.getByText("Retention saved.").waitFor({ timeout: LIMIT_MS });
    const saved = (await expectApi(200, "GET", `/api/companies/${company.id}`, { token: company.owner.token })).data;
    assert.deepEqual(saved.allowed_origins, ["https://shop.example", "http://localhost:8080"]);
    assert.deepEqual(saved.business_hours, { time_zone: "Europe/Berlin", weekly: [{ day: "mon", from: "08:30", to: "16:00" }] });
    assert.equal(saved.retention_days, 30);

    // A new identity secret, shown once, signs visitors at once.
    await page.getByRole("button", { name: "Make a new secret" }).click();
    const shown = page.getByLabel("New identity secret");
    await shown.waitFor({ timeout: LIMIT_MS });
    const secret = await shown.inputValue();
    assert.match(secret, /^idsec_/);
    remember(secret);
    const token = identityToken(secret, { sub: unique("sub"), name: "Nina New Secret", exp: Math.floor(Date.now() / 1000) + 600 });
    const identified = await api("POST", `/api/companies/${company.id}/conversations/identify`, { body: { token } });
    assert.ok(identified.status === 200 || identified.status === 201, `the new secret signs: ${identified.text}`);

    const hooks = page.getByRole("region", { name: "Webhooks" });
    await hooks.getByLabel("Endpoint URL").fill("https://hooks.example.com/chat");
    await hooks.getByRole("button", { name: "Add webhook" }).click();
    await hooks.getByText("https://hooks.example.com/chat").waitFor({ timeout: LIMIT_MS });
    const added = await hooks.getByText(/shown once: \S+/).textContent();
    remember(added.replace(/.*shown once: /, ""));
    await scan(page, "console-team-page");
    await shot(page, "console-team-page-1440.png");
    await hooks.getByRole("button", { name: "Remove https://hooks.example.com/chat" }).click();
    await hooks.getByText("None yet.").waitFor({ timeout: LIMIT_MS });
    assert.equal((await expectApi(200, "GET", `/api/companies/${company.id}/webhooks`, { token: company.owner.token })).data.length, 0);
    await page.setViewportSize(TABLET);
    await shot(page, "console-team-page-768.png");
    await scan(page, "console-team-page-768");
    // Back to the desk: the inbox is where it was.
    await page.getByRole("button", { name: "Team & settings" }).click();
    await row(page, "Wim Widget").waitFor({ timeout: LIMIT_MS });
    await composer(people.wim.page).waitFor();
  });

  test("no page error, no CSP violation, no dialog", () => {
    assert.deepEqual(problems, []);
    assert.deepEqual(dialogs, []);
  });
});
