// The team page's company settings (owner and admins), each saved on its own with
// `PUT /api/companies/{id}`: the sites allowed to embed the widget, business hours,
// retention; and beside them the identity secret (made anew, shown once) and the webhooks
// (listed without their secrets; a new one's secret is shown once).

import { Api } from "../core/api";
import { clear, h } from "../core/dom";
import { attempt } from "./feedback";
import { CompanyResource, Webhook } from "./types";

type BusinessDay = NonNullable<CompanyResource["business_hours"]>["weekly"][number]["day"];

/** What the settings read and write of the company. */
export type CompanySettings = Pick<CompanyResource, "id" | "allowed_origins" | "retention_days" | "business_hours">;

const DAYS: [BusinessDay, string][] = [
  ["mon", "Monday"],
  ["tue", "Tuesday"],
  ["wed", "Wednesday"],
  ["thu", "Thursday"],
  ["fri", "Friday"],
  ["sat", "Saturday"],
  ["sun", "Sunday"],
];

/** A card: a title, its fields, a Save button (when `save` is given) and a status line. */
function card(id: string, title: string, hint: string, fields: Node[], save?: (said: HTMLElement) => void): { el: HTMLElement; said: HTMLElement } {
  const said = h("p", { class: "said", role: "status" });
  const body = save
    ? h("form", { onsubmit: (e: Event) => (e.preventDefault(), save(said)) }, ...fields, h("button", { type: "submit", class: "btn", text: "Save" }))
    : h("div", null, ...fields);
  return { el: h("section", { class: "card", "aria-labelledby": id }, h("h2", { id, text: title }), h("p", { class: "hint", text: hint }), body, said), said };
}

function field(id: string, label: string, input: HTMLElement): HTMLElement {
  return h("div", { class: "field" }, h("label", { for: id, text: label }), input);
}

export class CompanySettingsPage {
  readonly el: HTMLElement;
  private hooks: HTMLUListElement;

  constructor(
    private readonly api: Api,
    private readonly company: CompanySettings,
  ) {
    this.hooks = h("ul", { class: "hooks" });
    this.el = h("div", { class: "settings" }, this.sites(), this.hours(), this.retention(), this.secret(), this.webhooks());
  }

  private save(said: HTMLElement, update: Partial<CompanySettings>, done: string): void {
    attempt(said, async () => {
      await this.api.call("PUT", "/api/companies/" + this.company.id, update);
      Object.assign(this.company, update);
      return done;
    });
  }

  private sites(): HTMLElement {
    const box = h("textarea", { id: "allowed-origins", rows: 3, spellcheck: "false" });
    box.value = (this.company.allowed_origins || []).join("\n");
    return card("sites-title", "Sites", "The sites that embed the widget: one origin a line, https:// and the host (with its port, if any).", [field("allowed-origins", "Allowed sites", box)], (said) =>
      this.save(said, { allowed_origins: box.value.split(/\s+/).filter(Boolean) }, "Sites saved."),
    ).el;
  }

  private hours(): HTMLElement {
    const hours = this.company.business_hours;
    const always = h("input", { id: "hours-always", type: "checkbox", checked: !hours });
    const zone = h("input", { id: "hours-zone", type: "text", value: hours ? hours.time_zone : Intl.DateTimeFormat().resolvedOptions().timeZone });
    const days = DAYS.map(([day, name]) => {
      const set = hours && hours.weekly.find((w) => w.day === day);
      const open = h("input", { type: "checkbox", "aria-label": name + " open", checked: !!set });
      const from = h("input", { type: "time", "aria-label": name + " from", value: set ? set.from : "09:00" });
      const to = h("input", { type: "time", "aria-label": name + " to", value: set ? set.to : "17:00" });
      return { day, open, from, to, el: h("div", { class: "day" }, open, h("span", { class: "dayname", text: name.slice(0, 3), title: name }), from, h("span", { "aria-hidden": "true", text: "–" }), to) };
    });
    const week = h("fieldset", { class: "week" }, h("legend", { text: "Open on" }), ...days.map((d) => d.el));
    const show = () => (week.disabled = zone.disabled = always.checked);
    always.addEventListener("change", show);
    show();
    return card(
      "hours-title",
      "Business hours",
      "Outside them the widget says the team replies by email.",
      [h("div", { class: "line" }, always, h("label", { for: "hours-always", text: "Always open" })), field("hours-zone", "Time zone", zone), week],
      (said) =>
        this.save(
          said,
          { business_hours: always.checked ? null : { time_zone: zone.value.trim(), weekly: days.filter((d) => d.open.checked).map((d) => ({ day: d.day, from: d.from.value, to: d.to.value })) } },
          "Business hours saved.",
        ),
    ).el;
  }

