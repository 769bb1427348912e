// The chat widget in a real browser (Debian's headless Chromium, driven by playwright-core),
// against the local stack of `make test`: two guests in two browser contexts join through
// the emailed codes (read from moto's SES), talk live, edit and delete, go offline and come
// back, and the pages are scanned by axe-core. Screenshots go to $WIDGET_OUTPUT_DIR.
//
// Run by infra/local/test.sh (node --test); needs CHAT_API_URL, MOTO_URL, REALTIME_URL,
// DEMO_EMAIL, DEMO_PASSWORD, and Debian's chromium (or CHROMIUM=<its path>). Every wait is on a condition, with a
// generous limit for a slow 2-core CI machine; nothing sleeps for a fixed time.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { chromium } from "playwright-core";
import { LAUNCH_ARGS, LIMIT_MS, OUT, bubbles, chromiumPath, codeFor, composer, confirmed, expectApi, need, remember, say, scan, seesOnce as shownOnce, shot, status, unique, until, watch as watchFor } from "../test-support/harness.mjs";

const API = need("CHAT_API_URL");
const CHAT_PASSWORD = "widget-test-chat-pw";

// ------------------------------------------------------------------ the run --

let browser;
let owner; // API token of the chat's owner
let chatId;
const problems = []; // page errors and CSP violations, of every page
const guests = {}; // name -> { context, page, email, storageKey }

async function openGuest(name, guestNumber, { offlineCapable = true } = {}) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 760 }, locale: "en-US" });
  const page = await context.newPage();
  watch(page, name);
  await page.goto(`${API}/widget/demo/${chatId}?guest=${guestNumber}`);
  await page.locator(".launcher").waitFor();
  const guest = { context, page, name, email: unique(name.toLowerCase()), storageKey: `demo-${chatId}-guest-${guestNumber}`, offlineCapable };
  guests[name] = guest;
  return guest;
}

const watch = (page, name) => watchFor(page, name, problems);

async function join(guest, password = CHAT_PASSWORD) {
  const { page } = guest;
  await page.getByLabel("Your name", { exact: true }).fill(guest.name);
  await page.getByLabel("Email", { exact: true }).fill(guest.email);
  await page.getByLabel("Chat password").fill(password);
  await page.getByRole("button", { name: "Email me a code" }).click();
  const codeBox = page.getByLabel("6-digit code");
  await codeBox.waitFor({ timeout: LIMIT_MS });
  const code = await codeFor(guest.email);
  // As pasted from an email client: spaces around and inside; six digits submit by themselves.
  await codeBox.fill(` ${code.slice(0, 3)} ${code.slice(3)} `);
  await composer(page).waitFor({ timeout: LIMIT_MS });
  guest.session = await session(guest);
  remember(guest.session.token);
}

async function session(guest) {
  return guest.page.evaluate((key) => JSON.parse(localStorage.getItem(`chat-widget:${key}:session`) || "null"), guest.storageKey);
}

/** Shown once, and confirmed (no pending copy of it left in the log). */
async function seesOnce(guest, text) {
  await shownOnce(guest, text);
  assert.equal(await confirmed(guest.page, text).count(), 1);
}

async function messageIds(page) {
  return page.locator(".log .msg[data-id]").evaluateAll((els) => els.map((e) => e.getAttribute("data-id")));
}

