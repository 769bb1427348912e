// The widget: a launcher button with an unread badge and a panel with three screens
// (join, code, conversation), all inside a shadow root. Uses only the public API.

import { Api, ApiError, Chat, ChatEvent, ChatUser, Message, NetworkError } from "./api";
import { clear, fill, h, icon } from "./dom";
import { Live } from "./live";
import { Outgoing, Store } from "./store";
import { Strings } from "./strings";
import { CSS as STYLESHEET } from "./styles";

export interface Settings {
  base: string;
  chatId: string;
  title: string | null;
  accent: string | null;
  position: "right" | "left";
  open: boolean;
  lang: string;
  dir: "ltr" | "rtl";
  password: string | null;
  storageKey: string;
  strings: Strings;
}

const MAX_LENGTH = 5000;
const PAGE = 30;
const TYPING_EVERY_MS = 2500;
const TYPING_SHOWN_MS = 5000;
const RESEND_AFTER_S = 60;

const ICONS = {
  chat: ["M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z"],
  close: ["M6 6l12 12", "M18 6L6 18"],
  send: ["M4 12l16-8-6 16-2.5-6.5z", "M11.5 13.5L20 4"],
  signOut: ["M15 4h4v16h-4", "M10 8l-4 4 4 4", "M6 12h10"],
};

/** A message waiting to be sent (or being sent), shown greyed in the conversation. */
interface Pending extends Outgoing {
  state: "sending" | "waiting" | "failed";
  error?: string;
  el?: HTMLLIElement;
  /** The message it became, seen in an event before the POST answered. */
  seenAs?: string;
}

function randomId(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  let out = "w-";
  for (const b of bytes) out += (b < 16 ? "0" : "") + b.toString(16);
  return out;
}

export class Widget {
  private readonly t: Strings;
  private readonly api: Api;
  private readonly store: Store;
  private readonly live: Live;

  // The frame around the screens.
  private readonly root: HTMLDivElement;
  private readonly launcher: HTMLButtonElement;
  private readonly badge: HTMLSpanElement;
  private readonly panel: HTMLElement;
  private readonly heading: HTMLHeadingElement;
  private readonly statusLine: HTMLSpanElement;
  private readonly signOutButton: HTMLButtonElement;
  private readonly screen: HTMLDivElement;
  private readonly announcer: HTMLDivElement;
  private isOpen = false;

  // The conversation (present while signed in).
  private me: ChatUser | null = null;
  private chat: Chat | null = null;
  private names = new Map<string, string>();
  private messages = new Map<string, Message>();
  private elements = new Map<string, HTMLLIElement>();
  private pending: Pending[] = [];
  private lastSeq = 0;
  /** The newest seq of anything but a read marker: what "read" means. */
  private seenSeq = 0;
  private lastReadSeq = 0;
  /** Unread messages older than the loaded ones (from the server's count at start). */
  private unreadBeyond = 0;
  private hasEarlier = false;
  private catching = false;
  private catchAgain = false;
  private catchRetry: ReturnType<typeof setTimeout> | undefined;
  private flushing = false;
  private flushRetry: ReturnType<typeof setTimeout> | undefined;
  private flushAttempt = 0;
  private readTimer: ReturnType<typeof setTimeout> | undefined;
  private marking = false;
  private typingSentAt = 0;
  private typers = new Map<string, ReturnType<typeof setTimeout>>();
  private draft: string;
  private generation = 0;

  // Conversation elements.
  private log: HTMLOListElement | null = null;
  private earlier: HTMLLIElement | null = null;
  private emptyNote: HTMLLIElement | null = null;
  private typingLine: HTMLDivElement | null = null;
  private composer: HTMLTextAreaElement | null = null;
  private counter: HTMLDivElement | null = null;

  constructor(private readonly s: Settings) {
    this.t = s.strings;
    this.api = new Api(s.base, s.chatId);
    this.store = new Store(s.storageKey);
    this.draft = this.store.draft;
    this.live = new Live({
      ticket: () => this.ticket(),
      opened: () => {
        void this.catchUp();
        void this.flush();
      },
      frame: (data) => this.frame(data),
      status: (state) => this.showStatus(state),
    });

    const host = h("div", { "data-chat-widget": s.chatId });
    const shadow = host.attachShadow({ mode: "open" });
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(STYLESHEET);
      shadow.adoptedStyleSheets = [sheet];
    } catch {
      // Older browsers: a <style> element (needs style-src to allow it under a CSP).
      shadow.appendChild(h("style", { text: STYLESHEET }));
    }

