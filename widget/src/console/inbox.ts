// The inbox: the company's conversations in one status, filtered (mine, unassigned, all)
// and sorted (waiting, recent), as `GET /api/inbox` pages them; or the company's rooms
// (`GET /api/chats`: the inbox never lists rooms). The team stream says which chat changed;
// the list is then read again (debounced), so it is always the API's order. j / k choose a
// row (it takes the focus), Enter opens it.

import { Api } from "../core/api";
import { clear, h } from "../core/dom";
import { KEYS } from "./keyboard";
import { Chat, InboxRow, Status, since } from "./types";

/** Whose conversations, or the rooms. */
export type View = "me" | "none" | "all" | "rooms";
type Sort = "waiting" | "recent";

export interface InboxHost {
  open(row: InboxRow): void;
  current(): string | null;
  userId(): string;
  /** A teammate's name by user id, when the team is known. */
  memberName(id: string): string | undefined;
}

/** "j k move · Enter opens · …", each key as a <kbd>. */
function keyHint(): (Node | string)[] {
  const said: [string, string][] = [
    [KEYS.next + " " + KEYS.previous, "move"],
    [KEYS.open, "opens"],
    [KEYS.reply, "reply"],
    [KEYS.note, "note"],
    [KEYS.resolve, "resolve"],
  ];
  return said.flatMap(([keys, what], i) => [i ? " · " : "", ...keys.split(" ").flatMap((k) => [h("kbd", { text: k }), " "]), what]);
}

const STATUSES: Status[] = ["open", "pending", "snoozed", "resolved"];

