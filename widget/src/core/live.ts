// The live side: one WebSocket per widget, opened with a single-use ticket. The socket is
// a hint; the event log is the truth. Every (re)connect is followed by a catch-up from the
// last seq applied (the controller's job), so nothing is missed across reconnects.
//
// Reconnects back off exponentially with jitter (1 s doubling to 30 s, a random half of
// it); going offline closes the socket and waits for the `online` event. API Gateway
// closes a socket after 2 hours: a new one is opened after 100-110 minutes, before the old
// one is closed. A ping every 4 minutes keeps the socket under the 10-minute idle limit and
// finds a dead one (no answer in 15 s: reconnect).

export interface LiveHost {
  /** A fresh ticket URL, or null when none can be had now (the host handles why). */
  ticket(): Promise<string | null>;
  opened(): void;
  frame(data: Record<string, unknown>): void;
  status(state: "connecting" | "online" | "reconnecting" | "offline"): void;
}

const MAX_BACKOFF_MS = 30000;
const PING_EVERY_MS = 4 * 60 * 1000;
const PONG_WITHIN_MS = 15000;
const REFRESH_AFTER_MS = 100 * 60 * 1000;

export class Live {
  private ws: WebSocket | null = null;
  private retiring: WebSocket | null = null;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private pongTimer: ReturnType<typeof setTimeout> | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private connecting = false;

  constructor(private readonly host: LiveHost) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    void this.connect();
  }

  stop(): void {
    this.running = false;
    this.clearTimers();
    for (const ws of [this.ws, this.retiring]) if (ws) ws.close(1000);
    this.ws = this.retiring = null;
  }

  /** The browser is back online: reconnect now, without waiting for the back-off. */
  online(): void {
    if (!this.running) return;
    this.attempt = 0;
    clearTimeout(this.retryTimer);
    if (!this.ws) void this.connect();
  }

  /** The browser went offline: the socket is useless until it returns. */
  offline(): void {
    if (!this.running) return;
    clearTimeout(this.retryTimer);
    const ws = this.ws;
    this.ws = null;
    this.clearSocketTimers();
    if (ws) ws.close(1000);
    this.host.status("offline");
  }

  get open(): boolean {
    return !!this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  send(frame: Record<string, unknown>): void {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  private clearSocketTimers(): void {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    clearTimeout(this.refreshTimer);
  }

  private clearTimers(): void {
    clearTimeout(this.retryTimer);
    this.clearSocketTimers();
  }

  private async connect(): Promise<void> {
    if (!this.running || this.connecting) return;
    if (!navigator.onLine) {
      this.host.status("offline");
      return;
    }
    this.connecting = true;
    this.host.status(this.attempt ? "reconnecting" : "connecting");
    let url: string | null = null;
    try {
      url = await this.host.ticket();
    } finally {
      this.connecting = false;
    }
    if (!this.running) return;
    if (!url) {
      this.retry();
      return;
    }
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch {
      this.retry();
      return;
    }
    const previous = this.ws;
    this.ws = ws;
    if (previous && previous !== ws) this.retiring = previous;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.attempt = 0;
      if (this.retiring) {
        this.retiring.close(1000);
        this.retiring = null;
      }
      this.clearSocketTimers();
      this.pingTimer = setInterval(() => this.ping(), PING_EVERY_MS);
      this.refreshTimer = setTimeout(() => void this.connect(), REFRESH_AFTER_MS + Math.random() * 10 * 60 * 1000);
      this.host.status("online");
      this.host.opened();
    };
    ws.onmessage = (e: MessageEvent) => {
      if (ws === this.ws) clearTimeout(this.pongTimer);
      let data: unknown;
      try {
        data = JSON.parse(String(e.data));
      } catch {
        return;
      }
      if (data && typeof data === "object") this.host.frame(data as Record<string, unknown>);
    };
    ws.onclose = () => {
      if (ws === this.retiring) this.retiring = null;
      if (ws !== this.ws) return;
      this.ws = null;
      this.clearSocketTimers();
      this.retry();
    };
  }

  private ping(): void {
    this.send({ action: "ping" });
    clearTimeout(this.pongTimer);
    const ws = this.ws;
    this.pongTimer = setTimeout(() => {
      if (ws && ws === this.ws) ws.close(4000, "no pong");
    }, PONG_WITHIN_MS);
  }

  private retry(): void {
    if (!this.running) return;
    if (!navigator.onLine) {
      this.host.status("offline");
      return;
    }
    this.host.status("reconnecting");
    const ceiling = Math.min(MAX_BACKOFF_MS, 1000 * Math.pow(2, this.attempt));
    this.attempt = Math.min(this.attempt + 1, 10);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connect(), ceiling / 2 + (Math.random() * ceiling) / 2);
  }
}