    this.badge = h("span", { class: "badge", "aria-hidden": "true", hidden: true });
    this.launcher = h("button", { class: "launcher", type: "button", "aria-expanded": "false", "aria-controls": "panel", onclick: () => this.toggle() }, icon(ICONS.chat), this.badge);
    this.heading = h("h2", { id: "title", text: s.title || this.t.title });
    this.statusLine = h("span", { class: "status" });
    this.signOutButton = h("button", { class: "icon", type: "button", title: this.t.signOut, "aria-label": this.t.signOut, hidden: true, onclick: () => this.signOut() }, icon(ICONS.signOut));
    this.screen = h("div", { class: "screen" });
    this.panel = h(
      "section",
      { class: "panel", id: "panel", role: "dialog", "aria-labelledby": "title", hidden: true, onkeydown: (e: KeyboardEvent) => this.panelKey(e) },
      h("header", null, h("div", { class: "titles" }, this.heading, this.statusLine), this.signOutButton, h("button", { class: "icon", type: "button", title: this.t.close, "aria-label": this.t.close, onclick: () => this.toggle(false) }, icon(ICONS.close))),
      this.screen,
    );
    this.announcer = h("div", { class: "sr", "aria-live": "polite", "aria-atomic": "true" });
    this.root = h("div", { class: "root" + (s.position === "left" ? " left" : ""), dir: s.dir, lang: s.lang }, this.launcher, this.panel, this.announcer);
    shadow.appendChild(this.root);
    document.body.appendChild(host);
    // After the host is in the document: the accent's contrast needs a computed colour.
    this.applyAccent(shadow);

    window.addEventListener("online", () => {
      this.live.online();
      this.flushAttempt = 0;
      void this.flush();
    });
    window.addEventListener("offline", () => this.live.offline());
    document.addEventListener("visibilitychange", () => this.maybeMarkRead());

