// Typing, both ways, for the open conversation. The team stream brings the visitor's
// typing notices (with `author.name`); they show for a few seconds, or until that person's
// message arrives. The operator's own notice can only go out on the chat's own socket
// (the team stream refuses typing frames), so one is opened, with the core's Live, while a
// conversation is open; a reply being written sends at most one notice every 2.5 seconds,
// a note never (the visitor must not learn of it).

import { Api, Author } from "../core/api";
import { Live } from "../core/live";

const SEND_EVERY_MS = 2500;
const SHOWN_MS = 5000;

export class Typing {
  private live: Live | null = null;
  private sentAt = 0;
  /** When the operator last typed while the socket was not open yet. */
  private typedAt = 0;
  private typers = new Map<string, { name: string; timer: ReturnType<typeof setTimeout> }>();

  constructor(
    private readonly api: Api,
    private readonly line: HTMLElement,
    private readonly me: () => string,
  ) {}

  /** A conversation opened (null: none is): its socket, and no one typing yet. */
  follow(chatId: string | null): void {
    if (this.live) this.live.stop();
    this.live = null;
    for (const id of Array.from(this.typers.keys())) this.stopped(id);
    if (!chatId) return;
    const live = new Live({
      ticket: async () => {
        try {
          return (await this.api.call<{ data: { url: string } }>("POST", "/api/chats/" + chatId + "/realtime-ticket")).data.url;
        } catch {
          return null;
        }
      },
      // A key pressed while the socket opened is said now.
      opened: () => {
        if (Date.now() - this.typedAt < SEND_EVERY_MS) this.send();
      },
      // Events come on the team stream: this socket is for sending.
      frame: () => undefined,
      status: () => undefined,
    });
    this.live = live;
    live.start();
  }

  online(): void {
    if (this.live) this.live.online();
  }

  offline(): void {
    if (this.live) this.live.offline();
  }

  /** The operator typed into a reply. */
  typed(): void {
    if (!this.live) return;
    if (!this.live.open) {
      this.typedAt = Date.now();
      return;
    }
    if (Date.now() - this.sentAt >= SEND_EVERY_MS) this.send();
  }

  private send(): void {
    if (!this.live) return;
    this.sentAt = Date.now();
    this.typedAt = 0;
    this.live.send({ action: "typing" });
  }

  /** A typing notice of the open chat (the operator's own, from another tab, is left out). */
  shown(author: Author): void {
    if (author.id === this.me()) return;
    const known = this.typers.get(author.id);
    if (known) clearTimeout(known.timer);
    const name = author.name || (author.type === "guest" ? "The visitor" : "A teammate");
    this.typers.set(author.id, { name, timer: setTimeout(() => this.stopped(author.id), SHOWN_MS) });
    this.render();
  }

  /** `id` wrote a message: it is no longer typing. */
  stopped(id: string): void {
    const known = this.typers.get(id);
    if (!known) return;
    clearTimeout(known.timer);
    this.typers.delete(id);
    this.render();
  }

  private render(): void {
    const names = Array.from(this.typers.values(), (t) => t.name);
    this.line.textContent = !names.length ? "" : names.length === 1 ? names[0] + " is typing…" : names.length === 2 ? names[0] + " and " + names[1] + " are typing…" : "Several people are typing…";
  }
}
