// The Chat API as a browser client uses it (the widget; the staff console later): JSON
// over fetch, with a token (a chat user's or a member's) as a Bearer header. Failures come
// back as one of two errors: ApiError (the API answered with a status) or NetworkError (it
// did not answer: offline, refused, timed out).

/** Who wrote a message or is typing: a guest (a chat user) or staff (a company member). */
export interface Author {
  type: "guest" | "staff";
  id: string;
  name?: string;
}

/** A file of a message (spec §10). `url` (a link of minutes) comes only with a message read
 *  over HTTP; live events carry the rest, and a client reads the message for links. */
export interface Attachment {
  id: string;
  filename: string;
  content_type: string;
  size: number;
  url?: string;
  expires_at?: string;
  thumbnail_url?: string;
}

/** An uploaded file, ready to be named by a message's `attachment_ids`. */
export type Staged = Pick<Attachment, "id" | "filename" | "content_type" | "size">;

export interface Message {
  id: string;
  seq: number;
  chat_id: string;
  /** null for staff. */
  chat_user_id: string | null;
  author?: Author;
  body: string;
  attachments?: Attachment[];
  created_at: string;
  updated_at: string;
  edited_at: string | null;
}

export interface ChatUser {
  id: string;
  chat_id: string;
  name: string;
  email?: string;
  last_read_seq: number;
  unread_count?: number;
  chat?: Chat;
}

export type ChatStatus = "open" | "pending" | "snoozed" | "resolved";

export interface Chat {
  id: string;
  name: string;
  last_seq: number;
  kind?: "room" | "conversation";
  status?: ChatStatus;
}

/** What `get-token` and `identify` answer: a chat-user token for one conversation. */
export interface Entry {
  token: string;
  chat_user: ChatUser;
  chat?: Chat;
}

/** A page of a list: `meta.last_seq` on event pages is the head of the whole log. */
export interface Page<T> {
  data: T[];
  meta: { has_more: boolean; last_seq?: number };
}

/** A company's `GET /api/companies/{id}/availability`. */
export interface Availability {
  company: { name: string };
  online: boolean;
  open_now: boolean;
  typically_replies_within_minutes: number | null;
}

export interface ChatEvent {
  seq: number;
  type: string;
  chat_id: string;
  at: string;
  // The shape depends on `type` (see asyncapi.yaml).
  data: Record<string, unknown>;
}

/** The API answered, with an error status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: { message?: string; errors?: Record<string, string[]>; reset?: boolean } | null,
    /** Seconds, from Retry-After (429, 503). */
    readonly retryAfter: number | null,
  ) {
    super((body && body.message) || "HTTP " + status);
  }

  /** The first message for `field` of a 422. */
  field(...names: string[]): string | undefined {
    const errors = (this.body && this.body.errors) || {};
    for (const name of names) {
      const list = errors[name];
      if (list && list.length) return list[0];
    }
    return undefined;
  }

  /** Worth trying again later as it is (throttled, or the service is briefly down). */
  get transient(): boolean {
    return this.status === 429 || this.status >= 500;
  }
}

/** The API did not answer at all. */
export class NetworkError extends Error {}

const TIMEOUT_MS = 20000;

export class Api {
  token: string | null = null;

  constructor(
    readonly base: string,
    /** The chat that relative paths are under (set once a conversation is known). */
    public chatId: string,
  ) {}

  /** `path` below `/api/chats/{chat_id}` (or absolute when it starts with `/api/`). */
  async call<T>(method: string, path: string, body?: unknown, query?: Record<string, string | number>): Promise<T> {
    let url = this.base + (path.indexOf("/api/") === 0 ? path : "/api/chats/" + this.chatId + path);
    if (query) {
      const params = Object.keys(query).map((k) => encodeURIComponent(k) + "=" + encodeURIComponent(String(query[k])));
      if (params.length) url += "?" + params.join("&");
    }
    const headers: Record<string, string> = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (this.token) headers.Authorization = "Bearer " + this.token;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
        credentials: "omit",
        signal: abort.signal,
      });
    } catch {
      throw new NetworkError("network");
    } finally {
      clearTimeout(timer);
    }
    let data: unknown = null;
    try {
      data = await response.json();
    } catch {
      // A gateway error without a JSON body: the status says enough.
    }
    if (!response.ok) {
      const retry = parseInt(response.headers.get("retry-after") || "", 10);
      throw new ApiError(response.status, data as ApiError["body"], isNaN(retry) ? null : retry);
    }
    return data as T;
  }
}
