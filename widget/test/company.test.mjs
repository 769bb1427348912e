// The widget in company mode (data-company-id), in Chromium, against the local stack of
// `make test`: two visitors each get a conversation of their own and see only it and the
// team's replies (staff shown as staff, notes never); an identified visitor
// (data-user-token, signed by the site with the company's identity secret) skips the code,
// and a bad or expired token is refused with a clear message; outside business hours the
// widget says the team replies by email and asks for the email first; links are clickable
// (http, https, mailto) and a `javascript:` one is not; axe stays clean; screenshots at
// 1200 px and 375 px go to $WIDGET_OUTPUT_DIR.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { chromium } from "playwright-core";
import { LAUNCH_ARGS, LIMIT_MS, OUT, openCompanyVisitor, startCompanyVisitor, bubbles, chromiumPath, companySession, composer, expectApi, identityToken, need, remember, say, scan, seesOnce, shot, status, unique, until, watch, uploadAs, PNG_1X1, SMALL_PDF } from "../test-support/harness.mjs";

const API = need("CHAT_API_URL");
const WIDE = { width: 1200, height: 800 };
const NARROW = { width: 375, height: 740 };

let browser;
let owner; // the company owner's API token (a member: staff)
let companyId;
let secret; // the company's identity secret
let team; // a page holding the team stream open: the company is "online"
const problems = [];
const visitors = {};

async function openVisitor(name, number, viewport) {
  const visitor = await openCompanyVisitor(browser, companyId, { name, number, viewport, problems });
  visitors[name] = visitor;
  return visitor;
}

const session = companySession;
const start = startCompanyVisitor;

/** A member of the company answers (or writes a note) with its API token. */
async function staffSays(visitor, body, internal = false) {
  await expectApi(201, "POST", `/api/chats/${visitor.session.chatId}/messages`, { token: owner, body: internal ? { body, internal: true } : { body } });
}

