// Browser notifications: a visitor's new message in a conversation that is the operator's
// or nobody's raises one (when the browser allows it), unless the operator is looking at
// that very conversation. The newest seq seen of each chat is kept: after a reconnect,
// each chat the inbox shows ahead of it is read with `GET /events?after=`, so a message
// said while offline is told once, and none twice. Asking for the permission needs a click: the top bar offers a
// button while the browser has not been asked. The tab title's count is the inbox's.

import { Api, ChatEvent, Page } from "../core/api";
import { h } from "../core/dom";
import { InboxRow, StaffMessage } from "./types";

export interface NotifyHost {
  userId(): string;
  /** The chat as the inbox last read it, when it is in the list on screen. */
  row(chatId: string): InboxRow | undefined;
  /** The conversation on screen. */
  current(): string | null;
  open(chatId: string): void;
}

function supported(): boolean {
  return typeof window.Notification === "function";
}

export class Notifier {
  /** "Turn on notifications", while the browser has not been asked. */
  readonly button: HTMLButtonElement;
  private seen = new Map<string, number>();

  constructor(
    private readonly api: Api,
    private readonly host: NotifyHost,
  ) {
    this.button = h("button", {
      type: "button",
      class: "btn",
      text: "Turn on notifications",
      hidden: !supported() || Notification.permission !== "default",
      onclick: () => {
        void Notification.requestPermission().then(() => (this.button.hidden = Notification.permission !== "default"));
      },
    });
  }

  /** An event of the team stream (or of a chat's log, read after a reconnect). */
  event(e: ChatEvent): void {
    const seen = this.seen.get(e.chat_id) || 0;
    if (e.seq <= seen) return;
    this.seen.set(e.chat_id, e.seq);
    if (e.type !== "message.created" || !supported() || Notification.permission !== "granted") return;
    const m = e.data as unknown as StaffMessage;
    if (m.internal || !m.author || m.author.type !== "guest") return;
    if (this.host.current() === e.chat_id && document.visibilityState === "visible" && document.hasFocus()) return;
    void this.mineOrNobodys(e.chat_id).then((yes) => {
      if (yes) this.show(e.chat_id, (m.author && m.author.name) || "A visitor", m.body);
    });
  }

  /** After a reconnect: what each chat said meanwhile, from its log. */
  async resume(rows: InboxRow[]): Promise<void> {
    for (const row of rows) {
      const seen = this.seen.get(row.id);
      if (seen === undefined || row.last_seq <= seen) continue;
      let after = seen;
      for (let pages = 0; pages < 5; pages++) {
        const page: Page<ChatEvent> = await this.api.call<Page<ChatEvent>>("GET", "/api/chats/" + row.id + "/events", undefined, { after, per_page: 100 });
        for (const e of page.data) this.event(e);
        if (!page.meta.has_more || !page.data.length) break;
        after = page.data[page.data.length - 1].seq;
      }
    }
  }

  private async mineOrNobodys(chatId: string): Promise<boolean> {
    // The list on screen may leave the chat out (another filter): the chat then says.
    let row: Pick<InboxRow, "kind" | "assignee_id"> | undefined = this.host.row(chatId);
    if (!row) {
      try {
        row = (await this.api.call<{ data: InboxRow }>("GET", "/api/chats/" + chatId)).data;
      } catch {
        return false;
      }
    }
    return row.kind === "conversation" && (!row.assignee_id || row.assignee_id === this.host.userId());
  }

  private show(chatId: string, name: string, body: string): void {
    const note = new Notification(name, { body: body.length > 140 ? body.slice(0, 139) + "…" : body, tag: "chat-" + chatId });
    note.onclick = () => {
      window.focus();
      this.host.open(chatId);
      note.close();
    };
  }
}
