// One message as the widget shows it: the author (staff with an initials badge), the
// time, the text with its links, and, on one's own messages, the edit and delete buttons.

import { Attachment, Message } from "./core/api";
import { fill, h, initials, linkify } from "./core/dom";
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

/** A size as people read it: 912 B, 38 KB, 4.2 MB. */
export function size(bytes: number): string {
  if (bytes < 1000) return bytes + " B";
  if (bytes < 1000000) return Math.round(bytes / 1000) + " KB";
  return (bytes / 1000000).toFixed(1) + " MB";
}

/** A message's files: raster images as previews that open the file, others as downloads
 *  (served as attachments with their exact type). Without a link yet (a live event
 *  carries none; the message is read for them), the name and size alone. */
export function files(list: Attachment[]): HTMLUListElement | null {
  if (!list.length) return null;
  return h(
    "ul",
    { class: "attachments" },
    ...list.map((a) => {
      const label = a.filename + " · " + size(a.size);
      const image = /^image\/(jpeg|png|gif|webp)$/.test(a.content_type);
      const view = !a.url
        ? h("span", { class: "file", text: label })
        : image
          ? h("a", { class: "image", href: a.url, target: "_blank", rel: "noopener noreferrer", title: label }, h("img", { src: a.thumbnail_url || a.url, alt: a.filename, loading: "lazy" }))
          : h("a", { class: "file", href: a.url, download: a.filename, rel: "noopener noreferrer", text: label });
      return h("li", null, view);
    }),
  );
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
