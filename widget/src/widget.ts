// The widget: a launcher button with an unread badge and a panel, inside a shadow root.
// Two modes: a room (`data-chat-id`: everyone who joins sees everyone) and a company
// (`data-company-id`: each visitor gets a conversation of its own with the company's
// team, through the company's front door: an emailed code once, or the site's signed
// word for a visitor logged in there, `data-user-token`). The screens are the join and
// code forms (join.ts) and the conversation (conversation.ts); the API client, the socket,
// the event feed, the outbox and the store are the shared core (core/).

import { Api, ApiError, Availability, ChatUser, Entry, Message, NetworkError, Page } from "./core/api";
import { clear, fill, h, icon } from "./core/dom";
import { Live } from "./core/live";
import { Outbox } from "./core/outbox";
import { Store } from "./core/store";
import { Conversation, ConversationHost, PAGE } from "./conversation";
import { JoinHost, showJoin } from "./join";
import { Strings } from "./strings";
import { CSS as STYLESHEET } from "./styles";
import type { Settings } from "./settings";

export type { Settings };

type Connection = "connecting" | "online" | "reconnecting" | "offline";

const ICONS = {
  chat: ["M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z"],
  close: ["M6 6l12 12", "M18 6L6 18"],
  signOut: ["M15 4h4v16h-4", "M10 8l-4 4 4 4", "M6 12h10"],
};
/** Availability is asked again when the panel opens, at most this often. */
const AVAILABILITY_EVERY_MS = 60000;
/** How long the first screen waits for availability before it shows without it. */
const AVAILABILITY_WAIT_MS = 4000;

/** The `sub` claim of a JWT, read without verifying (the API verifies it). */
function subject(token: string): string | null {
  try {
    const bytes = Uint8Array.from(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes)) as { sub?: unknown };
    return typeof claims.sub === "string" ? claims.sub : null;
  } catch {
    return null;
  }
}

export class Widget implements JoinHost, ConversationHost {
  readonly t: Strings;
  readonly api: Api;
  readonly store: Store;
  readonly live: Live;
  readonly outbox: Outbox;
  draft: string;

