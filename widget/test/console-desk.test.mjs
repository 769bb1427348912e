// The console's desk, in Chromium, against the local stack of `make test`: the keys (j / k
// through the inbox, Enter opens, r reply, n note, e resolve; none while typing) at 1024 px
// and 768 px; snoozing until a chosen time and reopening; the visitor panel (who, since
// when, the personal-data export as a file); typing both ways with a visitor on the real
// widget (a note is never announced); browser notifications (a message said while offline
// told once, after the reconnect) and the tab title's count; the
// company's rooms, listed and answered. Screenshots go to $WIDGET_OUTPUT_DIR.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { chromium } from "playwright-core";
import { LAUNCH_ARGS, LIMIT_MS, OUT, PNG_1X1, SMALL_PDF, chromiumPath, composer, expectApi, need, openCompanyVisitor, scan, shot, startCompanyVisitor, teammate, until, uploadAs } from "../test-support/harness.mjs";
import { LAPTOP, TABLET, bubbles, ownCompany, row, signIn, visitor, visitorSays } from "../test-support/console.mjs";

const DEMO = { email: need("DEMO_EMAIL"), password: need("DEMO_PASSWORD") };

let browser;
let company;
let agent; // a teammate with sees: all, whose browser records its notifications
const problems = [];
const dialogs = [];

/** Stands in for the browser's Notification (headless Chromium shows none): it records
 *  what the page raises, on `window.raised`. */
function recordNotifications() {
  window.raised = [];
  class RecordedNotification {
    static permission = "granted";
    static requestPermission() {
      return Promise.resolve("granted");
    }
    constructor(title, options) {
      window.raised.push({ title, body: options && options.body, tag: options && options.tag });
    }
    close() {}
  }
  window.Notification = RecordedNotification;
}

const chosen = (page) => page.locator(".rows .row.chosen .name");
const focusedId = (page) => page.evaluate(() => document.activeElement && document.activeElement.id);
const chatOf = async (chatId) => (await expectApi(200, "GET", `/api/chats/${chatId}`, { token: company.owner.token })).data;

