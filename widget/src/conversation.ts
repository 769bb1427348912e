// The conversation screen: the messages (history pages, live events through the feed),
// the composer, typing notices, the conversation's status, and the read marker. One per
// signed-in session; the widget makes a new one each time it enters.

import { Api, Author, Chat, ChatEvent, ChatStatus, ChatUser, Message, Page } from "./core/api";
import { fill, h, icon } from "./core/dom";
import { Feed } from "./core/feed";
import { Live } from "./core/live";
import { needsLinks } from "./core/files";
import { Outbox, Pending } from "./core/outbox";
import { Tray } from "./core/tray";
import { Typers } from "./typing";
import { confirmDelete, EditHost, MAX_LENGTH, startEdit } from "./edit";
import { renderMessage, renderPending } from "./message";
import { Strings } from "./strings";
import type { Settings } from "./settings";

export interface ConversationHost {
  readonly t: Strings;
  readonly s: Settings;
  readonly api: Api;
  readonly live: Live;
  readonly outbox: Outbox;
  readonly isOpen: boolean;
  draft: string;
  saveDraft(): void;
  /** The company's name (company mode), for staff without one. */
  companyName(): string | null;
  say(text: string): void;
  errorText(err: unknown): string;
  setTitle(): void;
  updateBadge(): void;
  shadowActive(): Element | null;
  /** A failure that ends the session, handled; true when it was one. */
  ended(err: unknown): boolean;
  /** This guest was removed from the chat. */
  removed(): void;
  /** Load everything again (the log no longer reaches back to us). */
  reload(): void;
}

export const PAGE = 30;
const TYPING_EVERY_MS = 2500;
const SEND_ICON = ["M4 12l16-8-6 16-2.5-6.5z", "M11.5 13.5L20 4"];

export class Conversation {
  readonly feed: Feed;
  private readonly t: Strings;
  private names = new Map<string, string>();
  private messages = new Map<string, Message>();
  private elements = new Map<string, HTMLLIElement>();
  /** The newest seq of anything but a read marker: what "read" means. */
  private seenSeq: number;
  private lastReadSeq: number;
  /** Unread messages older than the loaded ones (from the server's count at start). */
  private unreadBeyond = 0;
  private hasEarlier = false;
  private readTimer: ReturnType<typeof setTimeout> | undefined;
  private marking = false;
  private typingSentAt = 0;
  private readonly typers: Typers;
  private closed = false;
  private readonly editing: EditHost;

  readonly el: HTMLDivElement;
  private readonly log: HTMLOListElement;
  private readonly earlier: HTMLLIElement;
  private readonly emptyNote: HTMLLIElement;
  private readonly stateLine: HTMLParagraphElement;
  private readonly composer: HTMLTextAreaElement;
  private readonly counter: HTMLDivElement;
  private readonly tray: Tray;

