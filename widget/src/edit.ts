// Editing and deleting one's own message, in place: the bubble becomes a form (Enter
// saves, Escape cancels); a deletion asks first.

import { Api, ApiError, Message } from "./core/api";
import { h } from "./core/dom";
import { Strings } from "./strings";

export const MAX_LENGTH = 5000;

export interface EditHost {
  readonly t: Strings;
  readonly api: Api;
  readonly messages: Map<string, Message>;
  readonly elements: Map<string, HTMLLIElement>;
  render(m: Message): HTMLLIElement;
  remove(id: string): void;
  ended(err: unknown): boolean;
  errorText(err: unknown): string;
}

export function startEdit(c: EditHost, id: string): void {
  const m = c.messages.get(id);
  const el = c.elements.get(id);
  if (!m || !el) return;
  const t = c.t;
  const area = h("textarea", { rows: 3, maxlength: MAX_LENGTH, dir: "auto", "aria-label": t.editLabel, value: m.body });
  const error = h("p", { class: "error", role: "alert" });
  const restore = () => {
    const current = c.messages.get(id);
    if (!current) return;
    const fresh = c.render(current);
    el.replaceWith(fresh);
    c.elements.set(id, fresh);
    const edit = fresh.querySelector<HTMLButtonElement>(".actions button");
    if (edit) edit.focus();
  };
  const save = async () => {
    const body = area.value;
    if (!body.trim()) return;
    if (body === m.body) return restore();
    error.textContent = "";
    try {
      const answer = await c.api.call<{ data: Message }>("PUT", "/messages/" + id, { body });
      c.messages.set(id, answer.data);
      restore();
    } catch (err) {
      if (c.ended(err)) return;
      if (err instanceof ApiError && err.status === 404) return c.remove(id);
      error.textContent = err instanceof ApiError && err.status === 422 ? err.field("body") || err.message : c.errorText(err);
    }
  };
  area.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      restore();
    } else if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      void save();
    }
  });
  const form = h(
    "div",
    { class: "edit" },
    area,
    error,
    h("div", { class: "row" }, h("button", { class: "primary", type: "button", text: t.save, onclick: () => void save() }), h("button", { class: "secondary", type: "button", text: t.cancel, onclick: restore })),
  );
  const bubble = el.querySelector(".bubble");
  const actions = el.querySelector(".actions");
  if (bubble) bubble.replaceWith(form);
  if (actions) actions.remove();
  area.focus();
  area.setSelectionRange(area.value.length, area.value.length);
}

export function confirmDelete(c: EditHost, id: string): void {
  const el = c.elements.get(id);
  const actions = el && el.querySelector(".actions");
  if (!el || !actions) return;
  const t = c.t;
  const error = h("p", { class: "error", role: "alert" });
  const no = h("button", { type: "button", text: t.cancel });
  const yes = h("button", { type: "button", text: t.delete });
  const ask = h("div", { class: "actions", role: "group", "aria-label": t.confirmDelete }, h("span", { class: "msg-status", text: t.confirmDelete }), yes, no, error);
  no.addEventListener("click", () => {
    ask.replaceWith(actions);
    (actions.lastElementChild as HTMLElement).focus();
  });
  yes.addEventListener("click", async () => {
    try {
      await c.api.call("DELETE", "/messages/" + id);
      c.remove(id);
    } catch (err) {
      if (c.ended(err)) return;
      if (err instanceof ApiError && err.status === 404) return c.remove(id);
      error.textContent = c.errorText(err);
    }
  });
  actions.replaceWith(ask);
  yes.focus();
}