export class Inbox {
  readonly el: HTMLElement;
  private list: HTMLUListElement;
  private rows: InboxRow[] = [];
  private view: View = "all";
  private status: Status = "open";
  private sort: Sort = "waiting";
  private tabs: HTMLButtonElement[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private loading = 0;
  private ticker: ReturnType<typeof setInterval>;
  private filters: HTMLElement[];
  /** The row j / k chose (it need not be open). */
  private chosen: string | null = null;
  /** What the list on screen shows, to rebuild it only when that changes. */
  private signature = "";

  constructor(
    private readonly api: Api,
    private readonly companyId: string,
    private readonly companyName: string,
    private readonly host: InboxHost,
  ) {
    const tab = (value: View, label: string) => {
      const b = h("button", { type: "button", "aria-pressed": String(value === this.view), text: label, onclick: () => this.set(() => (this.view = value)) });
      b.dataset.value = value;
      this.tabs.push(b);
      return b;
    };
    const status = h("select", { id: "inbox-status", onchange: (e: Event) => this.set(() => (this.status = (e.target as HTMLSelectElement).value as Status)) }, ...STATUSES.map((s) => h("option", { value: s, text: s[0].toUpperCase() + s.slice(1) })));
    const sort = h("select", { id: "inbox-sort", onchange: (e: Event) => this.set(() => (this.sort = (e.target as HTMLSelectElement).value as Sort)) }, h("option", { value: "waiting", text: "Waiting longest" }), h("option", { value: "recent", text: "Most recent" }));
    this.list = h("ul", { class: "rows", "aria-label": "Conversations" });
    // Status and sort are the inbox's: rooms have neither.
    this.filters = [h("div", { class: "field" }, h("label", { for: "inbox-status", text: "Status" }), status), h("div", { class: "field" }, h("label", { for: "inbox-sort", text: "Sort" }), sort)];
    this.el = h(
      "nav",
      { class: "inbox", "aria-label": "Inbox" },
      h(
        "div",
        { class: "filters" },
        h("div", { class: "tabs", role: "group", "aria-label": "Show" }, tab("me", "Mine"), tab("none", "Unassigned"), tab("all", "All"), tab("rooms", "Rooms")),
        ...this.filters,
      ),
      this.list,
      h("p", { class: "keys" }, ...keyHint()),
    );
    this.ticker = setInterval(() => this.render(), 30000);
  }

  destroy(): void {
    clearInterval(this.ticker);
    clearTimeout(this.timer);
  }

  private set(change: () => void): void {
    change();
    for (const b of this.tabs) b.setAttribute("aria-pressed", String(b.dataset.value === this.view));
    for (const f of this.filters) f.hidden = this.view === "rooms";
    this.list.setAttribute("aria-label", this.view === "rooms" ? "Rooms" : "Conversations");
    this.refresh();
  }

  /** Reads the list again; a failure is said in the list, and the next change retries. */
  refresh(): void {
    this.load().catch(() => {
      this.signature = "";
      clear(this.list);
      this.list.appendChild(h("li", { class: "empty" }, h("span", { class: "error", role: "alert", text: "The inbox could not be loaded. It retries on the next change." })));
    });
  }

  /** Something changed in `chatId` (or anywhere, after a reconnect): read the list again soon. */
  changed(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), 250);
  }

  /** The rows on screen, as last read. */
  get shown(): InboxRow[] {
    return this.rows;
  }

  row(chatId: string): InboxRow | undefined {
    return this.rows.find((r) => r.id === chatId);
  }

  async load(): Promise<void> {
    const mine = ++this.loading;
    const rows = this.view === "rooms" ? await this.rooms() : await this.conversations();
    if (mine !== this.loading) return;
    this.rows = rows;
    this.render();
  }

  /** The company's rooms, as inbox rows (no visitor, no status, no unread count). */
  private async rooms(): Promise<InboxRow[]> {
    const page: { data: Chat[] } = await this.api.call("GET", "/api/chats", undefined, { company_id: this.companyId, per_page: 50 });
    return page.data.map((chat) => ({ ...chat, guest: null, last_message: null, unread_count: 0 }));
  }

  private async conversations(): Promise<InboxRow[]> {
    const query: Record<string, string | number> = { company_id: this.companyId, status: this.status, sort: this.sort, per_page: 50 };
    if (this.view !== "all") query.assignee = this.view;
    const rows: InboxRow[] = [];
    let cursor: string | null = null;
    // A filtered page may be short or empty while a cursor remains: follow it (a few pages).
    for (let i = 0; i < 4; i++) {
      if (cursor) query.cursor = cursor;
      const page: { data: InboxRow[]; meta: { next_cursor?: string | null } } = await this.api.call("GET", "/api/inbox", undefined, query);
      rows.push(...page.data);
      cursor = page.meta.next_cursor || null;
      if (!cursor || rows.length >= 50) break;
    }
    return rows;
  }

  /** j / k: the next or previous row takes the focus (from the chosen or the open one). */
  move(delta: 1 | -1): void {
    if (!this.rows.length) return;
    const from = this.chosen || this.host.current();
    const at = this.rows.findIndex((r) => r.id === from);
    const to = at < 0 ? (delta > 0 ? 0 : this.rows.length - 1) : Math.min(this.rows.length - 1, Math.max(0, at + delta));
    this.chosen = this.rows[to].id;
    this.render();
    const button = this.list.querySelector<HTMLButtonElement>(".row.chosen");
    if (button) {
      button.focus();
      button.scrollIntoView({ block: "nearest" });
    }
  }

  /** Enter: opens the chosen row. */
  openChosen(): void {
    const row = this.chosen ? this.row(this.chosen) : undefined;
    if (row) this.host.open(row);
  }

  /** The operator read `chatId` up to its end: its badge goes. */
  read(chatId: string): void {
    const row = this.row(chatId);
    if (row && row.unread_count) {
      row.unread_count = 0;
      this.render();
    }
  }

  render(): void {
    // The tab's title counts what the operator has not read in this view.
    const unread = this.rows.reduce((n, r) => n + r.unread_count, 0);
    document.title = (unread ? "(" + unread + ") " : "") + this.companyName + " · Console";
    const current = this.host.current();
    const shown = this.rows.map((row) => {
      const last = row.last_message;
      return {
        id: row.id,
        name: (row.guest && row.guest.name) || row.name,
        waiting: row.waiting_since ? "waiting " + since(row.waiting_since) : "",
        unread: row.unread_count,
        email: (row.guest && row.guest.email) || "",
        preview: last ? (last.internal ? "Note by " : "") + (last.author.type === "staff" ? last.author.name + ": " : "") + last.preview : row.kind === "room" ? "" : "No message yet",
        assigned: row.kind === "room" ? "Room" : row.assignee_id ? (row.assignee_id === this.host.userId() ? "Assigned to you" : "Assigned to " + (this.host.memberName(row.assignee_id) || "a teammate")) : "Unassigned",
        current: row.id === current,
        chosen: row.id === this.chosen,
      };
    });
    // The list is rebuilt only when what it shows changed: a rebuild between the press and
    // the release of a click would swallow the click.
    const signature = this.view + JSON.stringify(shown);
    if (signature === this.signature) return;
    this.signature = signature;
    const focused = document.activeElement instanceof HTMLElement ? document.activeElement.dataset.chatId : undefined;
    clear(this.list);
    if (!shown.length) {
      this.list.appendChild(h("li", { class: "empty", text: this.view === "rooms" ? "No rooms." : "No conversations here." }));
      return;
    }
    for (const r of shown) {
      const button = h(
        "button",
        {
          type: "button",
          class: r.chosen ? "row chosen" : "row",
          "aria-keyshortcuts": "j k Enter",
          "aria-current": String(r.current),
          onclick: () => {
            const row = this.row(r.id);
            if (row) this.host.open(row);
          },
        },
        h(
          "span",
          { class: "line" },
          h("span", { class: "name", text: r.name }),
          r.waiting ? h("span", { class: "waiting", text: r.waiting }) : null,
          r.unread ? h("span", { class: "unread", "aria-label": r.unread + " unread", text: r.unread >= 100 ? "99+" : String(r.unread) }) : null,
        ),
        r.email ? h("span", { class: "email", text: r.email }) : null,
        r.preview ? h("span", { class: "preview", text: r.preview }) : null,
        h("span", { class: "who", text: r.assigned }),
      );
      button.dataset.chatId = r.id;
      this.list.appendChild(h("li", null, button));
      if (focused === r.id) button.focus();
    }
  }
}
