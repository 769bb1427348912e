// Following a chat's event log: the socket's frames are hints, the log (`GET /events`) is
// the truth. Events are applied in seq order, exactly once. A frame that skips a seq sends
// the feed to the log, which fills the gap, in order. A guest's log has gaps of its own
// (notes and members-only events are left out): a gap is no loss when the log's page says
// it is caught up (`meta.last_seq`, the head of the whole log, with nothing more to read),
// so the feed moves on to that head instead of asking again.

import { Api, ApiError, Author, ChatEvent, Page } from "./api";

export interface FeedHost {
  /** One event, in seq order, once. */
  apply(event: ChatEvent): void;
  /** Someone is typing (ephemeral, never in the log). */
  typing(author: Author): void;
  /** The log no longer reaches back to our seq (409 reset): reload from scratch. */
  reset(): void;
  /** A failed read: true when it ended the session (the host handled it). */
  ended(err: unknown): boolean;
}

const RETRY_MS = 3000;

export class Feed {
  /** The newest seq applied (or known to hold nothing this reader may see). */
  lastSeq = 0;
  private catching = false;
  private again = false;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private generation = 0;

  constructor(
    private readonly api: Api,
    private readonly host: FeedHost,
  ) {}

  /** Start following after `seq` (what the loaded page holds). */
  start(seq: number): void {
    this.stop();
    this.lastSeq = seq;
  }

  stop(): void {
    this.generation++;
    clearTimeout(this.retry);
    this.catching = this.again = false;
  }

  get busy(): boolean {
    return this.catching;
  }

  /** A socket frame: typing, an event, or anything else (pong, error), ignored. */
  frame(data: Record<string, unknown>): void {
    if (data.type === "typing") {
      const author = data.author as Author | undefined;
      if (author && typeof author.id === "string") this.host.typing(author);
      else if (typeof data.chat_user_id === "string") this.host.typing({ type: "guest", id: data.chat_user_id });
      return;
    }
    if (typeof data.seq !== "number") return;
    const event = data as unknown as ChatEvent;
    if (event.seq <= this.lastSeq) return;
    if (event.seq > this.lastSeq + 1 || this.catching) {
      // A gap (or a catch-up under way): the log fills it, in order.
      void this.catchUp();
      return;
    }
    this.take(event);
  }

  private take(event: ChatEvent): void {
    this.lastSeq = Math.max(this.lastSeq, event.seq);
    this.host.apply(event);
  }

  /** Follows the log from the last seq applied, until it has nothing newer. */
  async catchUp(): Promise<void> {
    if (this.catching) {
      this.again = true;
      return;
    }
    this.catching = true;
    const generation = this.generation;
    clearTimeout(this.retry);
    try {
      do {
        this.again = false;
        for (;;) {
          const page = await this.api.call<Page<ChatEvent>>("GET", "/events", undefined, { after: this.lastSeq, per_page: 100 });
          if (generation !== this.generation) return;
          for (const e of page.data) if (e.seq > this.lastSeq) this.take(e);
          if (page.meta.has_more && page.data.length > 0) continue;
          // Caught up: what lies between our seq and the head is not ours to see.
          const head = page.meta.last_seq;
          if (typeof head === "number" && head > this.lastSeq) this.lastSeq = head;
          break;
        }
      } while (this.again);
    } catch (err) {
      if (generation !== this.generation) return;
      if (err instanceof ApiError && err.status === 409 && err.body && err.body.reset) {
        this.catching = false;
        this.host.reset();
        return;
      }
      if (this.host.ended(err)) return;
      // The socket may be fine while this call failed: try again.
      this.retry = setTimeout(() => void this.catchUp(), RETRY_MS);
    } finally {
      if (generation === this.generation) this.catching = false;
    }
  }
}