describe("chat widget in Chromium", { concurrency: false }, () => {
  before(async () => {
    mkdirSync(OUT, { recursive: true });
    browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: LAUNCH_ARGS });
    const login = await expectApi(201, "POST", "/api/tokens", { body: { email: need("DEMO_EMAIL"), password: need("DEMO_PASSWORD"), name: "widget tests" } });
    owner = login.data.token;
    remember(owner);
    const company = await expectApi(201, "POST", "/api/companies", { token: owner, body: { name: "Widget Test Company" } });
    // The site of the cross-origin test below: the functions answer CORS, and adding a
    // site is an API call (the local stack's deployment list is empty).
    await expectApi(200, "PUT", `/api/companies/${company.data.id}`, { token: owner, body: { allowed_origins: ["https://shop.example"] } });
    const chat = await expectApi(201, "POST", "/api/chats", { token: owner, body: { company_id: company.data.id, name: "Widget support", password: CHAT_PASSWORD } });
    chatId = chat.data.id;
  });

  after(async () => {
    if (browser) await browser.close();
  });

  test("the script is served with its caching headers and the demo page embeds it", async () => {
    const bare = await fetch(`${API}/widget.js`, { headers: { "accept-encoding": "identity" } });
    assert.equal(bare.status, 200);
    assert.equal(bare.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal(bare.headers.get("x-content-type-options"), "nosniff");
    assert.equal(bare.headers.get("cache-control"), "public, max-age=300");
    const etag = bare.headers.get("etag");
    assert.match(etag, /^"[0-9a-f]{16}"$/);
    const version = etag.slice(1, -1);
    const again = await fetch(`${API}/widget.js`, { headers: { "accept-encoding": "identity", "if-none-match": etag } });
    assert.equal(again.status, 304);
    const gzipped = await fetch(`${API}/widget.js`, { headers: { "accept-encoding": "gzip" } });
    assert.equal(gzipped.headers.get("content-encoding"), "gzip");
    assert.equal(gzipped.headers.get("etag"), `"${version}-gzip"`);
    assert.equal(await gzipped.text(), await bare.text(), "the same script, gzipped");
    const versioned = await fetch(`${API}/widget.js?v=${version}`);
    assert.equal(versioned.headers.get("cache-control"), "public, max-age=31536000, immutable");
    const page = await (await fetch(`${API}/widget/demo/${chatId}`)).text();
    assert.ok(page.includes(`src="/widget.js?v=${version}" data-chat-id="${chatId}"`), page);
    const bad = await fetch(`${API}/widget/demo/%3Cscript%3E`);
    assert.equal(bad.status, 404);
    assert.equal(bad.headers.get("content-type"), "application/json");
  });

  test("keyboard: the launcher opens the panel into its first field; Escape closes it back to the launcher", async () => {
    const ann = await openGuest("Ann", 1);
    const { page } = ann;
    // The demo opens the panel at load (data-open): close it, then use only the keyboard.
    await page.getByRole("button", { name: "Minimise chat" }).click();
    await page.locator("main a").focus();
    await page.keyboard.press("Tab");
    const launcherFocused = () => page.evaluate(() => document.activeElement?.shadowRoot?.activeElement?.classList.contains("launcher"));
    await until("the launcher to take focus from Tab", launcherFocused);
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement.shadowRoot.activeElement).outlineStyle);
    assert.notEqual(outline, "none", "visible focus on the launcher");
    await page.keyboard.press("Enter");
    await until("focus in the name field", () => page.evaluate(() => document.activeElement?.shadowRoot?.activeElement?.id === "join-name"));
    await page.keyboard.press("Escape");
    await until("the panel to close and focus to return", async () => (await page.locator(".panel").isHidden()) && (await launcherFocused()));
    await page.keyboard.press("Enter");
    await page.getByLabel("Your name", { exact: true }).waitFor();
  });

  test("join screen: axe finds no serious or critical violation; screenshot", async () => {
    const { page } = guests.Ann;
    await shot(page, "join.png");
    await scan(page, "join-screen");
  });

  test("a wrong chat password and a wrong code get clear errors", async () => {
    const { page } = guests.Ann;
    const stranger = unique("stranger");
    await page.getByLabel("Your name", { exact: true }).fill("Stranger");
    await page.getByLabel("Email", { exact: true }).fill(stranger);
    await page.getByLabel("Chat password").fill("not-the-password");
    await page.getByRole("button", { name: "Email me a code" }).click();
    await page.getByText("The chat password is not correct.").waitFor({ timeout: LIMIT_MS });
    await page.getByLabel("Chat password").fill(CHAT_PASSWORD);
    await page.getByRole("button", { name: "Email me a code" }).click();
    const codeBox = page.getByLabel("6-digit code");
    await codeBox.waitFor({ timeout: LIMIT_MS });
    const code = await codeFor(stranger);
    const wrong = code === "111111" ? "222222" : "111111";
    await codeBox.fill(wrong);
    await page.getByText("That code is wrong or has expired").waitFor({ timeout: LIMIT_MS });
    // Asking again for the same address within the minute: throttled, with the wait.
    await page.getByRole("button", { name: "Use another email" }).click();
    await page.getByLabel("Email", { exact: true }).fill(stranger);
    await page.getByRole("button", { name: "Email me a code" }).click();
    await page.getByText(/Too many attempts\. Try again in \d+ seconds\./).waitFor({ timeout: LIMIT_MS });
  });

  test("both guests join through the emailed codes", async () => {
    const bob = await openGuest("Bob", 2);
    await Promise.all([join(guests.Ann), join(bob)]);
    for (const g of [guests.Ann, bob]) {
      await until(`${g.name} online`, async () => (await status(g.page)) === "online");
    }
  });

  test("messages appear live on the other side; typing shows; emoji and RTL text stay intact", async () => {
    const { Ann: ann, Bob: bob } = guests;
    await say(ann, "Hello Bob 👋");
    await seesOnce(bob, "Hello Bob 👋");
    await composer(bob.page).pressSequentially("Hi", { delay: 30 });
    await ann.page.locator(".typing", { hasText: "Bob is typing…" }).waitFor({ timeout: LIMIT_MS });
    await composer(bob.page).fill("");
    await say(bob, "مرحبا Ann! שלום 🙂");
    await seesOnce(ann, "مرحبا Ann! שלום 🙂");
    // Announced to screen readers through the live region.
    await until("the live region to announce Bob's message", async () => (await ann.page.locator(".sr[aria-live]").textContent()) === "Bob: مرحبا Ann! שלום 🙂");
    const author = await ann.page.locator(".msg", { hasText: "مرحبا Ann!" }).locator(".author").textContent();
    assert.equal(author, "Bob");
    assert.equal(await ann.page.locator(".msg", { hasText: "مرحبا Ann!" }).locator(".bubble").getAttribute("dir"), "auto");
  });

  test("edits and deletions show live; only one's own messages have the buttons", async () => {
    const { Ann: ann, Bob: bob } = guests;
    await say(ann, "This has a typo: teh");
    await seesOnce(bob, "This has a typo: teh");
    assert.equal(await bob.page.locator(".msg", { hasText: "This has a typo" }).getByRole("button").count(), 0, "no edit/delete on others' messages");
    const mine = ann.page.locator(".msg.mine", { hasText: "This has a typo: teh" });
    await mine.getByRole("button", { name: "Edit your message" }).click();
    const editor = ann.page.getByRole("textbox", { name: "Edit your message" });
    await editor.fill("This had a typo: the");
    await editor.press("Enter");
    await seesOnce(bob, "This had a typo: the");
    await bob.page.locator(".msg", { hasText: "This had a typo: the" }).locator(".edited").waitFor();
    assert.equal(await bubbles(bob.page, "This has a typo: teh").count(), 0);

    await say(ann, "I will delete this");
    await seesOnce(bob, "I will delete this");
    await ann.page.locator(".msg.mine", { hasText: "I will delete this" }).getByRole("button", { name: "Delete your message" }).click();
    await ann.page.locator(".msg.mine", { hasText: "I will delete this" }).getByRole("button", { name: "Delete", exact: true }).click();
    await until("the deletion on both sides", async () => (await bubbles(ann.page, "I will delete this").count()) === 0 && (await bubbles(bob.page, "I will delete this").count()) === 0);
  });

  test("a script-injection message renders as text", async () => {
    const { Ann: ann, Bob: bob } = guests;
    const attack = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>`;
    await say(ann, attack);
    await seesOnce(bob, attack);
    assert.equal(await bob.page.locator(".log img, .log script").count(), 0, "no element made from message text");
    assert.equal(await bob.page.evaluate(() => window.__pwned), undefined);
    assert.equal(await ann.page.evaluate(() => window.__pwned), undefined);
  });

  test("5,000 characters of mixed scripts fit without breaking the layout", async () => {
    const { Ann: ann, Bob: bob } = guests;
    const unit = "Lorem ipsum مرحبا بالعالم שלום 👋🏽 ";
    let long = "";
    while (long.length + unit.length <= 4990) long += unit;
    long += "x".repeat(5000 - long.length);
    assert.equal(long.length, 5000);
    await say(ann, long);
    await seesOnce(bob, long);
    const overflow = await bob.page.locator(".log").evaluate((log) => log.scrollWidth - log.clientWidth);
    assert.ok(overflow <= 1, `no horizontal overflow (${overflow}px)`);
  });

  test("offline: the other posts three; back online, exactly those three show, once", async () => {
    const { Ann: ann, Bob: bob } = guests;
    await bob.context.setOffline(true);
    await until("Bob's widget to notice it is offline", async () => (await status(bob.page)) === "offline");
    const three = ["while you were away 1", "while you were away 2", "while you were away 3"];
    for (const text of three) await say(ann, text);
    for (const text of three) assert.equal(await bubbles(bob.page, text).count(), 0, "nothing arrives while offline");
    await bob.context.setOffline(false);
    for (const text of three) await seesOnce(bob, text);
    await until("Bob online again", async () => (await status(bob.page)) === "online");
    await until("both sides to hold the same messages in the same order", async () => {
      const [a, b] = [await messageIds(ann.page), await messageIds(bob.page)];
      return a.length > 0 && JSON.stringify(a) === JSON.stringify(b);
    });
    for (const text of three) assert.equal(await bubbles(bob.page, text).count(), 1);
  });

  test("a message typed while offline is delivered once when the network returns", async () => {
    const { Ann: ann, Bob: bob } = guests;
    await bob.context.setOffline(true);
    await until("Bob offline", async () => (await status(bob.page)) === "offline");
    const text = "typed on the train";
    await composer(bob.page).fill(text);
    await composer(bob.page).press("Enter");
    await bob.page.locator(".msg[data-state=waiting]", { hasText: text }).waitFor({ timeout: LIMIT_MS });
    await bob.context.setOffline(false);
    await seesOnce(ann, text);
    await until("Bob's copy confirmed", async () => (await confirmed(bob.page, text).count()) === 1);
    assert.equal(await bubbles(bob.page, text).count(), 1);
    const all = await expectApi(200, "GET", `/api/chats/${chatId}/messages?per_page=100`, { token: owner });
    assert.equal(all.data.filter((m) => m.body === text).length, 1, "stored once");
  });

  test("a message left unsent when the page closes goes out once on the next visit", async () => {
    const { Ann: ann, Bob: bob } = guests;
    const text = "written offline, page closed";
    await bob.context.setOffline(true);
    await until("Bob offline", async () => (await status(bob.page)) === "offline");
    await composer(bob.page).fill(text);
    await composer(bob.page).press("Enter");
    await bob.page.locator(".msg[data-state=waiting]", { hasText: text }).waitFor({ timeout: LIMIT_MS });
    await bob.page.close();
    await bob.context.setOffline(false);
    bob.page = await bob.context.newPage();
    watch(bob.page, "Bob");
    await bob.page.goto(`${API}/widget/demo/${chatId}?guest=2`);
    await seesOnce(ann, text);
    await until("Bob's copy confirmed", async () => (await confirmed(bob.page, text).count()) === 1);
    // The send's answer may land a moment after the history that already holds the
    // message: one bubble once both are in (a lasting second copy times out here).
    await until("one bubble on Bob's side", async () => (await bubbles(bob.page, text).count()) === 1);
    const all = await expectApi(200, "GET", `/api/chats/${chatId}/messages?per_page=100`, { token: owner });
    assert.equal(all.data.filter((m) => m.body === text).length, 1, "stored once");
    await until("Bob online", async () => (await status(bob.page)) === "online");
  });

  test("a send whose answer is lost is repeated with its client_id and stored once", async () => {
    const { Ann: ann, Bob: bob } = guests;
    const text = "the answer to this one is lost";
    let dropped = false;
    await bob.page.route("**/api/chats/*/messages", async (route) => {
      if (!dropped && route.request().method() === "POST") {
        dropped = true;
        await route.fetch(); // it reaches the API and is stored ...
        await route.abort("connectionreset"); // ... but the browser never hears back
      } else await route.fallback();
    });
    await composer(bob.page).fill(text);
    await composer(bob.page).press("Enter");
    await seesOnce(ann, text);
    await until("Bob's copy confirmed", async () => (await confirmed(bob.page, text).count()) === 1);
    assert.ok(dropped);
    assert.equal(await bubbles(bob.page, text).count(), 1);
    const all = await expectApi(200, "GET", `/api/chats/${chatId}/messages?per_page=100`, { token: owner });
    assert.equal(all.data.filter((m) => m.body === text).length, 1, "stored once");
    await bob.page.unroute("**/api/chats/*/messages");
  });

  test("a dropped frame is found by its seq and a dropped socket reconnects: nothing is lost", async () => {
    const { Ann: ann } = guests;
    // A third guest whose socket runs through a proxy that can drop a frame or the socket.
    const member = await expectApi(201, "POST", `/api/chats/${chatId}/users`, { token: owner, body: { email: unique("cy"), name: "Cy" } });
    const minted = await expectApi(201, "POST", `/api/chats/${chatId}/users/${member.data.id}/token`, { token: owner });
    remember(minted.data.token);
    const context = await browser.newContext({ viewport: { width: 1000, height: 760 } });
    const key = `demo-${chatId}-guest-3`;
    await context.addInitScript(([k, v]) => localStorage.setItem(`chat-widget:${k}:session`, v), [key, JSON.stringify({ token: minted.data.token, chatUserId: member.data.id })]);
    const sockets = [];
    let dropNext = false;
    let dropped = 0;
    await context.routeWebSocket(/[?&]ticket=/, (ws) => {
      const server = ws.connectToServer();
      sockets.push({ ws, server });
      server.onMessage((message) => {
        if (dropNext && String(message).includes('"message.created"')) {
          dropNext = false;
          dropped++;
          return;
        }
        ws.send(message);
      });
    });
    const page = await context.newPage();
    watch(page, "Cy");
    await page.goto(`${API}/widget/demo/${chatId}?guest=3`);
    await until("Cy online", async () => (await status(page)) === "online");
    const cy = { page, name: "Cy" };

    dropNext = true;
    await say(ann, "gap one");
    await say(ann, "gap two");
    await seesOnce(cy, "gap two");
    await seesOnce(cy, "gap one");
    assert.equal(dropped, 1, "one frame was dropped");

    const first = sockets.length;
    const { ws, server } = sockets[sockets.length - 1];
    await server.close({ code: 1001, reason: "Going away" });
    await ws.close({ code: 1001, reason: "Going away" });
    await say(ann, "said while Cy reconnects");
    await seesOnce(cy, "said while Cy reconnects");
    await until("Cy on a new socket", async () => sockets.length > first && (await status(page)) === "online");
    await until("Cy and Ann to hold the same messages", async () => JSON.stringify(await messageIds(page)) === JSON.stringify(await messageIds(ann.page)));
    await context.close();
  });

  test("unread badge while minimised; opening moves the read marker", async () => {
    const { Ann: ann, Bob: bob } = guests;
    const newest = async () => (await expectApi(200, "GET", `/api/chats/${chatId}/messages?per_page=1`, { token: owner })).data[0].seq;
    const readUpTo = async (seq) => {
      const me = await expectApi(200, "GET", "/api/chat-user", { token: ann.session.token });
      return me.data.last_read_seq >= seq && me.data.unread_count === 0;
    };
    const before = await newest();
    await until("Ann's read marker to reach what she has on screen", () => readUpTo(before));
    await ann.page.getByRole("button", { name: "Minimise chat" }).click();
    await say(bob, "Are you still there?");
    let label;
    await until("the unread badge", async () => (label = await ann.page.locator(".launcher").getAttribute("aria-label")) === "Open chat, 1 unread").catch((e) => {
      throw new Error(`${e.message} (the launcher says "${label}")`);
    });
    assert.equal(await ann.page.locator(".badge").textContent(), "1");
    await ann.page.getByRole("button", { name: "Open chat, 1 unread" }).click();
    await seesOnce(ann, "Are you still there?");
    assert.ok(await ann.page.locator(".badge").isHidden());
    const seq = await newest();
    assert.ok(seq > before);
    await until("Ann's read marker to pass Bob's message", () => readUpTo(seq));
  });

  test("conversation: axe finds no serious or critical violation; screenshots", async () => {
    const { Ann: ann, Bob: bob } = guests;
    await say(ann, "Thanks, that fixed it 🎉");
    await seesOnce(bob, "Thanks, that fixed it 🎉");
    await shot(ann.page, "conversation.png");
    await shot(bob.page, "conversation-other-guest.png");
    await scan(ann.page, "conversation");
  });

  test("a removed guest returns to the join screen with the typed text kept", async () => {
    const { Bob: bob } = guests;
    const draft = "half-written reply that must survive";
    await composer(bob.page).fill(draft);
    await expectApi(200, "DELETE", `/api/chats/${chatId}/users/${bob.session.chatUserId}`, { token: owner });
    await bob.page.getByLabel("Your name", { exact: true }).waitFor({ timeout: LIMIT_MS });
    await bob.page.locator(".notice").waitFor();
    bob.email = unique("bob-again");
    await join(bob);
    assert.equal(await composer(bob.page).inputValue(), draft);
    await bob.page.getByRole("button", { name: "Sign out" }).click();
    await bob.page.getByLabel("Your name", { exact: true }).waitFor();
    assert.equal(await session(bob), null, "sign out forgets the token");
  });

  test("history loads earlier pages with before=", async () => {
    const company = await expectApi(201, "POST", "/api/companies", { token: owner, body: { name: "Widget History" } });
    const chat = await expectApi(201, "POST", "/api/chats", { token: owner, body: { company_id: company.data.id, name: "History" } });
    const id = chat.data.id;
    const member = await expectApi(201, "POST", `/api/chats/${id}/users`, { token: owner, body: { email: unique("history"), name: "Hal" } });
    const minted = await expectApi(201, "POST", `/api/chats/${id}/users/${member.data.id}/token`, { token: owner });
    remember(minted.data.token);
    for (let i = 1; i <= 45; i++) {
      await expectApi(201, "POST", `/api/chats/${id}/messages`, { token: minted.data.token, body: { body: `history ${i}`, client_id: `history-${i}` } });
    }
    const context = await browser.newContext({ viewport: { width: 1000, height: 760 } });
    const key = `demo-${id}-guest-1`;
    await context.addInitScript(
      ([k, v]) => {
        if (!sessionStorage.getItem("seeded")) {
          localStorage.setItem(`chat-widget:${k}:session`, v);
          sessionStorage.setItem("seeded", "1");
        }
      },
      [key, JSON.stringify({ token: minted.data.token, chatUserId: member.data.id })],
    );
    const page = await context.newPage();
    watch(page, "Hal");
    await page.goto(`${API}/widget/demo/${id}`);
    await until("the newest page", async () => (await page.locator(".log .msg").count()) === 30);
    assert.equal(await bubbles(page, "history 1").count(), 0);
    await page.getByRole("button", { name: "Load earlier messages" }).click();
    await until("all 45, in order", async () => (await page.locator(".log .msg").count()) === 45);
    const texts = await page.locator(".log .bubble").allTextContents();
    assert.deepEqual(texts, Array.from({ length: 45 }, (_, i) => `history ${i + 1}`));
    assert.equal(await page.getByRole("button", { name: "Load earlier messages" }).count(), 0);
    await context.close();
  });

  test("on another site: data- settings apply, the API is reached across origins, and no other host", async () => {
    const { Ann: ann } = guests;
    const site = "https://shop.example";
    const context = await browser.newContext({ viewport: { width: 1000, height: 760 } });
    // The test's API is on loopback: Chromium lets a public site reach it only with the
    // local-network-access permission (a deployed API is public and needs none).
    await context.grantPermissions(["local-network-access"]);
    // The company's page, served by the test itself: only the widget's tag is ours.
    const strings = JSON.stringify({ sendCode: "أرسل الرمز", send: "إرسال" });
    await context.route(`${site}/**`, (route) =>
      route.fulfill({
        contentType: "text/html",
        body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head><body><main><h1>Shop</h1></main>
<script src="${API}/widget.js" data-chat-id="${chatId}" data-title="Ayuda" data-accent="#fde047" data-position="left" data-lang="ar"
 data-strings='${strings}' data-chat-password="${CHAT_PASSWORD}" data-open="true" async></script></body></html>`,
      }),
    );
    const hosts = new Set();
    const page = await context.newPage();
    page.on("request", (r) => hosts.add(new URL(r.url()).host));
    page.on("websocket", (ws) => hosts.add(new URL(ws.url()).host));
    watch(page, "Dee");
    await page.goto(`${site}/`);
    await page.getByRole("heading", { name: "Ayuda" }).waitFor({ timeout: LIMIT_MS });
    assert.equal(await page.locator(".root").getAttribute("dir"), "rtl");
    assert.equal(await page.getByLabel("Chat password").count(), 0, "the page gives the password");
    const launcher = await page.locator(".launcher").boundingBox();
    assert.ok(launcher && launcher.x < 100, "bottom left");
    assert.equal(await page.locator("header").evaluate((el) => getComputedStyle(el).color), "rgb(17, 24, 39)", "dark text on a light accent");
    await scan(page, "custom-settings");

    const dee = { page, name: "Dee", email: unique("dee"), storageKey: chatId };
    await page.getByLabel("Your name", { exact: true }).fill(dee.name);
    await page.getByLabel("Email", { exact: true }).fill(dee.email);
    await page.getByRole("button", { name: "أرسل الرمز" }).click();
    const codeBox = page.getByLabel("6-digit code");
    await codeBox.waitFor({ timeout: LIMIT_MS });
    await codeBox.fill(await codeFor(dee.email));
    await composer(page).waitFor({ timeout: LIMIT_MS });
    remember((await session(dee)).token);
    await until("Dee online", async () => (await status(page)) === "online");
    await composer(page).fill("Hola from the shop");
    await page.getByRole("button", { name: "إرسال" }).click();
    await seesOnce(ann, "Hola from the shop");
    await shot(page, "custom-settings.png");
    const allowed = new Set(["shop.example", new URL(API).host, new URL(need("REALTIME_URL")).host]);
    assert.deepEqual([...hosts].filter((h) => !allowed.has(h)), [], "no request to any other host");
    await context.close();
  });

  test("no page error and no Content-Security-Policy violation on any page", () => {
    assert.deepEqual(problems, []);
  });
});
