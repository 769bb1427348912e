// What the widget keeps in the page's localStorage, per chat or company (or per
// data-storage-key):
// the chat-user token and profile, unsent messages, the composer's draft. A browser that
// refuses storage (privacy modes) gets a memory-only store: the widget still works for
// the life of the page.

import type { Staged } from "./api";

export interface Session {
  token: string;
  chatUserId: string;
  /** Company mode: the visitor's conversation. */
  chatId?: string;
  /** Company mode, identified visitors: the `sub` of the site's token it came from. */
  sub?: string;
}

export interface Profile {
  name: string;
  email: string;
}

export interface Outgoing {
  clientId: string;
  body: string;
  /** Files already uploaded, sent as the message's `attachment_ids`. */
  files?: Staged[];
}

export class Store {
  private memory: Record<string, string> = {};
  private readonly prefix: string;

  constructor(key: string) {
    this.prefix = "chat-widget:" + key + ":";
  }

  private get(name: string): string | null {
    try {
      return window.localStorage.getItem(this.prefix + name);
    } catch {
      return name in this.memory ? this.memory[name] : null;
    }
  }

  private set(name: string, value: string | null): void {
    try {
      if (value === null) window.localStorage.removeItem(this.prefix + name);
      else window.localStorage.setItem(this.prefix + name, value);
    } catch {
      if (value === null) delete this.memory[name];
      else this.memory[name] = value;
    }
  }

  private json<T>(name: string): T | null {
    const text = this.get(name);
    if (!text) return null;
    try {
      return JSON.parse(text) as T;
    } catch {
      return null;
    }
  }

  get session(): Session | null {
    const s = this.json<Session>("session");
    return s && typeof s.token === "string" && typeof s.chatUserId === "string" ? s : null;
  }
  set session(value: Session | null) {
    this.set("session", value ? JSON.stringify(value) : null);
  }

  get profile(): Profile | null {
    return this.json<Profile>("profile");
  }
  set profile(value: Profile | null) {
    this.set("profile", value ? JSON.stringify(value) : null);
  }

  get outbox(): Outgoing[] {
    const list = this.json<Outgoing[]>("outbox");
    return Array.isArray(list) ? list.filter((m) => m && typeof m.clientId === "string" && typeof m.body === "string" && (m.files === undefined || Array.isArray(m.files))) : [];
  }
  set outbox(value: Outgoing[]) {
    this.set("outbox", value.length ? JSON.stringify(value) : null);
  }

  get draft(): string {
    return this.get("draft") || "";
  }
  set draft(value: string) {
    this.set("draft", value ? value : null);
  }

  /** Sign out: the token, the profile, unsent messages and the draft. */
  forget(): void {
    for (const name of ["session", "profile", "outbox", "draft"]) this.set(name, null);
  }
}
