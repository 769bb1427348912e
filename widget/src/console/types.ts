// The shapes the console reads, as openapi.yaml declares them: widget/generated/openapi.d.ts
// is what openapi-typescript makes of it (build-console.mjs --check fails when it is stale).

import type { components } from "../../generated/openapi";

type Schemas = components["schemas"];

export type Status = Schemas["ConversationStatus"];
/** An inbox row; a room (`kind: "room"`) is one with no visitor, status or unread count. */
export type InboxRow = Schemas["InboxRow"];
export type Chat = Schemas["Chat"];
/** A message as members read it (notes, `internal`, included). */
export type StaffMessage = Schemas["Message"];
export type Member = Schemas["Member"];
export type CompanyResource = Schemas["Company"];
export type Webhook = Schemas["Webhook"];

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
