// The conversation pane: the history (latest page, "load earlier" pages back), reply or
// note, assign to me, snooze / resolve / reopen, the visitor panel, typing both ways, and
// the operator's read marker. Events of the open
// chat arrive from the team stream in `seq` order; a gap (or a reconnect) is filled from
// `GET /events?after=`, and a message is shown once whatever path it took.

import { Api, Author, ChatEvent } from "../core/api";
import { append, clear, h, linkify } from "../core/dom";
import { files, needsLinks } from "../core/files";
import { TRAY_ENGLISH, Tray } from "../core/tray";
import { explain } from "./feedback";
import { SnoozeForm, snoozeForm, when } from "./snooze";
import { InboxRow, StaffMessage, Status, since } from "./types";
import { Typing } from "./typing";
import { VisitorPanel } from "./visitor";

export interface ConversationHost {
  userId(): string;
  memberName(id: string): string | undefined;
  /** Teammates it may assign to: the whole team for an owner or admin, none for an agent. */
  assignable(): { id: string; name: string }[];
  /** The chat changed in a way the inbox shows (status, assignee, read). */
  changed(chatId: string): void;
  read(chatId: string): void;
}

const PAGE = 30;

/** "Open", "Pending", …: a conversation always has a status (a room, which has none, never asks). */
function statusName(row: InboxRow): string {
  const status = row.status || "open";
  return status[0].toUpperCase() + status.slice(1);
}

export class Conversation {
  readonly el: HTMLElement;
  private row: InboxRow | null = null;
  private messages = new Map<string, StaffMessage>();
  private seq = 0;
  private readSeq = 0;
  private hasMore = false;
  private internal = false;
  private catching = false;
  private again = false;
  private readTimer: ReturnType<typeof setTimeout> | undefined;
  private drafts = new Map<string, string>();
  private head: HTMLElement;
  private error: HTMLElement;
  private log: HTMLElement;
  private form: HTMLFormElement;
  private box: HTMLTextAreaElement;
  private hint: HTMLElement;
  private send: HTMLButtonElement;
  private modeReply: HTMLButtonElement;
  private modeNote: HTMLButtonElement;
  private snooze: SnoozeForm;
  private visitor: VisitorPanel;
  private body: HTMLElement;
  readonly typing: Typing;
  private readonly tray: Tray;