  private readonly root: HTMLDivElement;
  private readonly launcher: HTMLButtonElement;
  private readonly badge: HTMLSpanElement;
  private readonly panel: HTMLElement;
  private readonly heading: HTMLHeadingElement;
  private readonly statusLine: HTMLSpanElement;
  private readonly signOutButton: HTMLButtonElement;
  private readonly screen: HTMLDivElement;
  private readonly announcer: HTMLDivElement;
  private open = false;
  private conv: Conversation | null = null;
  private generation = 0;
  private connection: Connection = "connecting";
  private availability: Availability | null = null;
  private availabilityAt = 0;
  private availabilityTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly s: Settings) {
    this.t = s.strings;
    this.api = new Api(s.base, s.chatId);
    this.store = new Store(s.storageKey);
    this.draft = this.store.draft;
    this.live = new Live({
      ticket: () => this.ticket(),
      opened: () => {
        if (this.conv) void this.conv.feed.catchUp();
        void this.outbox.flush();
      },
      frame: (data) => this.conv && this.conv.feed.frame(data),
      status: (state) => this.showStatus(state),
    });
    this.outbox = new Outbox(this.api, {
      render: (p) => this.conv && this.conv.showPending(p),
      drop: (p) => this.conv && this.conv.dropPending(p),
      sent: (p, m) => this.conv && this.conv.sent(p, m),
      save: (items) => (this.store.outbox = items),
      ended: (err) => this.ended(err),
      ready: () => !!this.conv,
    });

    const host = h("div", { "data-chat-widget": s.chatId || s.companyId });
    const shadow = host.attachShadow({ mode: "open" });
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(STYLESHEET);
      shadow.adoptedStyleSheets = [sheet];
    } catch {
      // Older browsers: a <style> element (needs style-src to allow it under a CSP).
      shadow.appendChild(h("style", { text: STYLESHEET }));
    }
    const t = this.t;
    this.badge = h("span", { class: "badge", "aria-hidden": "true", hidden: true });
    this.launcher = h("button", { class: "launcher", type: "button", "aria-expanded": "false", "aria-controls": "panel", onclick: () => this.toggle() }, icon(ICONS.chat), this.badge);
    this.heading = h("h2", { id: "title", text: s.title || t.title });
    this.statusLine = h("span", { class: "status", id: "status" });
    this.signOutButton = h("button", { class: "icon", type: "button", title: t.signOut, "aria-label": t.signOut, hidden: true, onclick: () => this.signOut() }, icon(ICONS.signOut), h("span", { class: "sr", text: t.signOut }));
    this.screen = h("div", { class: "screen" });
    this.panel = h(
      "section",
      { class: "panel", id: "panel", role: "dialog", "aria-labelledby": "title", "aria-describedby": "status", hidden: true, onkeydown: (e: KeyboardEvent) => this.panelKey(e) },
      h("header", null, h("div", { class: "titles" }, this.heading, this.statusLine), this.signOutButton, h("button", { class: "icon", type: "button", title: t.close, "aria-label": t.close, onclick: () => this.toggle(false) }, icon(ICONS.close))),
      this.screen,
    );
    this.announcer = h("div", { class: "sr", "aria-live": "polite", "aria-atomic": "true" });
    this.root = h("div", { class: "root" + (s.position === "left" ? " left" : ""), dir: s.dir, lang: s.lang, "data-mode": s.mode }, this.launcher, this.panel, this.announcer);
    shadow.appendChild(this.root);
    document.body.appendChild(host);
    // After the host is in the document: the accent's contrast needs a computed colour.
    this.applyAccent(shadow);

    window.addEventListener("online", () => {
      this.live.online();
      this.outbox.now();
    });
    window.addEventListener("offline", () => this.live.offline());
    document.addEventListener("visibilitychange", () => {
      if (this.conv) this.conv.maybeMarkRead();
      if (s.mode === "company" && this.open && document.visibilityState === "visible" && Date.now() - this.availabilityAt > AVAILABILITY_EVERY_MS) void this.checkAvailability();
    });

    this.updateBadge();
    void this.start();
    if (s.open) this.toggle(true, false);
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** The first screen: the stored session, the site's token, or the join form. */
  private async start(): Promise<void> {
    const s = this.s;
    let session = this.store.session;
    if (s.mode === "company") {
      this.setScreen(h("p", { class: "note pad", role: "status", text: this.t.loading }));
      const asked = this.checkAvailability();
      const sub = s.userToken ? subject(s.userToken) : null;
      // A session from another identity (or from one the site no longer vouches for) goes.
      if (session && (session.sub || null) !== sub && (session.sub || s.userToken)) {
        this.store.forget();
        this.draft = "";
        session = null;
      }
      if (!session && s.userToken) return this.identify(s.userToken, sub);
      if (!session) await Promise.race([asked, new Promise((r) => setTimeout(r, AVAILABILITY_WAIT_MS))]);
    }
    if (session) {
      this.api.token = session.token;
      if (s.mode === "company") this.api.chatId = session.chatId || "";
      this.outbox.load(this.store.outbox);
      void this.enter();
    } else {
      showJoin(this);
    }
  }

  private async identify(token: string, sub: string | null): Promise<void> {
    try {
      const answer = await this.api.call<{ data: Entry }>("POST", "/api/companies/" + this.s.companyId + "/conversations/identify", { token });
      await this.entered(answer.data, sub);
    } catch (err) {
      const refused = err instanceof ApiError && (err.status === 422 || err.status === 401 || err.status === 403);
      showJoin(this, refused ? this.t.identifyFailed : this.errorText(err));
    }
  }

  async entered(entry: Entry, sub?: string | null): Promise<void> {
    const company = this.s.mode === "company";
    const chatId = entry.chat ? entry.chat.id : entry.chat_user.chat_id;
    this.store.session = company ? { token: entry.token, chatUserId: entry.chat_user.id, chatId, sub: sub || undefined } : { token: entry.token, chatUserId: entry.chat_user.id };
    this.api.token = entry.token;
    if (company) this.api.chatId = chatId;
    await this.enter();
  }

  // ------------------------------------------------------------------ frame --

  private applyAccent(shadow: ShadowRoot): void {
    const accent = this.s.accent;
    if (!accent || !supportsColor(accent)) return;
    this.root.style.setProperty("--accent", accent);
    // White or near-black text on it, whichever reads better.
    const probe = h("span");
    probe.style.color = accent;
    shadow.appendChild(probe);
    const rgb = (getComputedStyle(probe).color.match(/[\d.]+/g) || []).map(Number);
    probe.remove();
    if (rgb.length >= 3) {
      const lin = rgb.slice(0, 3).map((c) => {
        const v = c / 255;
        return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
      });
      const luminance = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
      this.root.style.setProperty("--on-accent", (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) ? "#111827" : "#fff");
    }
  }

  private toggle(open = !this.open, focus = true): void {
    if (!open && this.conv) this.conv.closing();
    this.open = open;
    this.panel.hidden = !open;
    this.launcher.setAttribute("aria-expanded", String(open));
    if (open) {
      if (focus) this.focusScreen();
      if (this.conv) this.conv.scrollToEnd();
      if (this.conv) this.conv.maybeMarkRead();
      if (this.s.mode === "company" && Date.now() - this.availabilityAt > AVAILABILITY_EVERY_MS) void this.checkAvailability();
    } else if (focus) {
      this.launcher.focus();
    }
    this.updateBadge();
  }

  private panelKey(e: KeyboardEvent): void {
    if (e.key === "Escape" && !e.defaultPrevented) {
      e.preventDefault();
      this.toggle(false);
    }
  }

  private focusScreen(): void {
    const target = this.screen.querySelector<HTMLElement>("[data-autofocus]") || this.screen.querySelector<HTMLElement>("input, textarea, button");
    if (target) target.focus();
  }

  setScreen(content: HTMLElement): void {
    clear(this.screen);
    this.screen.appendChild(content);
    if (this.open) this.focusScreen();
  }

  say(text: string): void {
    this.announcer.textContent = "";
    setTimeout(() => (this.announcer.textContent = text), 50);
  }

  shadowActive(): Element | null {
    return (this.root.getRootNode() as ShadowRoot).activeElement;
  }

  saveDraft(): void {
    this.store.draft = this.draft;
  }

  companyName(): string | null {
    return this.availability ? this.availability.company.name : null;
  }

  setTitle(): void {
    const chat = this.conv && this.s.mode === "room" ? this.conv.chat.name : null;
    this.heading.textContent = this.s.title || chat || this.companyName() || this.t.title;
  }

  // ----------------------------------------------------------- availability --

  private async checkAvailability(): Promise<void> {
    this.availabilityAt = Date.now();
    try {
      const answer = await this.api.call<{ data: Availability }>("GET", "/api/companies/" + this.s.companyId + "/availability");
      this.availability = answer.data;
    } catch {
      // Unknown: say nothing rather than guess.
      this.availability = null;
    }
    this.setTitle();
    this.showStatus(this.connection);
    // While someone looks at it, the header follows the team (it comes and goes).
    clearTimeout(this.availabilityTimer);
    if (this.open) this.availabilityTimer = setTimeout(() => document.visibilityState === "visible" && this.open && void this.checkAvailability(), AVAILABILITY_EVERY_MS);
  }

  /** Nobody answers now: offline, or outside the company's business hours. */
  away(): boolean {
    const a = this.availability;
    return !!a && (!a.open_now || !a.online);
  }

  /** The header's line: a connection problem when there is one; in company mode, else,
   *  what the company's availability says (never "online" for an open socket). */
  private showStatus(state: Connection): void {
    this.connection = state;
    const t = this.t;
    let text = "";
    if (this.conv && state !== "online") text = { connecting: t.connecting, reconnecting: t.reconnecting, offline: t.offlineShort }[state];
    const a = this.availability;
    if (!text && a && this.s.mode === "company") {
      const n = a.typically_replies_within_minutes;
      text = this.away() ? t.away : n === null ? t.teamHere : n <= 1 ? t.repliesInOne : fill(t.repliesIn, { n });
    }
    this.statusLine.textContent = text;
    this.root.setAttribute("data-status", state);
    this.root.setAttribute("data-away", String(this.away()));
  }

  private waitText(seconds: number | null): string {
    const s = Math.max(1, seconds || 60);
    return s < 120 ? fill(this.t.seconds, { n: s }) : fill(this.t.minutes, { n: Math.ceil(s / 60) });
  }

  /** A message for an error of a form: the field errors are shown by the caller. */
  errorText(err: unknown): string {
    if (err instanceof NetworkError) return navigator.onLine ? this.t.networkError : this.t.offline;
    if (err instanceof ApiError) {
      if (err.status === 429) return fill(this.t.throttled, { time: this.waitText(err.retryAfter) });
      if (err.status === 404) return this.t.noChat;
      if (err.status >= 500) return this.t.serverError;
      return err.message;
    }
    return this.t.serverError;
  }

  // ------------------------------------------------------------ signed in --

  private closeConversation(): void {
    this.generation++;
    if (this.conv) this.conv.close();
    this.conv = null;
    this.outbox.stop();
  }

  /** The token is no longer good (expired, revoked, chat user removed): back to joining. */
  private expired(notice: string): void {
    this.live.stop();
    this.saveDraft();
    this.store.session = null;
    this.api.token = null;
    this.closeConversation();
    this.signOutButton.hidden = true;
    showJoin(this, notice);
    this.showStatus(this.connection);
    this.updateBadge();
  }

  private signOut(): void {
    this.live.stop();
    this.store.forget();
    this.draft = "";
    this.outbox.items = [];
    this.api.token = null;
    this.closeConversation();
    this.signOutButton.hidden = true;
    showJoin(this);
    this.showStatus(this.connection);
    this.updateBadge();
  }

  removed(): void {
    this.expired(this.t.removed);
  }

  reload(): void {
    void this.enter();
  }

  /** An answer that means the session is over, handled; true when it was one. */
  ended(err: unknown): boolean {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      this.expired(this.t.expired);
      return true;
    }
    if (err instanceof ApiError && err.status === 404 && this.conv) {
      // The chat is gone (a message or user 404 is handled where it happens).
      this.expired(this.t.noChat);
      return true;
    }
    return false;
  }

  private async enter(): Promise<void> {
    this.closeConversation();
    const generation = this.generation;
    const s = this.s;
    this.signOutButton.hidden = false;
    this.setScreen(h("p", { class: "note pad", role: "status", text: this.t.loading }));
    try {
      const me = await this.api.call<{ data: ChatUser }>("GET", "/api/chat-user");
      if (generation !== this.generation) return;
      const chat = me.data.chat;
      const expected = s.mode === "room" ? s.chatId : this.api.chatId;
      if (!chat || (expected && chat.id !== expected)) throw new ApiError(403, null, null);
      this.api.chatId = chat.id;
      // A room names its guests; a conversation has one guest, and its staff sign messages.
      const users = s.mode === "room" ? (await this.api.call<Page<ChatUser>>("GET", "/users", undefined, { per_page: 100 })).data : [];
      const page = await this.api.call<Page<Message>>("GET", "/messages", undefined, { per_page: PAGE });
      if (generation !== this.generation) return;
      const conv = new Conversation(this, me.data, chat, users);
      this.conv = conv;
      this.setTitle();
      this.setScreen(conv.el);
      conv.load(page);
      this.showStatus(this.connection);
      this.updateBadge();
      this.live.start();
      void this.outbox.flush();
      conv.maybeMarkRead();
    } catch (err) {
      if (generation !== this.generation) return;
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
        this.expired(this.t.expired);
      } else if (err instanceof ApiError && err.status === 404) {
        this.expired(this.t.noChat);
      } else {
        // Offline or the service is down: try again soon, keep the session.
        const retry = h("button", { class: "secondary", type: "button", text: this.t.retry, onclick: () => void this.enter() });
        this.setScreen(h("div", { class: "card" }, h("p", { class: "error", role: "alert", text: this.errorText(err) }), retry));
        setTimeout(() => {
          if (generation === this.generation && !this.conv) void this.enter();
        }, 5000);
      }
    }
  }

  updateBadge(): void {
    const unread = this.conv ? this.conv.unread() : 0;
    const show = unread > 0 && !(this.open && document.visibilityState === "visible");
    this.badge.hidden = !show;
    this.badge.textContent = unread > 99 ? "99+" : String(unread);
    this.launcher.setAttribute("aria-label", show ? fill(this.t.openUnread, { n: unread }) : this.t.open);
    this.launcher.title = this.t.open;
  }

  // ------------------------------------------------------------------ live --

  private async ticket(): Promise<string | null> {
    const generation = this.generation;
    try {
      const answer = await this.api.call<{ data: { url: string } }>("POST", "/realtime-ticket");
      return generation === this.generation ? answer.data.url : null;
    } catch (err) {
      if (generation === this.generation) this.ended(err);
      return null;
    }
  }
}

function supportsColor(value: string): boolean {
  try {
    return CSS.supports("color", value);
  } catch {
    return false;
  }
}
