// One message as the widget shows it: the author (staff with an initials badge), the
// time, the text with its links, and, on one's own messages, the edit and delete buttons.

import { Message } from "./core/api";
import { fill, h, initials, linkify } from "./core/dom";
import { files } from "./core/files";
import { Pending } from "./core/outbox";
import { Strings } from "./strings";

export interface Look {
  mine: boolean;
  staff: boolean;
  author: string;
}

export function time(iso: string, lang: string): { text: string; label: string } {
  const date = new Date(iso);
  if (isNaN(date.getTime())) return { text: "", label: "" };
  const today = new Date().toDateString() === date.toDateString();
  try {
    const text = new Intl.DateTimeFormat(lang, today ? { hour: "2-digit", minute: "2-digit" } : { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }).format(date);
    const label = new Intl.DateTimeFormat(lang, { dateStyle: "full", timeStyle: "short" }).format(date);
    return { text, label };
  } catch {
    return { text: date.toLocaleString(), label: date.toLocaleString() };
  }
}

/** The text of a message: links (http, https, mailto) as elements, the rest as text. */
export function bubble(body: string): HTMLDivElement {
  const el = h("div", { class: "bubble", dir: "auto" });
  for (const node of linkify(body)) el.appendChild(node);
  return el;
}

export function renderMessage(m: Message, look: Look, t: Strings, lang: string, actions: { edit(): void; remove(): void }): HTMLLIElement {
  const when = time(m.created_at, lang);
  const el = h(
    "li",
    { class: "msg" + (look.mine ? " mine" : "") + (look.staff ? " staff" : ""), "data-id": m.id },
    h(
      "div",
      { class: "meta" },
      look.staff ? h("span", { class: "avatar", "aria-hidden": "true", text: initials(look.author) }) : null,
      h("span", { class: "author", text: look.author }),
      look.staff ? h("span", { class: "role", text: t.staff }) : null,
      h("time", { datetime: m.created_at, title: when.label, text: when.text }),
      m.edited_at ? h("span", { class: "edited", text: "· " + t.edited }) : null,
    ),
    m.body || !(m.attachments && m.attachments.length) ? bubble(m.body) : null,
    files(m.attachments || []),
  );
  if (look.mine) {
    el.appendChild(
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", text: t.edit, "aria-label": t.editLabel, onclick: actions.edit }),
        h("button", { type: "button", text: t.delete, "aria-label": t.deleteLabel, onclick: actions.remove }),
      ),
    );
  }
  return el;
}

export function renderPending(p: Pending, t: Strings, actions: { retry(): void; discard(): void }): HTMLLIElement {
  const statusText = p.state === "failed" ? fill(t.failed, { error: p.error || "" }) : p.state === "waiting" ? t.waiting : t.sending;
  const el = h(
    "li",
    { class: "msg mine", "data-state": p.state, "data-client-id": p.clientId },
    p.body || !p.files ? h("div", { class: "bubble", dir: "auto", text: p.body }) : null,
    files(p.files || []),
    h("span", { class: "msg-status" + (p.state === "failed" ? " bad" : ""), role: p.state === "failed" ? "alert" : null, text: statusText }),
  );
  if (p.state === "failed") {
    el.appendChild(
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", text: t.retry, onclick: actions.retry }),
        h("button", { type: "button", text: t.discard, onclick: actions.discard }),
      ),
    );
  }
  return el;
}
