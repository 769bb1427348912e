// Messages on their way: sent in order, one at a time, each with its client_id, so a
// repeat of a send that did reach the API answers with the same message and none is
// stored twice. Offline, throttled or briefly down: wait (backing off), keep the order,
// try again. A message the API refuses for good stays, marked failed, until retried or
// discarded.

import { Api, ApiError, Message, NetworkError, Staged } from "./api";
import { Outgoing } from "./store";

/** A message waiting to be sent (or being sent). */
export interface Pending extends Outgoing {
  state: "sending" | "waiting" | "failed";
  error?: string;
  el?: HTMLLIElement;
  /** The message it became, seen in an event before the POST answered. */
  seenAs?: string;
}

export interface OutboxHost {
  /** Show `p` as it is now (its state changed). */
  render(p: Pending): void;
  /** `p` is gone (sent, or dropped). */
  drop(p: Pending): void;
  /** `p` was stored as `m`. */
  sent(p: Pending, m: Message): void;
  /** Keep what is left to send (the page may close). */
  save(items: Outgoing[]): void;
  /** A refusal: true when it ended the session (the host handled it). */
  ended(err: unknown): boolean;
  /** Whether sending makes sense now (a conversation is on screen). */
  ready(): boolean;
}

export function randomId(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  let out = "w-";
  for (const b of bytes) out += (b < 16 ? "0" : "") + b.toString(16);
  return out;
}

/** Whether `m` carries the files `p` sends (both none, or the same ids in order). */
function sameFiles(p: Pending, m: Message): boolean {
  const sent = (p.files || []).map((f) => f.id).join(",");
  return sent === (m.attachments || []).map((a) => a.id).join(",");
}

export class Outbox {
  items: Pending[] = [];
  private flushing = false;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private attempt = 0;
  private generation = 0;

  constructor(
    private readonly api: Api,
    private readonly host: OutboxHost,
  ) {}

  load(saved: Outgoing[]): void {
    this.items = saved.map((m) => ({ ...m, state: "waiting" as const }));
  }

  add(body: string, files: Staged[] = []): Pending {
    const item: Pending = { clientId: randomId(), body, state: "sending" };
    if (files.length) item.files = files;
    this.items.push(item);
    this.save();
    this.attempt = 0;
    return item;
  }

  save(): void {
    this.host.save(this.items.filter((p) => p.state !== "failed").map((p) => ({ clientId: p.clientId, body: p.body, files: p.files })));
  }

  remove(p: Pending): void {
    this.items = this.items.filter((x) => x !== p);
    this.save();
    this.host.drop(p);
  }

  /** Stop sending (the session ended); the items stay. */
  stop(): void {
    this.generation++;
    clearTimeout(this.retry);
    this.flushing = false;
  }

  /** Now, not after the back-off (the network is back, or the user asked). */
  now(): void {
    this.attempt = 0;
    void this.flush();
  }

  /** Our own message arrived (event, answer, or history while its send is in flight):
   *  the pending copy it was, if any, is claimed and returned. */
  claim(m: Message, live: boolean): Pending | null {
    const claimable = (x: Pending) => !x.seenAs && x.body === m.body && sameFiles(x, m) && (live ? x.state !== "failed" : x.state === "sending");
    const p = this.items.find((x) => x.seenAs === m.id) || this.items.find(claimable);
    if (!p) return null;
    p.seenAs = m.id;
    return p;
  }

  async flush(): Promise<void> {
    if (this.flushing || !this.api.token || !this.host.ready()) return;
    this.flushing = true;
    const generation = this.generation;
    clearTimeout(this.retry);
    try {
      for (;;) {
        const p = this.items.find((x) => x.state !== "failed");
        if (!p) break;
        if (!navigator.onLine) throw new NetworkError("offline");
        if (p.state !== "sending") {
          p.state = "sending";
          this.host.render(p);
        }
        try {
          const files = p.files && p.files.length ? { attachment_ids: p.files.map((f) => f.id) } : {};
          const answer = await this.api.call<{ data: Message }>("POST", "/messages", { body: p.body, client_id: p.clientId, ...files });
          if (generation !== this.generation) return;
          this.items = this.items.filter((x) => x !== p);
          this.save();
          this.host.sent(p, answer.data);
          this.attempt = 0;
        } catch (err) {
          if (generation !== this.generation) return;
          if (err instanceof ApiError && !err.transient) {
            if (err.status === 404 && !err.message.toLowerCase().includes("chat")) {
              // Sent before and deleted since: nothing left to send.
              this.remove(p);
              continue;
            }
            if (this.host.ended(err)) return;
            p.state = "failed";
            p.error = err.status === 422 ? err.field("body", "attachment_ids") || err.message : err.message;
            this.host.render(p);
            this.save();
            continue;
          }
          throw err;
        }
      }
    } catch (err) {
      if (generation !== this.generation) return;
      for (const p of this.items) {
        if (p.state === "sending") {
          p.state = "waiting";
          this.host.render(p);
        }
      }
      const retryAfter = err instanceof ApiError && err.retryAfter ? err.retryAfter * 1000 : 0;
      const ceiling = Math.min(30000, 1000 * Math.pow(2, this.attempt++));
      const delay = Math.max(retryAfter, ceiling / 2 + (Math.random() * ceiling) / 2);
      if (navigator.onLine || retryAfter) this.retry = setTimeout(() => void this.flush(), delay);
    } finally {
      if (generation === this.generation) this.flushing = false;
    }
  }
}
