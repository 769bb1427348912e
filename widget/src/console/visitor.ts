// The visitor panel beside a conversation: who wrote in (name, email, when the
// conversation started) and what the team may do for them with their data. The API has no
// page to link to for either: the transcript is emailed to the visitor's verified address
// (`POST /api/chats/{id}/users/{chat_user_id}/transcript`), and the personal-data export
// (`POST /api/companies/{id}/export-data {email}`, owner and admins) answers JSON, offered
// here as a file to download.

import { Api, ApiError } from "../core/api";
import { append, clear, h } from "../core/dom";
import { attempt, explain } from "./feedback";
import { when } from "./snooze";
import { InboxRow } from "./types";

export class VisitorPanel {
  readonly el: HTMLElement;
  private row: InboxRow | null = null;
  private download: string | null = null;

  constructor(private readonly api: Api) {
    this.el = h("aside", { class: "visitor", "aria-label": "Visitor" });
  }

  show(row: InboxRow): void {
    this.row = row;
    this.forgetDownload();
    clear(this.el);
    const guest = row.guest;
    this.el.hidden = !guest;
    if (!guest) return;
    const said = h("p", { class: "said", role: "status" });
    const fact = (term: string, value: string) => [h("dt", { text: term }), h("dd", { text: value })];
    append(this.el, [
      h("h3", { text: "Visitor" }),
      h("dl", null, ...fact("Name", guest.name), ...(guest.email ? fact("Email", guest.email) : []), ...(row.created_at ? fact("Started", when(row.created_at)) : [])),
      h("button", { type: "button", class: "btn quiet", text: "Email the transcript", onclick: () => this.act(said, () => this.transcript()) }),
      guest.email ? h("button", { type: "button", class: "btn quiet", text: "Export personal data", onclick: () => this.act(said, () => this.exportData(said)) }) : null,
      said,
    ]);
  }

  private act(said: HTMLElement, action: () => Promise<string | void>): void {
    attempt(said, action, (e) => (e instanceof ApiError && e.status === 409 ? "The visitor's email was never verified: no transcript can go to it." : explain(e)));
  }

  private async transcript(): Promise<string> {
    const row = this.row;
    if (!row || !row.guest) return "";
    await this.api.call("POST", "/api/chats/" + row.id + "/users/" + row.guest.id + "/transcript");
    return "The transcript is on its way to " + (row.guest.email || "the visitor") + ".";
  }

  private async exportData(said: HTMLElement): Promise<void> {
    const row = this.row;
    if (!row || !row.guest || !row.guest.email) return;
    const reply = await this.api.call<unknown>("POST", "/api/companies/" + row.company_id + "/export-data", { email: row.guest.email });
    if (this.row !== row) return;
    this.forgetDownload();
    this.download = URL.createObjectURL(new Blob([JSON.stringify(reply, null, 2)], { type: "application/json" }));
    said.textContent = "Ready: ";
    said.appendChild(h("a", { href: this.download, download: "personal-data-" + row.guest.id + ".json", text: "download the export (JSON)" }));
  }

  private forgetDownload(): void {
    if (this.download) URL.revokeObjectURL(this.download);
    this.download = null;
  }
}