  private retention(): HTMLElement {
    const days = h("input", { id: "retention-days", type: "number", min: 1, max: 3650, value: this.company.retention_days || "" });
    return card("retention-title", "Retention", "Days messages are kept from when they were sent; empty keeps them. A change applies to messages sent from then on.", [field("retention-days", "Keep messages for (days)", days)], (said) =>
      this.save(said, { retention_days: days.value ? parseInt(days.value, 10) : null }, "Retention saved."),
    ).el;
  }

  private secret(): HTMLElement {
    const shown = h("input", { id: "identity-secret", type: "text", readonly: true, hidden: true, "aria-label": "New identity secret" });
    const { el, said } = card("secret-title", "Identity secret", "Your site signs its logged-in visitors with it. A new one is shown once; the old one keeps working for 24 hours.", [shown]);
    el.appendChild(
      h("button", {
        type: "button",
        class: "btn",
        text: "Make a new secret",
        onclick: () =>
          attempt(said, async () => {
            const reply = await this.api.call<{ data: { secret: string } }>("POST", "/api/companies/" + this.company.id + "/identity-secret");
            shown.value = reply.data.secret;
            shown.hidden = false;
            shown.select();
            return "Copy it now: it is not shown again.";
          }),
      }),
    );
    return el;
  }

  private webhooks(): HTMLElement {
    const url = h("input", { id: "webhook-url", type: "url", required: true, placeholder: "https://" });
    const { el, said } = card("webhooks-title", "Webhooks", "Endpoints that receive the events of the company's chats.", [this.hooks]);
    el.appendChild(
      h(
        "form",
        {
          class: "line",
          onsubmit: (e: Event) => {
            e.preventDefault();
            attempt(said, async () => {
              const reply = await this.api.call<{ data: { secret: string } }>("POST", "/api/companies/" + this.company.id + "/webhooks", { url: url.value.trim() });
              url.value = "";
              await this.loadHooks(said);
              return "Added. Its signing secret, shown once: " + reply.data.secret;
            });
          },
        },
        field("webhook-url", "Endpoint URL", url),
        h("button", { type: "submit", class: "btn", text: "Add webhook" }),
      ),
    );
    void this.loadHooks(said).catch(() => (said.textContent = "The webhooks could not be read."));
    return el;
  }

  private async loadHooks(said: HTMLElement): Promise<void> {
    const hooks = (await this.api.call<{ data: Webhook[] }>("GET", "/api/companies/" + this.company.id + "/webhooks", undefined, { per_page: 20 })).data;
    clear(this.hooks);
    if (!hooks.length) this.hooks.appendChild(h("li", { text: "None yet." }));
    for (const hook of hooks) {
      const remove = h("button", {
        type: "button",
        class: "btn quiet",
        text: "Remove",
        "aria-label": "Remove " + hook.url,
        onclick: () =>
          attempt(said, async () => {
            await this.api.call("DELETE", "/api/companies/" + this.company.id + "/webhooks/" + hook.id);
            await this.loadHooks(said);
            return "Removed.";
          }),
      });
      this.hooks.appendChild(h("li", { class: "line" }, h("span", { class: "url", text: hook.url + (hook.enabled ? "" : " (off)") }), remove));
    }
  }
}