    this.updateBadge();
    const session = this.store.session;
    if (session) {
      this.api.token = session.token;
      this.pending = this.store.outbox.map((m) => ({ ...m, state: "waiting" as const }));
      void this.enter();
    } else {
      this.showJoin();
    }
    if (s.open) this.toggle(true, false);
  }

  // ------------------------------------------------------------------ frame --

  private applyAccent(shadow: ShadowRoot): void {
    const accent = this.s.accent;
    if (!accent || !CSS_SUPPORTS_COLOR(accent)) return;
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

  private toggle(open = !this.isOpen, focus = true): void {
    if (!open && this.readTimer !== undefined) {
      // What was on screen until now has been seen: move the marker before closing.
      clearTimeout(this.readTimer);
      this.readTimer = undefined;
      void this.markRead(true);
    }
    this.isOpen = open;
    this.panel.hidden = !open;
    this.launcher.setAttribute("aria-expanded", String(open));
    if (open) {
      if (focus) this.focusScreen();
      this.scrollToEnd();
      this.maybeMarkRead();
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

  private say(text: string): void {
    this.announcer.textContent = "";
    setTimeout(() => (this.announcer.textContent = text), 50);
  }

  private showStatus(state: "connecting" | "online" | "reconnecting" | "offline"): void {
    const text = { connecting: this.t.connecting, online: this.t.online, reconnecting: this.t.reconnecting, offline: this.t.offlineShort }[state];
    this.statusLine.textContent = this.me ? text : "";
    this.root.setAttribute("data-status", state);
  }

  private setTitle(): void {
    this.heading.textContent = this.s.title || (this.chat && this.chat.name) || this.t.title;
  }

  private waitText(seconds: number | null): string {
    const s = Math.max(1, seconds || 60);
    return s < 120 ? fill(this.t.seconds, { n: s }) : fill(this.t.minutes, { n: Math.ceil(s / 60) });
  }

  /** A message for an error of a form: the field errors are shown by the caller. */
  private errorText(err: unknown): string {
    if (err instanceof NetworkError) return navigator.onLine ? this.t.networkError : this.t.offline;
    if (err instanceof ApiError) {
      if (err.status === 429) return fill(this.t.throttled, { time: this.waitText(err.retryAfter) });
      if (err.status === 404) return this.t.noChat;
      if (err.status >= 500) return this.t.serverError;
      return err.message;
    }
    return this.t.serverError;
  }

  // ------------------------------------------------------------------- join --

  private showJoin(notice?: string): void {
    this.generation++;
    this.me = null;
    this.signOutButton.hidden = true;
    this.statusLine.textContent = "";
    this.log = this.composer = null;
    const profile = this.store.profile;
    const error = h("p", { class: "error", role: "alert" });
    const field = (label: string, input: HTMLInputElement, hint?: string) => {
      const msg = h("p", { class: "error", id: input.id + "-error" });
      input.setAttribute("aria-describedby", msg.id + (hint ? " " + input.id + "-hint" : ""));
      return { label: h("label", null, label, hint ? h("span", { class: "hint", id: input.id + "-hint", text: hint }) : null, input, msg), msg };
    };
    const name = h("input", { id: "join-name", name: "name", autocomplete: "name", required: true, maxlength: 255, dir: "auto", value: profile ? profile.name : "", "data-autofocus": true });
    const email = h("input", { id: "join-email", name: "email", type: "email", autocomplete: "email", required: true, maxlength: 254, value: profile ? profile.email : "" });
    const password = h("input", { id: "join-password", name: "password", type: "password", autocomplete: "off" });
    const fName = field(this.t.name, name);
    const fEmail = field(this.t.email, email);
    const fPassword = field(this.t.password, password, this.t.passwordHint);
    const button = h("button", { class: "primary", type: "submit", text: this.t.sendCode });
    const form = h(
      "form",
      { class: "card", novalidate: true },
      notice ? h("p", { class: "notice", role: "status", text: notice }) : null,
      h("p", { class: "note", text: this.t.joinIntro }),
      fName.label,
      fEmail.label,
      this.s.password === null ? fPassword.label : null,
      error,
      button,
    );
    const invalid = (input: HTMLInputElement, msg: HTMLElement, text: string | undefined) => {
      msg.textContent = text || "";
      input.setAttribute("aria-invalid", text ? "true" : "false");
      return !!text;
    };
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      error.textContent = "";
      const values = { name: name.value.trim(), email: email.value.trim() };
      const bad = [invalid(name, fName.msg, values.name ? undefined : this.t.required), invalid(email, fEmail.msg, values.email ? undefined : this.t.required)];
      invalid(password, fPassword.msg, undefined);
      if (bad[0] || bad[1]) {
        (bad[0] ? name : email).focus();
        return;
      }
      const body: Record<string, string> = { ...values };
      const pw = this.s.password !== null ? this.s.password : password.value;
      if (pw) body.password = pw;
      button.disabled = true;
      try {
        await this.api.call("POST", "/users/send-code", body);
        this.store.profile = values;
        this.showCode(values.email);
      } catch (err) {
        button.disabled = false;
        if (err instanceof ApiError && err.status === 422) {
          invalid(name, fName.msg, err.field("name"));
          invalid(email, fEmail.msg, err.field("email"));
          error.textContent = err.field("password") || (err.field("name", "email") ? "" : err.message);
        } else if (err instanceof ApiError && err.status === 403) {
          if (this.s.password === null) {
            invalid(password, fPassword.msg, this.t.wrongPassword);
            password.focus();
          } else error.textContent = this.t.wrongPassword;
        } else {
          error.textContent = this.errorText(err);
        }
      }
    });
    this.setScreen(form);
  }

  private showCode(email: string): void {
    const error = h("p", { class: "error", id: "code-error", role: "alert" });
    const info = h("p", { class: "note", role: "status" });
    const code = h("input", {
      id: "code",
      class: "code",
      name: "code",
      inputmode: "numeric",
      autocomplete: "one-time-code",
      required: true,
      "aria-describedby": "code-error",
      "data-autofocus": true,
    });
    const verify = h("button", { class: "primary", type: "submit", text: this.t.verify });
    const resend = h("button", { class: "secondary", type: "button", text: this.t.resend });
    const back = h("button", { class: "secondary", type: "button", text: this.t.otherEmail, onclick: () => this.showJoin() });
    const form = h("form", { class: "card", novalidate: true }, h("p", { class: "note", text: fill(this.t.codeIntro, { email }) }), h("label", null, this.t.code, code), error, verify, info, h("div", { class: "row" }, resend, back));

    let wait: ReturnType<typeof setInterval> | undefined;
    const countdown = (seconds: number) => {
      clearInterval(wait);
      let left = seconds;
      resend.disabled = true;
      resend.textContent = fill(this.t.resendIn, { n: left });
      wait = setInterval(() => {
        left--;
        if (left <= 0 || !form.isConnected) {
          clearInterval(wait);
          resend.disabled = false;
          resend.textContent = this.t.resend;
        } else resend.textContent = fill(this.t.resendIn, { n: left });
      }, 1000);
    };
    countdown(RESEND_AFTER_S);

    let busy = false;
    const submit = async () => {
      const digits = code.value.replace(/\D/g, "");
      if (digits.length !== 6) {
        error.textContent = this.t.codeFormat;
        code.setAttribute("aria-invalid", "true");
        return;
      }
      if (busy) return;
      busy = true;
      verify.disabled = true;
      error.textContent = "";
      try {
        const answer = await this.api.call<{ data: { token: string; chat_user: ChatUser } }>("POST", "/users/get-token", { email, auth_code: digits });
        clearInterval(wait);
        this.store.session = { token: answer.data.token, chatUserId: answer.data.chat_user.id };
        this.api.token = answer.data.token;
        await this.enter();
      } catch (err) {
        code.setAttribute("aria-invalid", "true");
        error.textContent = err instanceof ApiError && err.status === 422 ? this.t.wrongCode : this.errorText(err);
        code.select();
      } finally {
        busy = false;
        verify.disabled = false;
      }
    };
    // Paste-friendly: spaces, dashes and words around the code are dropped; six digits submit.
    code.addEventListener("input", () => {
      const digits = code.value.replace(/\D/g, "").slice(0, 6);
      if (digits !== code.value) code.value = digits;
      code.setAttribute("aria-invalid", "false");
      if (digits.length === 6) void submit();
    });
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void submit();
    });
    resend.addEventListener("click", async () => {
      error.textContent = info.textContent = "";
      const profile = this.store.profile;
      const body: Record<string, string> = { email, name: profile ? profile.name : "" };
      if (!body.name) delete body.name;
      const pw = this.s.password;
      if (pw) body.password = pw;
      try {
        await this.api.call("POST", "/users/send-code", body);
        info.textContent = this.t.codeSent;
        countdown(RESEND_AFTER_S);
      } catch (err) {
        error.textContent = this.errorText(err);
        if (err instanceof ApiError && err.status === 429) countdown(err.retryAfter || RESEND_AFTER_S);
      }
    });
    this.setScreen(form);
  }

  private setScreen(content: HTMLElement): void {
    clear(this.screen);
    this.screen.appendChild(content);
    if (this.isOpen) this.focusScreen();
  }

  // ------------------------------------------------------------ signed in --

  /** The token is no longer good (expired, revoked, chat user removed): back to joining. */
  private expired(notice: string): void {
    this.live.stop();
    this.saveDraft();
    this.store.session = null;
    this.api.token = null;
    this.resetConversation();
    this.showJoin(notice);
    this.updateBadge();
  }

  private signOut(): void {
    this.live.stop();
    this.store.forget();
    this.draft = "";
    this.pending = [];
    this.api.token = null;
    this.resetConversation();
    this.showJoin();
    this.updateBadge();
  }

  private resetConversation(): void {
    this.generation++;
    this.me = this.chat = null;
    this.messages.clear();
    this.elements.clear();
    this.names.clear();
    for (const t of this.typers.values()) clearTimeout(t);
    this.typers.clear();
    clearTimeout(this.catchRetry);
    clearTimeout(this.flushRetry);
    clearTimeout(this.readTimer);
    this.readTimer = undefined;
    for (const p of this.pending) p.el = undefined;
    this.lastSeq = this.seenSeq = this.lastReadSeq = this.unreadBeyond = 0;
    this.catching = this.catchAgain = this.flushing = false;
  }

  /** An answer that means the session is over, handled; true when it was one. */
  private ended(err: unknown): boolean {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      this.expired(this.t.expired);
      return true;
    }
    if (err instanceof ApiError && err.status === 404 && this.me) {
      // The chat is gone (a message or user 404 is handled where it happens).
      this.expired(this.t.noChat);
      return true;
    }
    return false;
  }

  private async enter(): Promise<void> {
    const generation = ++this.generation;
    this.signOutButton.hidden = false;
    this.setScreen(h("p", { class: "note pad", role: "status", text: this.t.loading }));
    try {
      const me = await this.api.call<{ data: ChatUser }>("GET", "/api/chat-user");
      if (generation !== this.generation) return;
      if (!me.data.chat || me.data.chat.id !== this.s.chatId) throw new ApiError(403, null, null);
      this.me = me.data;
      this.chat = me.data.chat;
      this.names.set(me.data.id, me.data.name);
      this.lastReadSeq = me.data.last_read_seq;
      this.lastSeq = this.seenSeq = this.chat.last_seq;
      const users = await this.api.call<{ data: ChatUser[] }>("GET", "/users", undefined, { per_page: 100 });
      for (const u of users.data) this.names.set(u.id, u.name);
      const page = await this.api.call<{ data: Message[]; meta: { has_more: boolean } }>("GET", "/messages", undefined, { per_page: PAGE });
      if (generation !== this.generation) return;
      this.showConversation();
      this.hasEarlier = page.meta.has_more;
      for (const m of page.data) this.upsert(m, false);
      this.unreadBeyond = Math.max(0, (me.data.unread_count || 0) - this.unreadLoaded());
      this.refreshEarlier();
      this.scrollToEnd();
      this.updateBadge();
      this.live.start();
      void this.flush();
      this.maybeMarkRead();
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
          if (generation === this.generation && !this.me) void this.enter();
        }, 5000);
      }
    }
  }

  private showConversation(): void {
    this.setTitle();
    this.log = h("ol", { class: "log", "aria-label": this.t.messages, tabindex: "0" });
    this.earlier = h("li", { class: "earlier" }, h("button", { class: "secondary", type: "button", text: this.t.loadEarlier, onclick: (e: Event) => this.loadEarlier(e.currentTarget as HTMLButtonElement) }));
    this.emptyNote = h("li", { class: "empty", text: this.t.empty });
    this.typingLine = h("div", { class: "typing" });
    this.counter = h("div", { class: "counter", hidden: true, "aria-live": "polite" });
    this.composer = h("textarea", {
      rows: 1,
      maxlength: MAX_LENGTH,
      dir: "auto",
      "aria-label": this.t.message,
      placeholder: this.t.placeholder,
      "data-autofocus": true,
    });
    this.composer.value = this.draft;
    this.composer.addEventListener("input", () => this.composing());
    this.composer.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.send();
      }
    });
    const form = h(
      "form",
      { class: "composer", onsubmit: (e: Event) => (e.preventDefault(), this.send()) },
      this.composer,
      h("button", { class: "send", type: "submit", title: this.t.send, "aria-label": this.t.send }, icon(ICONS.send)),
    );
    this.log.appendChild(this.emptyNote);
    for (const p of this.pending) this.renderPending(p);
    this.setScreen(h("div", { class: "screen" }, this.log, this.typingLine, this.counter, form));
    this.composing(false);
    this.fitComposer();
  }

  private composing(typed = true): void {
    const composer = this.composer;
    if (!composer || !this.counter) return;
    this.draft = composer.value;
    this.saveDraft();
    this.fitComposer();
    const n = composer.value.length;
    this.counter.hidden = n < MAX_LENGTH - 500;
    this.counter.textContent = fill(this.t.length, { n, max: MAX_LENGTH });
    const now = Date.now();
    if (typed && n && now - this.typingSentAt > TYPING_EVERY_MS && this.live.open) {
      this.typingSentAt = now;
      this.live.send({ action: "typing" });
    }
  }

  private fitComposer(): void {
    const c = this.composer;
    if (!c) return;
    c.style.height = "auto";
    c.style.height = Math.min(140, c.scrollHeight + 2) + "px";
  }

  private saveDraft(): void {
    this.store.draft = this.draft;
  }

  // ---------------------------------------------------------- messages view --

  private name(chatUserId: string): string {
    if (this.me && chatUserId === this.me.id) return this.t.you;
    return this.names.get(chatUserId) || this.t.someone;
  }

  private time(iso: string): { text: string; label: string } {
    const date = new Date(iso);
    if (isNaN(date.getTime())) return { text: "", label: "" };
    const today = new Date().toDateString() === date.toDateString();
    try {
      const text = new Intl.DateTimeFormat(this.s.lang, today ? { hour: "2-digit", minute: "2-digit" } : { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }).format(date);
      const label = new Intl.DateTimeFormat(this.s.lang, { dateStyle: "full", timeStyle: "short" }).format(date);
      return { text, label };
    } catch {
      return { text: date.toLocaleString(), label: date.toLocaleString() };
    }
  }

  private unreadLoaded(): number {
    let n = 0;
    if (!this.me) return 0;
    for (const m of this.messages.values()) if (m.chat_user_id !== this.me.id && m.seq > this.lastReadSeq) n++;
    return n;
  }

  private updateBadge(): void {
    const unread = this.me ? this.unreadLoaded() + this.unreadBeyond : 0;
    const show = unread > 0 && !(this.isOpen && document.visibilityState === "visible");
    this.badge.hidden = !show;
    this.badge.textContent = unread > 99 ? "99+" : String(unread);
    this.launcher.setAttribute("aria-label", show ? fill(this.t.openUnread, { n: unread }) : this.t.open);
    this.launcher.title = this.t.open;
  }

  private nearEnd(): boolean {
    const log = this.log;
    return !log || log.scrollHeight - log.scrollTop - log.clientHeight < 60;
  }

  private scrollToEnd(): void {
    const log = this.log;
    if (log) log.scrollTop = log.scrollHeight;
  }

  private refreshEarlier(): void {
    const log = this.log;
    if (!log || !this.earlier || !this.emptyNote) return;
    if (this.hasEarlier) log.insertBefore(this.earlier, log.firstChild);
    else this.earlier.remove();
    const empty = this.messages.size === 0 && !this.pending.length;
    if (empty && !this.emptyNote.isConnected) log.appendChild(this.emptyNote);
    if (!empty) this.emptyNote.remove();
  }

  /** Adds or updates a message in place (ordered by id, which is time order). */
  private upsert(m: Message, live: boolean): void {
    const known = this.messages.get(m.id);
    if (known && known.updated_at > m.updated_at) return;
    this.messages.set(m.id, m);
    const mine = !!this.me && m.chat_user_id === this.me.id;
    // A live copy of our own message: its pending copy goes. A history copy only replaces
    // one already on its way (its POST may answer after the history that holds it); an
    // older message with the same text never hides one still waiting to be sent.
    if (mine) this.claimPending(m, live);
    const log = this.log;
    if (!log) return;
    const stick = this.nearEnd();
    const old = this.elements.get(m.id);
    // Being edited here: the edit form stays; the new text shows when it closes.
    if (old && old.querySelector(".edit")) return;
    const el = this.renderMessage(m);
    if (old) {
      const buttons = Array.from(old.querySelectorAll("button"));
      const focused = buttons.indexOf(this.shadowActive() as HTMLButtonElement);
      old.replaceWith(el);
      if (focused >= 0) {
        const same = el.querySelectorAll("button")[focused];
        if (same) same.focus();
      }
    } else {
      // Before the first message with a greater id, else before the pending ones.
      let before: HTMLLIElement | null = null;
      let beforeId = "";
      for (const [id, other] of this.elements) {
        if (id > m.id && (!before || id < beforeId)) {
          before = other;
          beforeId = id;
        }
      }
      log.insertBefore(el, before || log.querySelector(".msg[data-state]"));
    }
    this.elements.set(m.id, el);
    this.refreshEarlier();
    if (live && !mine && !known) this.say(fill(this.t.announce, { name: this.name(m.chat_user_id), text: m.body }));
    if ((live && stick) || (mine && !known && live)) this.scrollToEnd();
  }

  private shadowActive(): Element | null {
    const root = this.root.getRootNode() as ShadowRoot;
    return root.activeElement;
  }

  private renderMessage(m: Message): HTMLLIElement {
    const mine = !!this.me && m.chat_user_id === this.me.id;
    const when = this.time(m.created_at);
    const el = h(
      "li",
      { class: "msg" + (mine ? " mine" : ""), "data-id": m.id },
      h(
        "div",
        { class: "meta" },
        h("span", { class: "author", text: this.name(m.chat_user_id) }),
        h("time", { datetime: m.created_at, title: when.label, text: when.text }),
        m.edited_at ? h("span", { class: "edited", text: "· " + this.t.edited }) : null,
      ),
      h("div", { class: "bubble", dir: "auto", text: m.body }),
    );
    if (mine) {
      el.appendChild(
        h(
          "div",
          { class: "actions" },
          h("button", { type: "button", text: this.t.edit, "aria-label": this.t.editLabel, onclick: () => this.startEdit(m.id) }),
          h("button", { type: "button", text: this.t.delete, "aria-label": this.t.deleteLabel, onclick: () => this.confirmDelete(m.id) }),
        ),
      );
    }
    return el;
  }

  private remove(id: string): void {
    this.messages.delete(id);
    const el = this.elements.get(id);
    this.elements.delete(id);
    if (el) {
      const hadFocus = el.contains(this.shadowActive());
      el.remove();
      if (hadFocus && this.composer) this.composer.focus();
    }
    this.refreshEarlier();
  }

  private startEdit(id: string): void {
    const m = this.messages.get(id);
    const el = this.elements.get(id);
    if (!m || !el) return;
    const area = h("textarea", { rows: 3, maxlength: MAX_LENGTH, dir: "auto", "aria-label": this.t.editLabel, value: m.body });
    const error = h("p", { class: "error", role: "alert" });
    const restore = () => {
      const current = this.messages.get(id);
      if (!current) return;
      const fresh = this.renderMessage(current);
      el.replaceWith(fresh);
      this.elements.set(id, fresh);
      const edit = fresh.querySelector<HTMLButtonElement>(".actions button");
      if (edit) edit.focus();
    };
    const save = async () => {
      const body = area.value;
      if (!body.trim()) return;
      if (body === m.body) return restore();
      error.textContent = "";
      try {
        const answer = await this.api.call<{ data: Message }>("PUT", "/messages/" + id, { body });
        this.messages.set(id, answer.data);
        restore();
      } catch (err) {
        if (this.ended(err)) return;
        if (err instanceof ApiError && err.status === 404) return this.remove(id);
        error.textContent = err instanceof ApiError && err.status === 422 ? err.field("body") || err.message : this.errorText(err);
      }
    };
    area.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        restore();
      } else if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        void save();
      }
    });
    const form = h(
      "div",
      { class: "edit" },
      area,
      error,
      h("div", { class: "row" }, h("button", { class: "primary", type: "button", text: this.t.save, onclick: () => void save() }), h("button", { class: "secondary", type: "button", text: this.t.cancel, onclick: restore })),
    );
    const bubble = el.querySelector(".bubble");
    const actions = el.querySelector(".actions");
    if (bubble) bubble.replaceWith(form);
    if (actions) actions.remove();
    area.focus();
    area.setSelectionRange(area.value.length, area.value.length);
  }

  private confirmDelete(id: string): void {
    const el = this.elements.get(id);
    const actions = el && el.querySelector(".actions");
    if (!el || !actions) return;
    const error = h("p", { class: "error", role: "alert" });
    const no = h("button", { type: "button", text: this.t.cancel });
    const yes = h("button", { type: "button", text: this.t.delete });
    const ask = h("div", { class: "actions", role: "group", "aria-label": this.t.confirmDelete }, h("span", { class: "msg-status", text: this.t.confirmDelete }), yes, no, error);
    no.addEventListener("click", () => {
      ask.replaceWith(actions);
      (actions.lastElementChild as HTMLElement).focus();
    });
    yes.addEventListener("click", async () => {
      try {
        await this.api.call("DELETE", "/messages/" + id);
        this.remove(id);
      } catch (err) {
        if (this.ended(err)) return;
        if (err instanceof ApiError && err.status === 404) return this.remove(id);
        error.textContent = this.errorText(err);
      }
    });
    actions.replaceWith(ask);
    yes.focus();
  }

  private async loadEarlier(button: HTMLButtonElement): Promise<void> {
    const oldest = Array.from(this.messages.keys()).sort()[0];
    const log = this.log;
    if (!oldest || !log) return;
    button.disabled = true;
    const generation = this.generation;
    try {
      const page = await this.api.call<{ data: Message[]; meta: { has_more: boolean } }>("GET", "/messages", undefined, { per_page: PAGE, before: oldest });
      if (generation !== this.generation) return;
      const height = log.scrollHeight;
      this.hasEarlier = page.meta.has_more;
      for (const m of page.data) this.upsert(m, false);
      this.unreadBeyond = Math.max(0, this.unreadBeyond - page.data.filter((m) => this.me && m.chat_user_id !== this.me.id && m.seq > this.lastReadSeq).length);
      log.scrollTop += log.scrollHeight - height;
      this.refreshEarlier();
      const first = this.elements.get(page.data.length ? page.data[page.data.length - 1].id : "");
      if (!this.hasEarlier && first) {
        first.setAttribute("tabindex", "-1");
        first.focus();
      }
    } catch (err) {
      if (!this.ended(err)) this.say(this.errorText(err));
    } finally {
      button.disabled = false;
    }
  }

  // ------------------------------------------------------------------ send --

  private send(): void {
    const composer = this.composer;
    if (!composer) return;
    const body = composer.value;
    if (!body.trim()) return;
    const item: Pending = { clientId: randomId(), body, state: "sending" };
    this.pending.push(item);
    this.saveOutbox();
    composer.value = "";
    this.composing(false);
    this.renderPending(item);
    this.scrollToEnd();
    this.flushAttempt = 0;
    void this.flush();
  }

  private saveOutbox(): void {
    this.store.outbox = this.pending.filter((p) => p.state !== "failed").map((p) => ({ clientId: p.clientId, body: p.body }));
  }

  private renderPending(p: Pending): void {
    const log = this.log;
    if (!log || p.seenAs) return;
    const statusText = p.state === "failed" ? fill(this.t.failed, { error: p.error || "" }) : p.state === "waiting" ? this.t.waiting : this.t.sending;
    const el = h(
      "li",
      { class: "msg mine", "data-state": p.state, "data-client-id": p.clientId },
      h("div", { class: "bubble", dir: "auto", text: p.body }),
      h("span", { class: "msg-status" + (p.state === "failed" ? " bad" : ""), role: p.state === "failed" ? "alert" : null, text: statusText }),
    );
    if (p.state === "failed") {
      el.appendChild(
        h(
          "div",
          { class: "actions" },
          h("button", { type: "button", text: this.t.retry, onclick: () => ((p.state = "sending"), this.renderPending(p), this.saveOutbox(), void this.flush()) }),
          h("button", { type: "button", text: this.t.discard, onclick: () => this.dropPending(p) }),
        ),
      );
    }
    if (p.el && p.el.isConnected) p.el.replaceWith(el);
    else log.appendChild(el);
    p.el = el;
    this.refreshEarlier();
  }

  private dropPending(p: Pending): void {
    this.pending = this.pending.filter((x) => x !== p);
    if (p.el) p.el.remove();
    this.saveOutbox();
    this.refreshEarlier();
  }

  /** Our own message arrived (event, answer, or history while its send is in flight):
   *  its pending copy goes. */
  private claimPending(m: Message, live: boolean): void {
    const claimable = (x: Pending) => !x.seenAs && x.body === m.body && (live ? x.state !== "failed" : x.state === "sending");
    const p = this.pending.find((x) => x.seenAs === m.id) || this.pending.find(claimable);
    if (!p) return;
    p.seenAs = m.id;
    if (p.el) p.el.remove();
    p.el = undefined;
  }

  /** Sends the outbox in order, one at a time, each with its client_id: a repeat of a
   *  send that did reach the API answers with the same message, so none is sent twice. */
  private async flush(): Promise<void> {
    if (this.flushing || !this.me || !this.api.token) return;
    this.flushing = true;
    const generation = this.generation;
    clearTimeout(this.flushRetry);
    try {
      for (;;) {
        const p = this.pending.find((x) => x.state !== "failed");
        if (!p) break;
        if (!navigator.onLine) throw new NetworkError("offline");
        if (p.state !== "sending") {
          p.state = "sending";
          this.renderPending(p);
        }
        try {
          const answer = await this.api.call<{ data: Message }>("POST", "/messages", { body: p.body, client_id: p.clientId });
          if (generation !== this.generation) return;
          this.pending = this.pending.filter((x) => x !== p);
          this.saveOutbox();
          if (p.el) p.el.remove();
          if (!this.messages.has(answer.data.id)) {
            p.seenAs = answer.data.id;
            this.upsert(answer.data, true);
          }
          this.flushAttempt = 0;
        } catch (err) {
          if (generation !== this.generation) return;
          if (err instanceof ApiError && !err.transient) {
            if (err.status === 401 || err.status === 403) {
              this.ended(err);
              return;
            }
            if (err.status === 404 && !err.message.toLowerCase().includes("chat")) {
              // Sent before and deleted since: nothing left to send.
              this.dropPending(p);
              continue;
            }
            if (this.ended(err)) return;
            p.state = "failed";
            p.error = err.status === 422 ? err.field("body") || err.message : err.message;
            this.renderPending(p);
            this.saveOutbox();
            continue;
          }
          throw err;
        }
      }
    } catch (err) {
      if (generation !== this.generation) return;
      // Offline, unreachable, throttled or briefly down: wait, keep the order, try again.
      for (const p of this.pending) {
        if (p.state === "sending") {
          p.state = "waiting";
          this.renderPending(p);
        }
      }
      const retryAfter = err instanceof ApiError && err.retryAfter ? err.retryAfter * 1000 : 0;
      const ceiling = Math.min(30000, 1000 * Math.pow(2, this.flushAttempt++));
      const delay = Math.max(retryAfter, ceiling / 2 + (Math.random() * ceiling) / 2);
      if (navigator.onLine || retryAfter) this.flushRetry = setTimeout(() => void this.flush(), delay);
    } finally {
      if (generation === this.generation) this.flushing = false;
    }
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

  private frame(data: Record<string, unknown>): void {
    if (!this.me) return;
    if (data.type === "typing") {
      const who = typeof data.chat_user_id === "string" ? data.chat_user_id : "";
      if (who !== this.me.id) this.typing(who);
      return;
    }
    if (typeof data.seq !== "number") return; // pong, error
    const event = data as unknown as ChatEvent;
    if (event.seq <= this.lastSeq) return;
    if (event.seq > this.lastSeq + 1 || this.catching) {
      // A gap (or a catch-up under way): the log fills it, in order.
      void this.catchUp();
      return;
    }
    this.apply(event);
  }

  /** Follows the log from the last seq applied, until it has nothing newer. */
  private async catchUp(): Promise<void> {
    if (this.catching) {
      this.catchAgain = true;
      return;
    }
    if (!this.me) return;
    this.catching = true;
    const generation = this.generation;
    clearTimeout(this.catchRetry);
    try {
      do {
        this.catchAgain = false;
        let more = true;
        while (more) {
          const page = await this.api.call<{ data: ChatEvent[]; meta: { has_more: boolean } }>("GET", "/events", undefined, { after: this.lastSeq, per_page: 100 });
          if (generation !== this.generation) return;
          for (const e of page.data) if (e.seq > this.lastSeq) this.apply(e);
          more = page.meta.has_more && page.data.length > 0;
        }
      } while (this.catchAgain);
    } catch (err) {
      if (generation !== this.generation) return;
      if (err instanceof ApiError && err.status === 409 && err.body && err.body.reset) {
        this.catching = false;
        void this.enter();
        return;
      }
      if (this.ended(err)) return;
      // The socket may be fine while this call failed: try again.
      this.catchRetry = setTimeout(() => void this.catchUp(), 3000);
    } finally {
      if (generation === this.generation) this.catching = false;
    }
  }

  private apply(e: ChatEvent): void {
    this.lastSeq = Math.max(this.lastSeq, e.seq);
    if (e.type !== "read.updated") this.seenSeq = Math.max(this.seenSeq, e.seq);
    const d = e.data;
    const me = this.me;
    if (!me) return;
    switch (e.type) {
      case "message.created":
      case "message.updated":
        if (typeof d.id === "string") {
          this.upsert(d as unknown as Message, true);
          if (typeof d.chat_user_id === "string") this.stopTyping(d.chat_user_id);
        }
        break;
      case "message.deleted":
        if (typeof d.id === "string") this.remove(d.id);
        break;
      case "chat_user.joined":
      case "chat_user.updated":
        if (typeof d.id === "string" && typeof d.name === "string") {
          this.names.set(d.id, d.name);
          this.renameAuthor(d.id);
        }
        break;
      case "chat_user.removed":
        if (d.id === me.id) return this.expired(this.t.removed);
        break;
      case "chat.updated":
        if (this.chat && typeof d.name === "string") {
          this.chat.name = d.name;
          this.setTitle();
        }
        break;
      case "read.updated":
        if (d.chat_user_id === me.id && typeof d.last_read_seq === "number") {
          this.lastReadSeq = Math.max(this.lastReadSeq, d.last_read_seq);
          this.unreadBeyond = 0;
        }
        break;
    }
    this.updateBadge();
    this.maybeMarkRead();
  }

  private renameAuthor(chatUserId: string): void {
    for (const [id, el] of this.elements) {
      const m = this.messages.get(id);
      const author = el.querySelector(".author");
      if (m && m.chat_user_id === chatUserId && author) author.textContent = this.name(chatUserId);
    }
  }

  private typing(chatUserId: string): void {
    clearTimeout(this.typers.get(chatUserId));
    this.typers.set(
      chatUserId,
      setTimeout(() => this.stopTyping(chatUserId), TYPING_SHOWN_MS),
    );
    this.showTyping();
  }

  private stopTyping(chatUserId: string): void {
    if (!this.typers.has(chatUserId)) return;
    clearTimeout(this.typers.get(chatUserId));
    this.typers.delete(chatUserId);
    this.showTyping();
  }

  private showTyping(): void {
    if (!this.typingLine) return;
    const names = Array.from(this.typers.keys()).map((id) => (id ? this.name(id) : this.t.someone));
    this.typingLine.textContent = !names.length ? "" : names.length === 1 ? fill(this.t.typingOne, { a: names[0] }) : names.length === 2 ? fill(this.t.typingTwo, { a: names[0], b: names[1] }) : this.t.typingMany;
  }

  // ------------------------------------------------------------------ read --

  /** While the conversation is in view, the read marker follows the newest event seen. */
  private get inView(): boolean {
    return !!this.me && this.isOpen && document.visibilityState === "visible";
  }

  private maybeMarkRead(): void {
    this.updateBadge();
    if (!this.inView || this.seenSeq <= this.lastReadSeq) return;
    // At most one marker move in flight and one waiting: a burst of events is one PUT.
    if (this.readTimer !== undefined) return;
    this.readTimer = setTimeout(() => {
      this.readTimer = undefined;
      void this.markRead();
    }, 300);
  }

  private async markRead(closing = false): Promise<void> {
    // Seen means seen now: a minimised panel or a hidden tab reads nothing.
    if (this.marking || !(this.inView || (closing && this.me))) return;
    const seq = this.seenSeq;
    if (seq <= this.lastReadSeq) return;
    this.marking = true;
    const generation = this.generation;
    try {
      const answer = await this.api.call<{ data: { last_read_seq: number; unread_count: number } }>("PUT", "/read", { seq });
      if (generation !== this.generation) return;
      this.lastReadSeq = Math.max(this.lastReadSeq, answer.data.last_read_seq);
      this.unreadBeyond = 0;
      this.updateBadge();
    } catch (err) {
      if (generation === this.generation && !this.ended(err)) {
        // Not now; the next event or visibility change tries again.
      }
    } finally {
      this.marking = false;
    }
    if (generation === this.generation) this.maybeMarkRead();
  }
}

function CSS_SUPPORTS_COLOR(value: string): boolean {
  try {
    return CSS.supports("color", value);
  } catch {
    return false;
  }
}

