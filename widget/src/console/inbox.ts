// The inbox: the company's conversations in one status, filtered (mine, unassigned, all)
// and sorted (waiting, recent), as `GET /api/inbox` pages them. The team stream says which
// chat changed; the list is then read again (debounced), so it is always the API's order.

import { Api } from "../core/api";
import { clear, h } from "../core/dom";
import { InboxRow, Status, since } from "./types";

export type Assignee = "me" | "none" | "all";
type Sort = "waiting" | "recent";

export interface InboxHost {
  open(row: InboxRow): void;
  current(): string | null;
  userId(): string;
  /** A teammate's name by user id, when the team is known. */
  memberName(id: string): string | undefined;
}

const STATUSES: Status[] = ["open", "pending", "snoozed", "resolved"];

export class Inbox {
  readonly el: HTMLElement;
  private list: HTMLUListElement;
  private rows: InboxRow[] = [];
  private assignee: Assignee = "all";
  private status: Status = "open";
  private sort: Sort = "waiting";
  private tabs: HTMLButtonElement[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private loading = 0;
  private ticker: ReturnType<typeof setInterval>;

  constructor(
    private readonly api: Api,
    private readonly companyId: string,
    private readonly companyName: string,
    private readonly host: InboxHost,
  ) {
    const tab = (value: Assignee, label: string) => {
      const b = h("button", { type: "button", "aria-pressed": String(value === this.assignee), text: label, onclick: () => this.setAssignee(value) });
      b.dataset.value = value;
      this.tabs.push(b);
      return b;
    };
    const status = h("select", { id: "inbox-status", onchange: (e: Event) => this.set(() => (this.status = (e.target as HTMLSelectElement).value as Status)) }, ...STATUSES.map((s) => h("option", { value: s, text: s[0].toUpperCase() + s.slice(1) })));
    const sort = h("select", { id: "inbox-sort", onchange: (e: Event) => this.set(() => (this.sort = (e.target as HTMLSelectElement).value as Sort)) }, h("option", { value: "waiting", text: "Waiting longest" }), h("option", { value: "recent", text: "Most recent" }));
    this.list = h("ul", { class: "rows", "aria-label": "Conversations" });
    this.el = h(
      "nav",
      { class: "inbox", "aria-label": "Inbox" },
      h(
        "div",
        { class: "filters" },
        h("div", { class: "tabs", role: "group", "aria-label": "Assigned to" }, tab("me", "Mine"), tab("none", "Unassigned"), tab("all", "All")),
        h("div", { class: "field" }, h("label", { for: "inbox-status", text: "Status" }), status),
        h("div", { class: "field" }, h("label", { for: "inbox-sort", text: "Sort" }), sort),
      ),
      this.list,
    );
    this.ticker = setInterval(() => this.render(), 30000);
  }

  destroy(): void {
    clearInterval(this.ticker);
    clearTimeout(this.timer);
  }

  private setAssignee(value: Assignee | string): void {
    this.set(() => (this.assignee = value as Assignee));
  }

  private set(change: () => void): void {
    change();
    for (const b of this.tabs) b.setAttribute("aria-pressed", String(b.dataset.value === this.assignee));
    this.refresh();
  }

  /** Reads the list again; a failure is said in the list, and the next change retries. */
  refresh(): void {
    this.load().catch(() => {
      clear(this.list);
      this.list.appendChild(h("li", { class: "empty" }, h("span", { class: "error", role: "alert", text: "The inbox could not be loaded. It retries on the next change." })));
    });
  }

  /** Something changed in `chatId` (or anywhere, after a reconnect): read the list again soon. */
  changed(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), 250);
  }

  row(chatId: string): InboxRow | undefined {
    return this.rows.find((r) => r.id === chatId);
  }

  async load(): Promise<void> {
    const mine = ++this.loading;
    const query: Record<string, string | number> = { company_id: this.companyId, status: this.status, sort: this.sort, per_page: 50 };
    if (this.assignee !== "all") query.assignee = this.assignee;
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
    if (mine !== this.loading) return;
    this.rows = rows;
    this.render();
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
    const focused = document.activeElement instanceof HTMLElement ? document.activeElement.dataset.chatId : undefined;
    clear(this.list);
    if (!this.rows.length) {
      this.list.appendChild(h("li", { class: "empty", text: "No conversations here." }));
      return;
    }
    const current = this.host.current();
    for (const row of this.rows) {
      const name = (row.guest && row.guest.name) || row.name;
      const last = row.last_message;
      const preview = last ? (last.internal ? "Note by " : "") + (last.author.type === "staff" ? last.author.name + ": " : "") + last.preview : "No message yet";
      const assigned = row.assignee_id ? (row.assignee_id === this.host.userId() ? "Assigned to you" : "Assigned to " + (this.host.memberName(row.assignee_id) || "a teammate")) : "Unassigned";
      const button = h(
        "button",
        { type: "button", class: "row", "aria-current": row.id === current ? "true" : "false", onclick: () => this.host.open(row) },
        h(
          "span",
          { class: "line" },
          h("span", { class: "name", text: name }),
          row.waiting_since ? h("span", { class: "waiting", text: "waiting " + since(row.waiting_since) }) : null,
          row.unread_count ? h("span", { class: "unread", "aria-label": row.unread_count + " unread", text: row.unread_count >= 100 ? "99+" : String(row.unread_count) }) : null,
        ),
        row.guest && row.guest.email ? h("span", { class: "email", text: row.guest.email }) : null,
        h("span", { class: "preview", text: preview }),
        h("span", { class: "who", text: assigned }),
      );
      button.dataset.chatId = row.id;
      this.list.appendChild(h("li", null, button));
      if (focused === row.id) button.focus();
    }
  }
}