describe("the console's desk", { concurrency: false }, () => {
  before(async () => {
    mkdirSync(OUT, { recursive: true });
    browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: LAUNCH_ARGS });
    company = await ownCompany("Desk Co");
    agent = await teammate(company.owner.token, company.id, { role: "agent", sees: "all", name: "Agent Kai" });
  });

  after(async () => {
    if (browser) await browser.close();
  });

  test("keys: j / k choose, Enter opens, r and n write, e resolves; a key typed in a field is text", async () => {
    const desk = await signIn(browser, company, { name: "Owner", ...DEMO, viewport: LAPTOP, problems, dialogs });
    const { page } = desk;
    const ada = await visitor(company, "Ada Keys");
    await visitorSays(ada, "First in line");
    const ben = await visitor(company, "Ben Keys");
    await visitorSays(ben, "Second in line");
    // Waiting longest first: Ada, then Ben.
    await page.getByLabel("Sort").selectOption("waiting");
    await until("both rows, Ada first", async () => (await page.locator(".rows .row .name").allTextContents()).join("|") === "Ada Keys|Ben Keys");

    await page.locator("body").press("j");
    await until("j to choose Ada", async () => (await chosen(page).textContent()) === "Ada Keys");
    await page.keyboard.press("j");
    await until("j to choose Ben", async () => (await chosen(page).textContent()) === "Ben Keys");
    await page.keyboard.press("k");
    await until("k to choose Ada again", async () => (await chosen(page).textContent()) === "Ada Keys");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 2, name: "Ada Keys" }).waitFor({ timeout: LIMIT_MS });
    await bubbles(page, "First in line").waitFor({ timeout: LIMIT_MS });

    // Enter opens from anywhere but a button: off the row, it still opens the chosen one.
    await page.keyboard.press("j");
    await until("j to choose Ben", async () => (await chosen(page).textContent()) === "Ben Keys");
    await page.evaluate(() => document.activeElement.blur());
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 2, name: "Ben Keys" }).waitFor({ timeout: LIMIT_MS });

    await page.keyboard.press("r");
    await until("r to focus the reply", async () => (await focusedId(page)) === "compose");
    await page.getByRole("textbox", { name: "Reply" }).waitFor();
    // Typed into the reply, j and e are letters.
    await page.keyboard.type("just erase");
    assert.equal(await page.getByRole("textbox", { name: "Reply" }).inputValue(), "just erase");
    assert.equal(await chosen(page).textContent(), "Ben Keys", "j in a field moves nothing");
    assert.equal((await chatOf(ben.chatId)).status, "open", "e in a field resolves nothing");
    await page.getByRole("textbox", { name: "Reply" }).fill("");

    await page.evaluate(() => document.activeElement.blur());
    await page.keyboard.press("n");
    await page.getByRole("textbox", { name: "Note" }).waitFor({ timeout: LIMIT_MS });
    assert.equal(await focusedId(page), "compose");
    await page.getByRole("button", { name: "Add note" }).waitFor();

    await page.evaluate(() => document.activeElement.blur());
    await page.keyboard.press("e");
    await page.getByRole("button", { name: "Reopen" }).waitFor({ timeout: LIMIT_MS });
    await until("e to resolve Ben's", async () => (await chatOf(ben.chatId)).status === "resolved");
    assert.equal((await chatOf(ada.chatId)).status, "open", "only the open one");
    await shot(page, "console-keys-1024.png");

    await page.setViewportSize(TABLET);
    await page.keyboard.press("k");
    await until("k to work at 768 px", async () => (await chosen(page).textContent()) === "Ada Keys");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 2, name: "Ada Keys" }).waitFor({ timeout: LIMIT_MS });
    await bubbles(page, "First in line").waitFor({ timeout: LIMIT_MS });
    // Resolved, Ben's is no longer in the open list.
    await row(page, "Ben Keys").waitFor({ state: "detached", timeout: LIMIT_MS });
    assert.ok(await page.getByRole("textbox", { name: "Reply" }).isVisible(), "the composer fits at 768 px");
    await shot(page, "console-keys-768.png");
    desk.ada = ada;
    desk.ben = ben;
    await desk.context.close();
  });

  test("snooze until tomorrow 9:00 or a time of one's own, then reopen", async () => {
    const { page, context } = await signIn(browser, company, { name: "Owner", ...DEMO, problems, dialogs });
    const sam = await visitor(company, "Sam Snooze");
    await visitorSays(sam, "Call me tomorrow");
    await row(page, "Sam Snooze").click();
    await bubbles(page, "Call me tomorrow").waitFor({ timeout: LIMIT_MS });

    await page.getByRole("button", { name: "Snooze…" }).click();
    await page.getByLabel("Snooze", { exact: true }).selectOption({ label: "Until tomorrow 9:00" });
    await page.getByRole("button", { name: "Snooze", exact: true }).click();
    await page.locator(".conv .meta", { hasText: "Snoozed until" }).waitFor({ timeout: LIMIT_MS });
    // Tomorrow at 9:00 in the operator's (the browser's) time zone.
    const tomorrowNine = await page.evaluate(() => {
      const at = new Date();
      at.setDate(at.getDate() + 1);
      at.setHours(9, 0, 0, 0);
      return at.getTime();
    });
    const snoozed = await chatOf(sam.chatId);
    assert.equal(snoozed.status, "snoozed");
    assert.equal(Date.parse(snoozed.snoozed_until), tomorrowNine);
    await scan(page, "console-snoozed");
    await shot(page, "console-snoozed-1440.png");

    await page.getByRole("button", { name: "Reopen" }).click();
    await page.getByRole("button", { name: "Resolve" }).waitFor({ timeout: LIMIT_MS });
    await until("the API to say open", async () => (await chatOf(sam.chatId)).status === "open");

    // A time of one's own: one in the past is refused on the page; one ahead is kept.
    await page.getByRole("button", { name: "Snooze…" }).click();
    await page.getByLabel("Snooze", { exact: true }).selectOption("custom");
    const custom = page.getByLabel("Snooze until (date and time)");
    await custom.fill("2001-02-03T04:05");
    await page.getByRole("button", { name: "Snooze", exact: true }).click();
    await page.locator(".conv .error", { hasText: "Choose a date and time in the future, within a year." }).waitFor({ timeout: LIMIT_MS });
    assert.equal((await chatOf(sam.chatId)).status, "open");
    // Three days ahead at 10:30, as the operator's datetime field writes it.
    const ahead = await page.evaluate(() => {
      const at = new Date();
      at.setDate(at.getDate() + 3);
      at.setHours(10, 30, 0, 0);
      const two = (n) => String(n).padStart(2, "0");
      return { value: `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())}T10:30`, ms: at.getTime() };
    });
    await custom.fill(ahead.value);
    await page.getByRole("button", { name: "Snooze", exact: true }).click();
    await page.locator(".conv .meta", { hasText: "Snoozed until" }).waitFor({ timeout: LIMIT_MS });
    const expected = ahead.ms;
    assert.equal(Date.parse((await chatOf(sam.chatId)).snoozed_until), expected);
    // The snoozed list holds it; a visitor's message reopens it.
    await page.getByLabel("Status").selectOption("snoozed");
    await row(page, "Sam Snooze").waitFor({ timeout: LIMIT_MS });
    await visitorSays(sam, "Actually, now please");
    await until("the visitor's message to reopen it", async () => (await chatOf(sam.chatId)).status === "open");
    await page.getByRole("button", { name: "Resolve" }).waitFor({ timeout: LIMIT_MS });
    await context.close();
  });

  test("the visitor panel: name, email, since when; the personal-data export downloads", async () => {
    const { page, context } = await signIn(browser, company, { name: "Owner", ...DEMO, problems, dialogs });
    const pia = await visitor(company, "Pia Panel");
    await visitorSays(pia, "What do you keep about me?");
    await row(page, "Pia Panel").click();
    const panel = page.getByRole("complementary", { name: "Visitor" });
    await panel.locator("dd", { hasText: "Pia Panel" }).waitFor({ timeout: LIMIT_MS });
    await panel.locator("dd", { hasText: pia.email }).waitFor();
    const started = await chatOf(pia.chatId);
    const shown = await page.evaluate((iso) => new Date(iso).toLocaleString([], { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" }), started.created_at);
    await panel.locator("dd", { hasText: shown }).waitFor();

    await panel.getByRole("button", { name: "Export personal data" }).click();
    const link = panel.getByRole("link", { name: "download the export (JSON)" });
    await link.waitFor({ timeout: LIMIT_MS });
    const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
    const exported = JSON.parse(readFileSync(await download.path(), "utf8"));
    assert.equal(exported.data.email, pia.email);
    assert.ok(JSON.stringify(exported).includes("What do you keep about me?"), "the export holds the visitor's message");
    await scan(page, "console-visitor-panel");
    await shot(page, "console-visitor-panel-1440.png");
    await page.setViewportSize(TABLET);
    await shot(page, "console-visitor-panel-768.png");
    await context.close();
  });

  test("typing both ways with a visitor on the real widget; a note is never announced", async () => {
    const desk = await signIn(browser, company, { name: "Agent", email: agent.email, password: agent.password, problems, dialogs });
    const { page } = desk;
    const sent = [];
    const sockets = [];
    page.on("websocket", (ws) => {
      sockets.push(ws);
      ws.on("framesent", (f) => sent.push({ at: Date.now(), text: String(f.payload) }));
    });
    const tia = await openCompanyVisitor(browser, company.id, { name: "Tia Typist", number: 3, viewport: LAPTOP, problems });
    await startCompanyVisitor(tia);
    await composer(tia.page).fill("Hello from the widget");
    await composer(tia.page).press("Enter");
    await row(page, "Tia Typist").click();
    await bubbles(page, "Hello from the widget").waitFor({ timeout: LIMIT_MS });
    // The chat's own socket (for the operator's typing) opens beside the team stream.
    await until("the chat's socket", async () => sockets.length >= 1);

    // The visitor types (a notice at most every 2.5 s: it keeps typing until one shows): the
    // console names them.
    const visitorTyping = page.locator(".conv .typing", { hasText: "Tia Typist is typing…" });
    await until("the visitor's typing to show", async () => {
      await composer(tia.page).press("a");
      return (await visitorTyping.count()) === 1;
    });

    // A note first: nothing goes out; then a reply: the visitor sees the agent typing.
    await page.keyboard.press("n");
    await page.getByRole("textbox", { name: "Note" }).pressSequentially("internal only", { delay: 30 });
    const switched = Date.now();
    await page.getByRole("button", { name: "Reply", exact: true }).click();
    // The note's text stays the note's: a click does not make it a reply.
    assert.equal(await page.getByRole("textbox", { name: "Reply" }).inputValue(), "");
    const operatorTyping = tia.page.locator(".typing", { hasText: "Agent Kai is typing…" });
    await until("the operator's typing to reach the visitor", async () => {
      await page.getByRole("textbox", { name: "Reply" }).press("a");
      return (await operatorTyping.count()) === 1;
    });
    const typing = sent.filter((f) => f.text.includes('"typing"'));
    assert.ok(typing.length >= 1, "the reply was announced");
    assert.ok(
      typing.every((f) => f.at >= switched),
      "nothing was announced while writing the note",
    );
    await page.getByRole("button", { name: "Note", exact: true }).click();
    assert.equal(await page.getByRole("textbox", { name: "Note" }).inputValue(), "internal only");
    await shot(page, "console-typing-1440.png");
    await shot(tia.page, "widget-sees-operator-typing.png");
    await tia.context.close();
    await desk.context.close();
  });

  test("notifications: a visitor's message in a conversation that is mine or nobody's; the title counts", async () => {
    const desk = await signIn(browser, company, { name: "Agent", email: agent.email, password: agent.password, problems, dialogs, init: recordNotifications });
    const { page } = desk;
    await desk.context.grantPermissions(["notifications"]);
    const raised = () => page.evaluate(() => window.raised);
    await page.getByRole("button", { name: "Mine" }).click();

    const una = await visitor(company, "Una Unassigned");
    await visitorSays(una, "Anyone there?");
    await until("a notification for the unassigned conversation", async () => (await raised()).some((n) => n.title === "Una Unassigned" && n.body === "Anyone there?"));

    // Taken by the owner: the agent is no longer told.
    const ota = await visitor(company, "Ota Others");
    await expectApi(200, "POST", `/api/chats/${ota.chatId}/assign`, { token: company.owner.token, body: { assignee_id: company.owner.id } });
    await visitorSays(ota, "Owner, are you there?");
    // Taken by the agent: it is told.
    const mia = await visitor(company, "Mia Mine");
    await expectApi(200, "POST", `/api/chats/${mia.chatId}/assign`, { token: agent.token, body: { assignee_id: agent.id } });
    await visitorSays(mia, "It is me again");
    await until("a notification for the agent's own", async () => (await raised()).some((n) => n.title === "Mia Mine"));
    await page.getByRole("button", { name: "All" }).click();
    await row(page, "Ota Others").locator(".preview", { hasText: "Owner, are you there?" }).waitFor({ timeout: LIMIT_MS });
    assert.ok(!(await raised()).some((n) => n.title === "Ota Others"), "no notification for a teammate's conversation");

    // The title counts what the agent has not read (as the API counts it), and drops what it reads.
    const unread = async () => (await expectApi(200, "GET", `/api/inbox?company_id=${company.id}&per_page=50`, { token: agent.token })).data.reduce((n, r) => n + r.unread_count, 0);
    const before = await unread();
    assert.ok(before >= 3, "Una's, Ota's and Mia's at least");
    await until(`the title to count ${before}`, async () => (await page.title()) === `(${before}) ${company.name} · Console`);
    await row(page, "Mia Mine").click();
    await bubbles(page, "It is me again").waitFor({ timeout: LIMIT_MS });
    await until(`the title to count ${before - 1}`, async () => (await page.title()) === `(${before - 1}) ${company.name} · Console`);
    assert.equal(await unread(), before - 1, "the API agrees");

    // Offline and back: what a visitor said meanwhile is told once, from the chat's log.
    await desk.context.setOffline(true);
    await page.locator("#console[data-status=offline]").waitFor({ timeout: LIMIT_MS });
    await visitorSays(una, "Said while you were away");
    await desk.context.setOffline(false);
    await page.locator("#console[data-status=online]").waitFor({ timeout: LIMIT_MS });
    await until("the missed message to be told", async () => (await raised()).some((n) => n.body === "Said while you were away"));
    await visitorSays(una, "And once more");
    await until("the next one to be told", async () => (await raised()).some((n) => n.body === "And once more"));
    assert.equal((await raised()).filter((n) => n.body === "Said while you were away").length, 1, "told once");
    await desk.context.close();
  });

  test("rooms: listed under Rooms, opened and answered", async () => {
    const { page, context } = await signIn(browser, company, { name: "Owner", ...DEMO, problems, dialogs });
    const room = (await expectApi(201, "POST", "/api/chats", { token: company.owner.token, body: { company_id: company.id, name: "Kettle owners club", password: "brass kettle orbit lantern" } })).data;
    await expectApi(201, "POST", `/api/chats/${room.id}/messages`, { token: agent.token, body: { body: "Welcome to the club" } });
    await page.getByRole("button", { name: "Rooms" }).click();
    await row(page, "Kettle owners club").waitFor({ timeout: LIMIT_MS });
    assert.equal(await page.getByLabel("Status").isVisible(), false, "rooms have no status to filter on");
    await row(page, "Kettle owners club").click();
    await bubbles(page, "Welcome to the club").waitFor({ timeout: LIMIT_MS });
    await page.locator(".compose .hint", { hasText: "Everyone in the room sees this." }).waitFor();
    await page.getByRole("textbox", { name: "Reply" }).fill("Glad to be here");
    await page.getByRole("button", { name: "Send reply" }).click();
    await bubbles(page, "Glad to be here").waitFor({ timeout: LIMIT_MS });
    const messages = await expectApi(200, "GET", `/api/chats/${room.id}/messages`, { token: agent.token });
    assert.ok(messages.data.some((m) => m.body === "Glad to be here" && m.author.id === company.owner.id), "the room holds the owner's answer");
    // Live: a teammate's message shows in the open room.
    await expectApi(201, "POST", `/api/chats/${room.id}/messages`, { token: agent.token, body: { body: "Live in the room" } });
    await bubbles(page, "Live in the room").waitFor({ timeout: LIMIT_MS });
    await scan(page, "console-room");
    await shot(page, "console-room-1440.png");
    await context.close();
  });

  test("files: a visitor's file arrives live with a link; the operator pastes a screenshot and drops a PDF, and the visitor reads both", async () => {
    const vic = await visitor(company, "Vic Files");
    const { page, context } = await signIn(browser, company, { name: "Owner", ...DEMO, problems, dialogs });
    await visitorSays(vic, "My kettle's label is attached");
    await row(page, "Vic Files").click();
    await bubbles(page, "My kettle's label is attached").waitFor({ timeout: LIMIT_MS });
    const photo = await uploadAs(vic.token, vic.chatId, "kettle.png", "image/png", PNG_1X1);
    await expectApi(201, "POST", `/api/chats/${vic.chatId}/messages`, { token: vic.token, body: { attachment_ids: [photo] } });
    const image = page.locator(".log .attachments img[alt='kettle.png']");
    await until("the visitor's image shown, loaded through its link", async () => (await image.count()) === 1 && (await image.evaluate((i) => i.complete && i.naturalWidth === 1)));

    // The operator's own: a pasted screenshot and a dropped PDF, sent as one reply.
    const box = page.getByRole("textbox", { name: "Reply" });
    await box.evaluate((el, bytes) => {
      const files = new DataTransfer();
      files.items.add(new File([new Uint8Array(bytes)], "steps.png", { type: "image/png" }));
      el.dispatchEvent(new ClipboardEvent("paste", { clipboardData: files, bubbles: true, cancelable: true }));
    }, [...PNG_1X1]);
    await page.locator(".thread").evaluate((zone, bytes) => {
      const files = new DataTransfer();
      files.items.add(new File([new Uint8Array(bytes)], "manual.pdf", { type: "application/pdf" }));
      zone.dispatchEvent(new DragEvent("drop", { dataTransfer: files, bubbles: true, cancelable: true }));
    }, [...SMALL_PDF]);
    await until("both files ready", async () => (await page.locator(".file-chip", { hasText: "ready" }).count()) === 2);
    await box.fill("Here is how to descale it");
    await page.getByRole("button", { name: "Send reply" }).click();
    await bubbles(page, "Here is how to descale it").waitFor({ timeout: LIMIT_MS });
    assert.equal(await page.locator(".file-chip").count(), 0, "the tray is empty once sent");
    const read = await expectApi(200, "GET", `/api/chats/${vic.chatId}/messages`, { token: vic.token });
    const reply = read.data.find((m) => m.body === "Here is how to descale it");
    assert.deepEqual(reply.attachments.map((a) => a.filename), ["steps.png", "manual.pdf"]);
    assert.ok(reply.attachments.every((a) => /X-Amz-Expires=\d+/.test(a.url)), "the visitor gets links");
    await page.locator(".log .attachments a.file", { hasText: "manual.pdf" }).waitFor();
    await scan(page, "console-files");
    await shot(page, "console-files-1440.png");
    await context.close();
  });

  test("no page error, no CSP violation, no dialog", () => {
    assert.deepEqual(problems, []);
    assert.deepEqual(dialogs, []);
  });
});