  constructor(
    private readonly host: ConversationHost,
    readonly me: ChatUser,
    readonly chat: Chat,
    users: ChatUser[],
  ) {
    this.t = host.t;
    for (const u of users) this.names.set(u.id, u.name);
    this.names.set(me.id, me.name);
    this.lastReadSeq = me.last_read_seq;
    this.seenSeq = chat.last_seq;
    this.feed = new Feed(host.api, {
      apply: (e) => this.apply(e),
      typing: (a) => this.typing(a),
      reset: () => host.reload(),
      ended: (err) => host.ended(err),
    });
    this.feed.start(chat.last_seq);
    this.editing = {
      t: host.t,
      api: host.api,
      messages: this.messages,
      elements: this.elements,
      render: (m) => this.render(m),
      remove: (id) => this.remove(id),
      ended: (err) => host.ended(err),
      errorText: (err) => host.errorText(err),
    };

    const t = this.t;
    this.log = h("ol", { class: "log", "aria-label": t.messages, tabindex: "0" });
    this.earlier = h("li", { class: "earlier" }, h("button", { class: "secondary", type: "button", text: t.loadEarlier, onclick: (e: Event) => this.loadEarlier(e.currentTarget as HTMLButtonElement) }));
    this.emptyNote = h("li", { class: "empty", text: t.empty });
    this.stateLine = h("p", { class: "chat-state", role: "status" });
    this.typers = new Typers(t);
    this.counter = h("div", { class: "counter", hidden: true, "aria-live": "polite" });
    this.composer = h("textarea", { rows: 1, maxlength: MAX_LENGTH, dir: "auto", "aria-label": t.message, placeholder: t.placeholder, "data-autofocus": true });
    this.composer.value = host.draft;
    this.composer.addEventListener("input", () => this.composing());
    this.composer.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.send();
      }
    });
    this.tray = new Tray({ api: host.api, t, chatId: () => chat.id, say: (x) => host.say(x), errorText: (e) => host.errorText(e), ended: (e) => host.ended(e) });
    const form = h(
      "form",
      { class: "composer", onsubmit: (e: Event) => (e.preventDefault(), this.send()) },
      this.tray.button,
      this.composer,
      h("button", { class: "send", type: "submit", title: t.send, "aria-label": t.send }, icon(SEND_ICON)),
    );
    this.log.appendChild(this.emptyNote);
    for (const p of host.outbox.items) this.showPending(p);
    this.el = h("div", { class: "screen" }, this.log, this.stateLine, this.typers.line, this.counter, this.tray.list, form);
    this.tray.accept(this.el, this.composer);
    this.showState();
  }

  /** The first page of history, once the screen is in place. */
  load(page: Page<Message>): void {
    this.hasEarlier = page.meta.has_more;
    for (const m of page.data) this.upsert(m, false);
    this.unreadBeyond = Math.max(0, (this.me.unread_count || 0) - this.unreadLoaded());
    this.refreshEarlier();
    this.composing(false);
    this.scrollToEnd();
  }

  close(): void {
    this.closed = true;
    this.feed.stop();
    this.typers.clear();
    clearTimeout(this.readTimer);
    this.readTimer = undefined;
    for (const p of this.host.outbox.items) p.el = undefined;
  }

  // ------------------------------------------------------------- composer --

  private composing(typed = true): void {
    const composer = this.composer;
    this.host.draft = composer.value;
    this.host.saveDraft();
    this.fitComposer();
    const n = composer.value.length;
    this.counter.hidden = n < MAX_LENGTH - 500;
    this.counter.textContent = fill(this.t.length, { n, max: MAX_LENGTH });
    const now = Date.now();
    if (typed && n && now - this.typingSentAt > TYPING_EVERY_MS && this.host.live.open) {
      this.typingSentAt = now;
      this.host.live.send({ action: "typing" });
    }
  }

  fitComposer(): void {
    const c = this.composer;
    c.style.height = "auto";
    c.style.height = Math.min(140, c.scrollHeight + 2) + "px";
  }

  private send(): void {
    const body = this.composer.value;
    if (this.tray.uploading) return this.host.say(this.t.stillUploading);
    const files = this.tray.take();
    if (!body.trim() && !files.length) return;
    const item = this.host.outbox.add(body, files);
    this.composer.value = "";
    this.composing(false);
    this.showPending(item);
    this.scrollToEnd();
    void this.host.outbox.flush();
  }

  // ---------------------------------------------------------------- view --

  private look(m: Message): { mine: boolean; staff: boolean; author: string } {
    const staff = !!m.author && m.author.type === "staff";
    const mine = !staff && m.chat_user_id === this.me.id;
    const author = staff ? (m.author && m.author.name) || this.host.companyName() || this.t.team : this.name(m.chat_user_id || "", m.author && m.author.name);
    return { mine, staff, author };
  }

  private name(chatUserId: string, fallback?: string): string {
    if (chatUserId === this.me.id) return this.t.you;
    return this.names.get(chatUserId) || fallback || this.t.someone;
  }

  private mine(m: Message): boolean {
    return !(m.author && m.author.type === "staff") && m.chat_user_id === this.me.id;
  }

  unreadLoaded(): number {
    let n = 0;
    for (const m of this.messages.values()) if (!this.mine(m) && m.seq > this.lastReadSeq) n++;
    return n;
  }

  unread(): number {
    return this.unreadLoaded() + this.unreadBeyond;
  }

  private nearEnd(): boolean {
    const log = this.log;
    return log.scrollHeight - log.scrollTop - log.clientHeight < 60;
  }

  scrollToEnd(): void {
    this.log.scrollTop = this.log.scrollHeight;
  }

  private refreshEarlier(): void {
    const log = this.log;
    if (this.hasEarlier) log.insertBefore(this.earlier, log.firstChild);
    else this.earlier.remove();
    const empty = this.messages.size === 0 && !this.host.outbox.items.length;
    if (empty && !this.emptyNote.isConnected) log.appendChild(this.emptyNote);
    if (!empty) this.emptyNote.remove();
  }

  /** The conversation's status, when it says something to the guest (resolved). */
  private showState(): void {
    // The line takes room from the log: the newest message stays in view.
    const stick = this.nearEnd();
    const resolved = this.chat.status === "resolved";
    this.stateLine.textContent = resolved ? this.t.resolved : "";
    this.stateLine.hidden = !resolved;
    if (stick) this.scrollToEnd();
  }

  private render(m: Message): HTMLLIElement {
    return renderMessage(m, this.look(m), this.t, this.host.s.lang, { edit: () => startEdit(this.editing, m.id), remove: () => confirmDelete(this.editing, m.id) });
  }

  /** Adds or updates a message in place (ordered by id, which is time order). */
  upsert(m: Message, live: boolean): void {
    const known = this.messages.get(m.id);
    if (known && known.updated_at > m.updated_at) return;
    // The same version from an event (files without links): the links already held stay.
    if (known && known.updated_at === m.updated_at && known.attachments && known.attachments.every((a) => a.url)) m = { ...m, attachments: known.attachments };
    this.messages.set(m.id, m);
    const mine = this.mine(m);
    // A live copy of our own message: its pending copy goes. A history copy only replaces
    // one already on its way (its POST may answer after the history that holds it); an
    // older message with the same text never hides one still waiting to be sent.
    if (mine) {
      const p = this.host.outbox.claim(m, live);
      if (p && p.el) p.el.remove();
      if (p) p.el = undefined;
    }
    const log = this.log;
    const stick = this.nearEnd();
    const old = this.elements.get(m.id);
    // Being edited here: the edit form stays; the new text shows when it closes.
    if (old && old.querySelector(".edit")) return;
    const el = this.render(m);
    if (old) {
      const buttons = Array.from(old.querySelectorAll("button"));
      const focused = buttons.indexOf(this.host.shadowActive() as HTMLButtonElement);
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
    // An event carries files without links: the message, read, has them.
    if (needsLinks(m.attachments)) void this.withLinks(m.id);
    if (live && !mine && !known) this.host.say(fill(this.t.announce, { name: this.look(m).author, text: m.body }));
    if ((live && stick) || (mine && !known && live)) this.scrollToEnd();
  }

  private async withLinks(id: string): Promise<void> {
    try {
      const read = await this.host.api.call<{ data: Message }>("GET", "/messages/" + id);
      if (!this.closed && !needsLinks(read.data.attachments)) this.upsert(read.data, false);
    } catch (err) {
      if (!this.closed) this.host.ended(err);
    }
  }

  remove(id: string): void {
    this.messages.delete(id);
    const el = this.elements.get(id);
    this.elements.delete(id);
    if (el) {
      const hadFocus = el.contains(this.host.shadowActive());
      el.remove();
      if (hadFocus) this.composer.focus();
    }
    this.refreshEarlier();
  }

  private async loadEarlier(button: HTMLButtonElement): Promise<void> {
    const oldest = Array.from(this.messages.keys()).sort()[0];
    if (!oldest) return;
    const log = this.log;
    button.disabled = true;
    try {
      const page = await this.host.api.call<Page<Message>>("GET", "/messages", undefined, { per_page: PAGE, before: oldest });
      if (this.closed) return;
      const height = log.scrollHeight;
      this.hasEarlier = page.meta.has_more;
      for (const m of page.data) this.upsert(m, false);
      this.unreadBeyond = Math.max(0, this.unreadBeyond - page.data.filter((m) => !this.mine(m) && m.seq > this.lastReadSeq).length);
      log.scrollTop += log.scrollHeight - height;
      this.refreshEarlier();
      const first = this.elements.get(page.data.length ? page.data[page.data.length - 1].id : "");
      if (!this.hasEarlier && first) {
        first.setAttribute("tabindex", "-1");
        first.focus();
      }
    } catch (err) {
      if (!this.host.ended(err)) this.host.say(this.host.errorText(err));
    } finally {
      button.disabled = false;
    }
  }

  // -------------------------------------------------------------- pending --

  showPending(p: Pending): void {
    if (p.seenAs) return;
    const el = renderPending(p, this.t, {
      retry: () => {
        p.state = "sending";
        this.showPending(p);
        this.host.outbox.save();
        void this.host.outbox.flush();
      },
      discard: () => this.host.outbox.remove(p),
    });
    if (p.el && p.el.isConnected) p.el.replaceWith(el);
    else this.log.appendChild(el);
    p.el = el;
    this.refreshEarlier();
  }

  dropPending(p: Pending): void {
    if (p.el) p.el.remove();
    p.el = undefined;
    this.refreshEarlier();
  }

  sent(p: Pending, m: Message): void {
    this.dropPending(p);
    if (!this.messages.has(m.id)) {
      p.seenAs = m.id;
      this.upsert(m, true);
    }
  }

  // ----------------------------------------------------------------- live --

  private apply(e: ChatEvent): void {
    if (e.type !== "read.updated") this.seenSeq = Math.max(this.seenSeq, e.seq);
    const d = e.data;
    const me = this.me;
    switch (e.type) {
      case "message.created":
      case "message.updated":
        if (typeof d.id === "string") {
          const m = d as unknown as Message;
          this.upsert(m, true);
          this.typers.stop(m.author ? m.author.id : m.chat_user_id || "");
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
        if (d.id === me.id) return this.host.removed();
        break;
      case "chat.updated":
        if (typeof d.name === "string") {
          this.chat.name = d.name;
          this.host.setTitle();
        }
        if (typeof d.status === "string") {
          this.chat.status = d.status as ChatStatus;
          this.showState();
        }
        break;
      case "read.updated":
        if (d.chat_user_id === me.id && typeof d.last_read_seq === "number") {
          this.lastReadSeq = Math.max(this.lastReadSeq, d.last_read_seq);
          this.unreadBeyond = 0;
        }
        break;
    }
    this.host.updateBadge();
    this.maybeMarkRead();
  }

  private renameAuthor(chatUserId: string): void {
    for (const [id, el] of this.elements) {
      const m = this.messages.get(id);
      const author = el.querySelector(".author");
      if (m && m.chat_user_id === chatUserId && author) author.textContent = this.look(m).author;
    }
  }

  private typing(author: Author): void {
    if (author.type === "guest" && author.id === this.me.id) return;
    const name = author.type === "staff" ? author.name || this.host.companyName() || this.t.team : this.name(author.id, author.name);
    this.typers.start(author.id, name);
  }

  // ----------------------------------------------------------------- read --

  /** While the conversation is in view, the read marker follows the newest event seen. */
  private get inView(): boolean {
    return !this.closed && this.host.isOpen && document.visibilityState === "visible";
  }

  maybeMarkRead(): void {
    this.host.updateBadge();
    if (!this.inView || this.seenSeq <= this.lastReadSeq) return;
    // At most one marker move in flight and one waiting: a burst of events is one PUT.
    if (this.readTimer !== undefined) return;
    this.readTimer = setTimeout(() => {
      this.readTimer = undefined;
      void this.markRead();
    }, 300);
  }

  /** Closing the panel: what was on screen until now has been seen. */
  closing(): void {
    if (this.readTimer === undefined) return;
    clearTimeout(this.readTimer);
    this.readTimer = undefined;
    void this.markRead(true);
  }

  private async markRead(closing = false): Promise<void> {
    // Seen means seen now: a minimised panel or a hidden tab reads nothing.
    if (this.marking || !(this.inView || (closing && !this.closed))) return;
    const seq = this.seenSeq;
    if (seq <= this.lastReadSeq) return;
    this.marking = true;
    try {
      const answer = await this.host.api.call<{ data: { last_read_seq: number; unread_count: number } }>("PUT", "/read", { seq });
      if (this.closed) return;
      this.lastReadSeq = Math.max(this.lastReadSeq, answer.data.last_read_seq);
      this.unreadBeyond = 0;
      this.host.updateBadge();
    } catch (err) {
      if (!this.closed) this.host.ended(err);
    } finally {
      this.marking = false;
    }
    if (!this.closed) this.maybeMarkRead();
  }
}
