// The shapes of openapi.yaml the console reads (InboxRow, Message with `internal`).

import type { Message } from "../core/api";

export type Status = "open" | "pending" | "snoozed" | "resolved";

export interface InboxRow {
  id: string;
  company_id: string;
  kind: "room" | "conversation";
  name: string;
  status: Status;
  assignee_id?: string;
  waiting_since?: string;
  last_seq: number;
  created_at?: string;
  guest: { id: string; name: string; email?: string } | null;
  last_message: { author: { id: string; name: string; type: "guest" | "staff" }; preview: string; created_at: string; internal?: boolean } | null;
  unread_count: number;
}

export interface StaffMessage extends Message {
  internal?: boolean;
}

/** "3 min", "2 h", "4 d": how long since `iso`. */
export function since(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return "under a minute";
  const m = Math.floor(s / 60);
  if (m < 60) return m + " min";
  const hours = Math.floor(m / 60);
  if (hours < 48) return hours + " h";
  return Math.floor(hours / 24) + " d";
}