  constructor(
    private readonly api: Api,
    private readonly host: ConversationHost,
  ) {
    this.head = h("header");
    this.error = h("p", { class: "error", role: "alert" });
    this.log = h("div", { class: "log", role: "log", "aria-label": "Messages", tabindex: "0" });
    this.box = h("textarea", { id: "compose", "aria-describedby": "compose-hint" });
    this.hint = h("span", { class: "hint", id: "compose-hint" });
    this.send = h("button", { type: "submit", class: "btn" });
    this.modeReply = h("button", { type: "button", class: "btn quiet", onclick: () => this.mode(false) }, "Reply");
    this.modeNote = h("button", { type: "button", class: "btn quiet", onclick: () => this.mode(true) }, "Note");
    this.tray = new Tray({ api, t: TRAY_ENGLISH, chatId: () => this.chatId, say: (text) => (this.error.textContent = text), errorText: explain, ended: () => false });
    this.form = h(
      "form",
      { class: "compose", onsubmit: (e: Event) => (e.preventDefault(), this.attempt(() => this.submit())) },
      h("label", { for: "compose", class: "sr", id: "compose-label" }),
      this.tray.list,
      this.box,
      h("div", { class: "line" }, h("div", { role: "group", "aria-label": "Write as", class: "line" }, this.modeReply, this.modeNote), this.tray.button, this.hint, this.send),
    );
    // Only a reply is announced: a note is the team's business.
    this.box.addEventListener("input", () => {
      if (!this.internal && this.box.value) this.typing.typed();
    });
    this.box.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        this.attempt(() => this.submit());
      }
    });
    this.snooze = snoozeForm(
      (until) => this.attempt(() => this.setStatus("snoozed", until)),
      (problem) => (this.error.textContent = problem),
    );
    this.visitor = new VisitorPanel(api);
    const typingLine = h("p", { class: "typing", "aria-live": "polite" });
    this.typing = new Typing(api, typingLine, () => this.host.userId());
    const thread = h("div", { class: "thread" }, this.log, typingLine, this.form);
    this.tray.accept(thread, this.box);
    this.body = h("div", { class: "body" }, thread, this.visitor.el);
    this.el = h("main", { class: "conv", "aria-label": "Conversation" }, h("p", { class: "placeholder", text: "Choose a conversation." }));
    this.mode(false);
    this.log.addEventListener("scroll", () => this.markRead());
    document.addEventListener("visibilitychange", () => this.markRead());
  }

  get chatId(): string | null {
    return this.row && this.row.id;
  }

  async open(row: InboxRow): Promise<void> {
    this.keepDraft();
    this.tray.clear();
    this.row = { ...row };
    this.messages.clear();
    this.seq = row.last_seq;
    this.readSeq = 0;
    // A new conversation starts as a reply: a note is chosen each time.
    this.mode(false, false);
    clear(this.el);
    clear(this.log);
    this.snooze.close();
    this.renderHead();
    this.visitor.show(this.row);
    this.typing.follow(row.id);
    this.el.append(this.head, this.snooze.el, this.error, this.body);
    const page = await this.api.call<{ data: StaffMessage[]; meta: { has_more: boolean } }>("GET", "/api/chats/" + row.id + "/messages", undefined, { per_page: PAGE });
    if (!this.row || this.row.id !== row.id) return;
    for (const m of page.data) this.messages.set(m.id, m);
    this.hasMore = page.meta.has_more;
    this.renderLog(true);
    // Events after the row was read (the stream may have run ahead): catch up once.
    await this.catchUp();
    this.markRead();
  }

  async earlier(): Promise<void> {
    if (!this.row) return;
    const oldest = this.sorted()[0];
    if (!oldest) return;
    const chat = this.row.id;
    const before = this.log.scrollHeight - this.log.scrollTop;
    const page = await this.api.call<{ data: StaffMessage[]; meta: { has_more: boolean } }>("GET", "/api/chats/" + chat + "/messages", undefined, { per_page: PAGE, before: oldest.id });
    if (!this.row || this.row.id !== chat) return;
    for (const m of page.data) this.messages.set(m.id, m);
    this.hasMore = page.meta.has_more;
    this.renderLog(false);
    this.log.scrollTop = this.log.scrollHeight - before;
  }

  /** A frame of the team stream for this chat. */
  event(e: ChatEvent): void {
    if (!this.row || e.chat_id !== this.row.id) return;
    if (e.seq <= this.seq) return;
    if (e.seq > this.seq + 1) {
      this.attempt(() => this.catchUp());
      return;
    }
    this.apply(e);
  }

  /** Reads every event after the last one applied (after a reconnect, or a gap). A call
   *  while one runs makes it read once more at its end, so nothing falls between the two. */
  async catchUp(): Promise<void> {
    if (!this.row) return;
    if (this.catching) {
      this.again = true;
      return;
    }
    this.catching = true;
    const chat = this.row.id;
    this.again = false;
    try {
      for (;;) {
        const page = await this.api.call<{ data: ChatEvent[]; meta: { has_more: boolean } }>("GET", "/api/chats/" + chat + "/events", undefined, { after: this.seq });
        if (!this.row || this.row.id !== chat) return;
        for (const e of page.data) if (e.seq > this.seq) this.apply(e);
        if (!page.meta.has_more || !page.data.length) break;
      }
    } finally {
      this.catching = false;
      if (this.again) this.attempt(() => this.catchUp());
    }
  }

  private apply(e: ChatEvent): void {
    this.seq = e.seq;
    const data = e.data as Record<string, unknown>;
    if (e.type === "message.created" || e.type === "message.updated") {
      const m = data as unknown as StaffMessage;
      const known = this.messages.get(m.id);
      // The same version from an event has files without links: keep the links held.
      this.messages.set(m.id, known && known.updated_at === m.updated_at && !needsLinks(known.attachments) ? { ...m, attachments: known.attachments } : m);
      if (needsLinks(this.messages.get(m.id)?.attachments)) this.attempt(() => this.withLinks(m.id));
      if (m.author) this.typing.stopped(m.author.id);
      this.renderLog(this.atBottom());
      this.markRead();
    } else if (e.type === "message.deleted") {
      this.messages.delete(String(data.id));
      this.renderLog(false);
    } else if ((e.type === "chat.assigned" || e.type === "chat.status_changed") && this.row) {
      this.row.status = (data.status as Status) || this.row.status;
      this.row.assignee_id = (data.assignee_id as string | undefined) || undefined;
      this.row.snoozed_until = (data.snoozed_until as string | undefined) || undefined;
      this.renderHead();
    }
  }

  /** A typing notice of the team stream. */
  typingFrame(chatId: string, author: Author): void {
    if (this.row && chatId === this.row.id) this.typing.shown(author);
  }

  /** r and n: the composer, as a reply or a note, takes the focus. */
  write(internal: boolean): void {
    if (!this.row) return;
    this.mode(internal);
    this.box.focus();
  }

  /** e: resolves the open conversation. */
  resolve(): void {
    if (this.row && this.row.kind === "conversation" && this.row.status !== "resolved") this.attempt(() => this.setStatus("resolved"));
  }

  /** Runs an action; its failure is said in the pane, never thrown at the page. */
  attempt(action: () => Promise<void>): void {
    this.error.textContent = "";
    action().catch((e: unknown) => {
      this.error.textContent = explain(e);
    });
  }

  private sorted(): StaffMessage[] {
    return Array.from(this.messages.values()).sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id < b.id ? -1 : 1));
  }

  private atBottom(): boolean {
    return this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
  }

  private renderHead(): void {
    const row = this.row;
    if (!row) return;
    clear(this.head);
    const me = this.host.userId();
    const guest = row.guest;
    const assigned = row.assignee_id ? (row.assignee_id === me ? "assigned to you" : "assigned to " + (this.host.memberName(row.assignee_id) || "a teammate")) : "unassigned";
    if (row.kind === "room") {
      append(this.head, [h("h2", { text: row.name }), h("p", { class: "meta", text: "Room" + (row.created_at ? " · started " + since(row.created_at) + " ago" : "") })]);
      return;
    }
    const team = this.host.assignable();
    const picker = team.length
      ? h(
          "select",
          { "aria-label": "Assignee", onchange: (e: Event) => this.attempt(() => this.assign((e.target as HTMLSelectElement).value || null)) },
          h("option", { value: "", text: "Unassigned", selected: !row.assignee_id }),
          ...team.map((m) => h("option", { value: m.id, text: m.id === me ? m.name + " (you)" : m.name, selected: m.id === row.assignee_id })),
        )
      : null;
    append(this.head, [
      h("h2", { text: (guest && guest.name) || row.name }),
      picker,
      row.assignee_id !== me ? h("button", { type: "button", class: "btn", onclick: () => this.attempt(() => this.assign(me)) }, "Assign to me") : null,
      row.status === "resolved" || row.status === "snoozed" ? h("button", { type: "button", class: "btn quiet", onclick: () => this.attempt(() => this.setStatus("open")) }, "Reopen") : null,
      row.status !== "resolved" ? this.snooze.toggle : null,
      row.status !== "resolved" ? h("button", { type: "button", class: "btn quiet", "aria-keyshortcuts": "e", onclick: () => this.attempt(() => this.setStatus("resolved")) }, "Resolve") : null,
      h("p", { class: "meta", text: [guest && guest.email, row.status === "snoozed" && row.snoozed_until ? "Snoozed until " + when(row.snoozed_until) : statusName(row), assigned, row.created_at ? "started " + since(row.created_at) + " ago" : ""].filter(Boolean).join(" · ") }),
    ]);
  }

  private renderLog(scroll: boolean): void {
    clear(this.log);
    if (this.hasMore) this.log.appendChild(h("button", { type: "button", class: "btn quiet more", onclick: () => this.attempt(() => this.earlier()) }, "Load earlier"));
    for (const m of this.sorted()) {
      const staff = !m.chat_user_id;
      const name = (m.author && m.author.name) || (staff ? "Team" : "Visitor");
      const el = h(
        "div",
        { class: "msg" + (staff ? " staff" : "") + (m.internal ? " internal" : "") },
        h("span", { class: "by", text: (m.internal ? "Note by " : "") + name + " · " + new Date(m.created_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) }),
        m.body || !(m.attachments && m.attachments.length) ? h("div", { class: "bubble" }, ...linkify(m.body)) : null,
        files(m.attachments || []),
      );
      el.dataset.id = m.id;
      this.log.appendChild(el);
    }
    if (scroll) this.log.scrollTop = this.log.scrollHeight;
  }

  /** Where the text being written is kept: per conversation, a reply apart from a note. */
  private draftKey(): string | null {
    return this.row && this.row.id + (this.internal ? ":note" : ":reply");
  }

  private keepDraft(): void {
    const key = this.draftKey();
    if (key) this.drafts.set(key, this.box.value);
  }

  /** Reply or note; each has its own text, so a note never turns into a reply by a click
   *  (nor one visitor's draft into another's: `keep` false when the conversation changed). */
  private mode(internal: boolean, keep = true): void {
    if (keep) this.keepDraft();
    this.internal = internal;
    const key = this.draftKey();
    this.box.value = (key && this.drafts.get(key)) || "";
    this.form.classList.toggle("internal", internal);
    this.modeReply.setAttribute("aria-pressed", String(!internal));
    this.modeNote.setAttribute("aria-pressed", String(internal));
    (this.form.querySelector("#compose-label") as HTMLElement).textContent = internal ? "Note" : "Reply";
    this.hint.textContent = internal ? "Only your team sees notes." : (this.row && this.row.kind === "room" ? "Everyone in the room sees this." : "The visitor sees this.") + " Ctrl+Enter sends.";
    this.send.textContent = internal ? "Add note" : "Send reply";
    this.send.className = internal ? "btn note" : "btn";
  }

  private async submit(): Promise<void> {
    const body = this.box.value.trim();
    if (this.tray.uploading) return void (this.error.textContent = "Wait for the files to finish uploading, then send.");
    if ((!body && !this.tray.ready) || !this.row) return;
    this.send.disabled = true;
    try {
      const attached = this.tray.take();
      const fields = { body, ...(this.internal ? { internal: true } : {}), ...(attached.length ? { attachment_ids: attached.map((f) => f.id) } : {}) };
      const reply = await this.api.call<{ data: StaffMessage }>("POST", "/api/chats/" + this.row.id + "/messages", fields);
      // What was typed meanwhile (the next message) stays.
      if (this.box.value.trim() === body) this.box.value = "";
      this.messages.set(reply.data.id, reply.data);
      this.renderLog(true);
      this.host.changed(this.row.id);
    } finally {
      this.send.disabled = false;
      this.box.focus();
    }
  }

  /** A live message's files, with links (an event carries none). */
  private async withLinks(id: string): Promise<void> {
    const chat = this.chatId;
    const read = await this.api.call<{ data: StaffMessage }>("GET", "/api/chats/" + chat + "/messages/" + id);
    if (this.chatId !== chat || !this.messages.has(id)) return;
    this.messages.set(id, read.data);
    this.renderLog(this.atBottom());
  }

  private async assign(assignee: string | null): Promise<void> {
    if (!this.row) return;
    const reply = await this.api.call<{ data: InboxRow }>("POST", "/api/chats/" + this.row.id + "/assign", { assignee_id: assignee });
    this.row.assignee_id = reply.data.assignee_id;
    this.renderHead();
    this.host.changed(this.row.id);
  }

  private async setStatus(status: Status, until?: Date): Promise<void> {
    if (!this.row) return;
    const reply = await this.api.call<{ data: InboxRow }>("POST", "/api/chats/" + this.row.id + "/status", until ? { status, snoozed_until: until.toISOString() } : { status });
    this.row.status = reply.data.status;
    this.row.snoozed_until = reply.data.snoozed_until;
    this.renderHead();
    this.host.changed(this.row.id);
  }

  /** Moves the operator's marker to the last event, when the end of the log is in view. */
  private markRead(): void {
    if (!this.row || document.visibilityState !== "visible" || !this.atBottom() || this.seq <= this.readSeq) return;
    clearTimeout(this.readTimer);
    const chat = this.row.id;
    this.readTimer = setTimeout(() => {
      if (!this.row || this.row.id !== chat || this.seq <= this.readSeq) return;
      const seq = this.seq;
      this.api.call("PUT", "/api/chats/" + chat + "/read", { seq }).then(
        () => {
          this.readSeq = Math.max(this.readSeq, seq);
          this.host.read(chat);
        },
        () => undefined,
      );
    }, 500);
  }
}
