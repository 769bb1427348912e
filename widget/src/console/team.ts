// The team page's members (owner and admins): who is in the company or invited, with their
// role and what they see; invite by email, change a role or `sees`, remove. The API decides
// what each role may change (an admin manages agents, only the owner admins): a refusal is
// said beside the list. Removing asks once more on the same button, never in a dialog.

import { Api } from "../core/api";
import { append, clear, h } from "../core/dom";
import { attempt } from "./feedback";
import { Member } from "./types";

const ROLES: Member["role"][] = ["agent", "admin"];
const SEES: [Member["sees"], string][] = [
  ["all", "All conversations"],
  ["assigned", "Assigned to them only"],
];

function choice<T extends string>(label: string, value: T, options: [T, string][], change: (value: T) => void): HTMLSelectElement {
  return h(
    "select",
    { "aria-label": label, onchange: (e: Event) => change((e.target as HTMLSelectElement).value as T) },
    ...options.map(([v, text]) => h("option", { value: v, text, selected: v === value })),
  );
}

export class Members {
  readonly el: HTMLElement;
  private list: HTMLTableSectionElement;
  private said: HTMLElement;
  /** The member whose Remove was clicked once (the list may be read again meanwhile). */
  private confirming: string | null = null;

  constructor(
    private readonly api: Api,
    private readonly companyId: string,
    private readonly me: string,
  ) {
    this.list = h("tbody");
    this.said = h("p", { class: "said", role: "status" });
    const email = h("input", { id: "invite-email", type: "email", required: true, autocomplete: "off" });
    const role = h("select", { id: "invite-role" }, ...ROLES.map((r) => h("option", { value: r, text: r[0].toUpperCase() + r.slice(1) })));
    const sees = h("select", { id: "invite-sees" }, ...SEES.map(([v, text]) => h("option", { value: v, text })));
    const invite = h(
      "form",
      {
        class: "line",
        "aria-label": "Invite a teammate",
        onsubmit: (e: Event) => {
          e.preventDefault();
          this.act(async () => {
            await this.api.call("POST", this.path(), { email: email.value.trim(), role: role.value, sees: sees.value });
            const invited = email.value.trim();
            email.value = "";
            await this.load();
            return "Invitation sent to " + invited + ".";
          });
        },
      },
      h("div", { class: "field" }, h("label", { for: "invite-email", text: "Email" }), email),
      h("div", { class: "field" }, h("label", { for: "invite-role", text: "Role" }), role),
      h("div", { class: "field" }, h("label", { for: "invite-sees", text: "Sees" }), sees),
      h("button", { type: "submit", class: "btn", text: "Invite" }),
    );
    this.el = h(
      "section",
      { class: "card", "aria-labelledby": "members-title" },
      h("h2", { id: "members-title", text: "Members" }),
      h("table", { class: "members" }, h("thead", null, h("tr", null, ...["Name", "Email", "Role", "Sees", "Status", ""].map((t) => h("th", { scope: "col", text: t })))), this.list),
      this.said,
      h("h3", { text: "Invite a teammate" }),
      invite,
    );
  }

  private path(id?: string): string {
    return "/api/companies/" + this.companyId + "/members" + (id ? "/" + encodeURIComponent(id) : "");
  }

  private act(action: () => Promise<string | void>): void {
    attempt(this.said, action);
  }

  async load(): Promise<void> {
    const members = (await this.api.call<{ data: Member[] }>("GET", this.path(), undefined, { per_page: 100 })).data;
    clear(this.list);
    for (const m of members) this.list.appendChild(this.row(m));
  }

  private change(m: Member, update: Partial<Pick<Member, "role" | "sees">>): void {
    this.act(async () => {
      await this.api.call("PUT", this.path(m.id), update);
      await this.load();
      return "Saved: " + (m.name || m.email) + ".";
    });
  }

  private row(m: Member): HTMLTableRowElement {
    const who = m.name || m.email;
    const owner = m.role === "owner";
    const asking = this.confirming === m.id;
    const remove = h("button", { type: "button", class: "btn quiet", text: asking ? "Confirm removal" : m.user_id === this.me ? "Leave" : "Remove", "aria-label": "Remove " + who });
    remove.addEventListener("click", () => {
      // The first click asks; the second removes.
      if (this.confirming !== m.id) {
        this.confirming = m.id;
        remove.textContent = "Confirm removal";
        return;
      }
      this.confirming = null;
      this.act(async () => {
        await this.api.call("DELETE", this.path(m.id));
        await this.load();
        return who + " was removed.";
      });
    });
    const tr = h("tr");
    append(tr, [
      h("td", { text: m.name || "—" }),
      h("td", { text: m.email }),
      h("td", null, owner ? "Owner" : choice("Role of " + who, m.role, ROLES.map((r) => [r, r[0].toUpperCase() + r.slice(1)] as [Member["role"], string]), (role) => this.change(m, { role }))),
      h("td", null, owner ? "All conversations" : choice("What " + who + " sees", m.sees, SEES, (sees) => this.change(m, { sees }))),
      h("td", { text: m.status === "invited" ? "Invited" : "Active" }),
      h("td", null, owner ? null : remove),
    ]);
    tr.dataset.memberId = m.id;
    return tr;
  }
}