describe("chat widget in company mode", { concurrency: false }, () => {
  before(async () => {
    mkdirSync(OUT, { recursive: true });
    browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: LAUNCH_ARGS });
    const login = await expectApi(201, "POST", "/api/tokens", { body: { email: need("DEMO_EMAIL"), password: need("DEMO_PASSWORD"), name: "widget company tests" } });
    owner = login.data.token;
    remember(owner);
    const company = await expectApi(201, "POST", "/api/companies", { token: owner, body: { name: "Kettle & Co" } });
    companyId = company.data.id;
    secret = (await expectApi(201, "POST", `/api/companies/${companyId}/identity-secret`, { token: owner })).data.secret;
    remember(secret);
    // A member with the team stream open: the availability says someone is there.
    const ticket = await expectApi(201, "POST", `/api/companies/${companyId}/realtime-ticket`, { token: owner });
    team = await (await browser.newContext()).newPage();
    const opened = await team.evaluate(
      (url) =>
        new Promise((resolve) => {
          const ws = new WebSocket(url);
          window.teamSocket = ws;
          ws.onopen = () => resolve(true);
          ws.onerror = () => resolve(false);
        }),
      ticket.data.url,
    );
    assert.ok(opened, "the team stream opens");
    await until("the company to show as online", async () => (await expectApi(200, "GET", `/api/companies/${companyId}/availability`)).data.online);
  });

  after(async () => {
    if (browser) await browser.close();
  });

  test("the company demo page embeds the widget in company mode", async () => {
    const page = await (await fetch(`${API}/widget/company-demo/${companyId}?visitor=2`)).text();
    assert.match(page, new RegExp(`src="/widget\\.js\\?v=[0-9a-f]{16}" data-company-id="${companyId}"`));
    const bad = await fetch(`${API}/widget/company-demo/${companyId}?visitor=10`);
    assert.equal(bad.status, 422);
  });

  test("the join form: name and email, no password; the header is honest; axe; screenshots", async () => {
    const ann = await openVisitor("Ann", 1, WIDE);
    const bo = await openVisitor("Bo", 2, NARROW);
    for (const v of [ann, bo]) {
      await v.page.getByLabel("Your name", { exact: true }).waitFor({ timeout: LIMIT_MS });
      await v.page.getByRole("heading", { name: "Kettle & Co" }).waitFor();
      await v.page.locator(".status", { hasText: "Our team is here" }).waitFor({ timeout: LIMIT_MS });
      assert.equal(await v.page.getByLabel("Chat password").count(), 0);
    }
    // On a phone, fields are 16 px (no zoom on focus); errors sit outside the labels.
    assert.equal(await bo.page.getByLabel("Email", { exact: true }).evaluate((el) => getComputedStyle(el).fontSize), "16px");
    await bo.page.getByRole("button", { name: "Email me a code" }).click();
    const error = bo.page.locator("#join-email-error");
    await until("the field error", async () => (await error.textContent()) === "Please fill this in.");
    assert.equal(await bo.page.locator("label #join-email-error").count(), 0, "not inside the label");
    assert.equal(await bo.page.getByLabel("Email", { exact: true }).getAttribute("aria-describedby"), "join-email-error");
    await shot(ann.page, "company-join-1200.png");
    await shot(bo.page, "company-join-375.png");
    await scan(ann.page, "company-join");
    await scan(bo.page, "company-join-narrow");
  });

  test("two visitors each get their own conversation and see only it and the team's replies", async () => {
    const { Ann: ann, Bo: bo } = visitors;
    await Promise.all([start(ann), start(bo)]);
    assert.notEqual(ann.session.chatId, bo.session.chatId, "a conversation each");
    for (const v of [ann, bo]) await until(`${v.name} connected`, async () => (await status(v.page)) === "online");
    // The header never says "Online" for an open socket: it says what the team does.
    await ann.page.locator(".status", { hasText: "Our team is here" }).waitFor({ timeout: LIMIT_MS });
    await say(ann, "Hello, my order 1234 has not arrived 📦");
    await say(bo, "مرحبا, a question about invoice 77");
    await staffSays(ann, "Hi Ann, we are on it: order 1234 ships today.");
    await staffSays(ann, "Note: Ann is a VIP customer", true);
    await staffSays(bo, "Hello Bo, the invoice is on its way.");
    await seesOnce(ann, "Hi Ann, we are on it: order 1234 ships today.");
    await seesOnce(bo, "Hello Bo, the invoice is on its way.");
    // The staff reply looks like staff: the member's name, an initials badge, a "Team" tag.
    const reply = ann.page.locator(".msg.staff", { hasText: "we are on it" });
    assert.equal(await reply.locator(".author").textContent(), "Demo Operator");
    assert.equal(await reply.locator(".avatar").textContent(), "DO");
    assert.equal(await reply.locator(".role").textContent(), "Team");
    assert.equal(await ann.page.locator(".msg.mine", { hasText: "order 1234 has not arrived" }).locator(".author").textContent(), "You");
    // Each sees its own conversation only, and never a note.
    await say(ann, "Thanks!");
    await seesOnce(ann, "Thanks!");
    for (const text of ["مرحبا, a question about invoice 77", "Hello Bo, the invoice is on its way.", "Note: Ann is a VIP customer"]) assert.equal(await bubbles(ann.page, text).count(), 0, `Ann never sees "${text}"`);
    for (const text of ["Hello, my order 1234 has not arrived 📦", "Hi Ann, we are on it: order 1234 ships today.", "Thanks!", "Note: Ann is a VIP customer"]) assert.equal(await bubbles(bo.page, text).count(), 0, `Bo never sees "${text}"`);
    assert.equal(await ann.page.locator(".log .msg").count(), 3, "Ann's conversation: her two messages and the reply");
    assert.equal(await bo.page.locator(".log .msg").count(), 2);
  });

  test("links: http(s) and mailto are clickable, javascript: stays text", async () => {
    const { Ann: ann } = visitors;
    const text = "See https://help.example/returns?x=1, write to mailto:help@kettle.example or try javascript:alert(document.domain) (not a link).";
    await staffSays(ann, text);
    const bubble = ann.page.locator(".msg.staff .bubble", { hasText: "See https://help.example/returns" });
    await bubble.waitFor({ timeout: LIMIT_MS });
    assert.equal(await bubble.textContent(), text, "the text is unchanged");
    const links = bubble.locator("a");
    assert.equal(await links.count(), 2);
    assert.equal(await links.nth(0).getAttribute("href"), "https://help.example/returns?x=1");
    assert.equal(await links.nth(0).textContent(), "https://help.example/returns?x=1", "the comma is the sentence's");
    assert.equal(await links.nth(1).getAttribute("href"), "mailto:help@kettle.example");
    for (const i of [0, 1]) {
      assert.equal(await links.nth(i).getAttribute("rel"), "noopener noreferrer nofollow");
      assert.equal(await links.nth(i).getAttribute("target"), "_blank");
    }
    assert.equal(await ann.page.locator('.log a[href^="javascript"]').count(), 0, "javascript: is not a link");
    // Clicking opens the page in a new tab.
    await ann.context.route("https://help.example/**", (route) => route.fulfill({ contentType: "text/html", body: "<title>Help</title>" }));
    const [popup] = await Promise.all([ann.context.waitForEvent("page"), links.nth(0).click()]);
    await popup.waitForLoadState();
    assert.equal(popup.url(), "https://help.example/returns?x=1");
    await popup.close();
    await ann.page.bringToFront();
  });

  test("a resolved conversation says so, and writing reopens it", async () => {
    const { Ann: ann, Bo: bo } = visitors;
    await expectApi(200, "POST", `/api/chats/${ann.session.chatId}/status`, { token: owner, body: { status: "resolved" } });
    const note = ann.page.locator(".chat-state", { hasText: "This conversation is resolved" });
    await note.waitFor({ timeout: LIMIT_MS });
    await shot(ann.page, "company-resolved-1200.png");
    await say(ann, "One more thing, sorry!");
    await note.waitFor({ state: "hidden", timeout: LIMIT_MS });
    const chat = await expectApi(200, "GET", `/api/chats/${ann.session.chatId}`, { token: owner });
    assert.equal(chat.data.status, "open", "the guest's message reopened it");
    await staffSays(bo, "Anything else I can help with? https://help.example/faq");
    await seesOnce(bo, "Anything else I can help with? https://help.example/faq");
    await shot(ann.page, "company-conversation-1200.png");
    await shot(bo.page, "company-conversation-375.png");
    await scan(ann.page, "company-conversation");
    await scan(bo.page, "company-conversation-narrow");
  });

  test("sign out has an accessible name and forgets the token", async () => {
    const { Bo: bo } = visitors;
    await bo.page.getByRole("button", { name: "Sign out" }).click();
    await bo.page.getByLabel("Email", { exact: true }).waitFor();
    assert.equal(await session(bo), null);
  });

  test("an identified visitor skips the code; a bad or expired token is refused with a clear message", async () => {
    const now = Math.floor(Date.now() / 1000);
    const site = (token) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Kettle shop</title></head><body><main><h1>Your account</h1></main>
<script src="/widget.js" data-company-id="${companyId}" data-user-token="${token}" data-open="true" async></script></body></html>`;
    const openSite = async (name, token, viewport = WIDE) => {
      const context = await browser.newContext({ viewport, locale: "en-US" });
      // A page the test fulfils has no address, so Chromium counts it as public: opening the
      // loopback WebSocket needs the local-network-access permission (a deployed API needs none).
      await context.grantPermissions(["local-network-access"]);
      // The company's own page (its server put the signed token in), on the API's origin.
      await context.route(`${API}/test-site/**`, (route) => route.fulfill({ contentType: "text/html", body: site(token) }));
      const page = await context.newPage();
      watch(page, name, problems);
      await page.goto(`${API}/test-site/account`);
      return { context, page, name };
    };

    const ida = await openSite("Ida", identityToken(secret, { sub: "shop-user-42", name: "Ida Identified", email: unique("ida"), exp: now + 600 }));
    await composer(ida.page).waitFor({ timeout: LIMIT_MS });
    assert.equal(await ida.page.getByLabel("6-digit code").count(), 0, "no code asked");
    await until("Ida connected", async () => (await status(ida.page)) === "online");
    await say(ida, "Logged in, no code needed 🙂");
    const chatId = await ida.page.evaluate(() => {
      for (let i = 0; i < localStorage.length; i++) {
        const key = localStorage.key(i);
        if (key.endsWith(":session")) return JSON.parse(localStorage.getItem(key)).chatId;
      }
    });
    await expectApi(201, "POST", `/api/chats/${chatId}/messages`, { token: owner, body: { body: "Welcome back, Ida." } });
    await seesOnce(ida, "Welcome back, Ida.");
    await shot(ida.page, "company-identified-1200.png");
    await ida.context.close();

    const refused = "We could not confirm your sign-in on this site (it may have expired). Continue with your email instead.";
    const forged = await openSite("Forger", identityToken("idsec_not-the-company-secret-at-all", { sub: "shop-user-42", exp: now + 600 }), NARROW);
    await forged.page.locator(".notice", { hasText: refused }).waitFor({ timeout: LIMIT_MS });
    await forged.page.getByLabel("Email", { exact: true }).waitFor();
    assert.equal(await composer(forged.page).count(), 0, "no conversation for a forged token");
    await shot(forged.page, "company-identify-refused-375.png");
    await scan(forged.page, "company-identify-refused");
    await forged.context.close();

    const stale = await openSite("Stale", identityToken(secret, { sub: "shop-user-42", exp: now - 60 }));
    await stale.page.locator(".notice", { hasText: refused }).waitFor({ timeout: LIMIT_MS });
    assert.equal(await composer(stale.page).count(), 0, "no conversation for an expired token");
    await stale.context.close();
  });

  test("outside business hours: \"We'll reply by email\", and the email is asked for first", async () => {
    // Open one hour, on a day that is neither today nor yesterday (UTC): closed now.
    const days = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    const day = days[(new Date().getUTCDay() + 3) % 7];
    await expectApi(200, "PUT", `/api/companies/${companyId}`, { token: owner, body: { business_hours: { time_zone: "UTC", weekly: [{ day, from: "09:00", to: "10:00" }] } } });
    await until("the company to be closed", async () => !(await expectApi(200, "GET", `/api/companies/${companyId}/availability`)).data.open_now);
    try {
      for (const [viewport, width] of [
        [WIDE, 1200],
        [NARROW, 375],
      ]) {
        const cy = await openVisitor(`Cy${width}`, width === 1200 ? 3 : 4, viewport);
        const { page } = cy;
        await page.locator(".status", { hasText: "We'll reply by email" }).waitFor({ timeout: LIMIT_MS });
        await page.getByText("We are away right now. Start with your email, write to us, and we'll reply by email.").waitFor();
        const order = await page.locator("form input").evaluateAll((els) => els.map((e) => e.id));
        assert.deepEqual(order, ["join-email", "join-name"], "the email first");
        assert.equal(await page.locator("#join-email").getAttribute("data-autofocus"), "", "the email field takes the focus");
        await shot(page, `company-away-${width}.png`);
        if (width === 375) await scan(page, "company-away");
        // Writing still works: the visitor's conversation opens, and the team answers by email later.
        if (width === 1200) {
          await start(cy);
          await say(cy, "Are you open tomorrow?");
          // Once connected, the header still says what the team does, not "Online".
          await until("Cy connected", async () => (await status(page)) === "online");
          await page.locator(".status", { hasText: "We'll reply by email" }).waitFor({ timeout: LIMIT_MS });
        }
        await cy.context.close();
      }
    } finally {
      await expectApi(200, "PUT", `/api/companies/${companyId}`, { token: owner, body: { business_hours: null } });
    }
  });

  test("files: picked, pasted and dropped go up with their state; a wrong type is refused on its chip; the team sees them and its own file arrives live with a link", async () => {
    const { Ann: ann } = visitors;
    const { page } = ann;
    // A 1x1 PNG, a small PDF, and an SVG (never accepted: it can carry script).
    const [png, pdf] = [PNG_1X1, SMALL_PDF];
    await page.locator("input[type=file]").setInputFiles([
      { name: "report.pdf", mimeType: "application/pdf", buffer: pdf },
      { name: "logo.svg", mimeType: "image/svg+xml", buffer: Buffer.from("<svg xmlns='http://www.w3.org/2000/svg'/>") },
    ]);
    // A screenshot pasted into the message box, and a photo dropped on the conversation.
    await composer(page).evaluate((box, bytes) => {
      const files = new DataTransfer();
      files.items.add(new File([new Uint8Array(bytes)], "screenshot.png", { type: "image/png" }));
      box.dispatchEvent(new ClipboardEvent("paste", { clipboardData: files, bubbles: true, cancelable: true }));
    }, [...png]);
    await page.locator(".screen", { has: composer(page) }).last().evaluate((zone, bytes) => {
      const files = new DataTransfer();
      files.items.add(new File([new Uint8Array(bytes)], "dropped.png", { type: "image/png" }));
      zone.dispatchEvent(new DragEvent("drop", { dataTransfer: files, bubbles: true, cancelable: true }));
    }, [...png]);
    const chips = page.locator(".file-chip");
    await until("three files ready and the SVG refused", async () => (await chips.filter({ hasText: "ready" }).count()) === 3 && (await page.locator(".file-chip [role=alert]").count()) === 1);
    assert.equal(await page.locator(".file-chip [role=alert]").textContent(), "logo.svg: this type of file can't be sent (images, PDF, text, office documents and zip can).");
    await shot(page, "company-files-chips-1200.png");
    await page.getByRole("button", { name: "Remove logo.svg" }).click();
    await composer(page).press("Enter");

    // Sent as one message with no text: two previews and a download, through fresh links.
    const sent = page.locator(".log .msg:not([data-state]) .attachments");
    await until("the message of files confirmed", async () => (await sent.count()) === 1);
    await until("both images loaded", async () => (await sent.locator("img").evaluateAll((imgs) => imgs.filter((i) => i.complete && i.naturalWidth === 1).length)) === 2);
    const download = sent.locator("a.file");
    assert.match(await download.textContent(), /^report\.pdf · \d+ B$/);
    assert.equal(await download.getAttribute("download"), "report.pdf");
    assert.equal(await chips.count(), 0, "the tray is empty once they are sent");

    // The team sees the files through the API; its own file reaches the visitor live.
    const read = await expectApi(200, "GET", `/api/chats/${ann.session.chatId}/messages`, { token: owner });
    const files = read.data.flatMap((m) => m.attachments || []).map((a) => a.filename).sort();
    assert.deepEqual(files, ["dropped.png", "report.pdf", "screenshot.png"]);
    const labelId = await uploadAs(owner, ann.session.chatId, "label.pdf", "application/pdf", pdf);
    await expectApi(201, "POST", `/api/chats/${ann.session.chatId}/messages`, { token: owner, body: { body: "Your return label", attachment_ids: [labelId] } });
    const label = page.locator(".log .attachments a.file", { hasText: "label.pdf" });
    await until("the team's file shows with its link", async () => (await label.count()) === 1);
    assert.match(await label.getAttribute("href"), /X-Amz-Expires=\d+/, "a presigned link, read for the live message");
    await shot(page, "company-files-1200.png");
    await scan(page, "company-files");
  });

  test("no page error and no Content-Security-Policy violation on any page", () => {
    assert.deepEqual(problems, []);
  });
});
