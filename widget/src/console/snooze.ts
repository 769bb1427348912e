// Snoozing a conversation: a small form under the conversation's header that picks when
// it comes back (`POST /api/chats/{id}/status {status: "snoozed", snoozed_until}`): in an
// hour, tomorrow at 9:00, next Monday at 9:00, or a date and time of the operator's own.
// Times are the operator's local time; the API is sent UTC.

import { h } from "../core/dom";

export type SnoozeChoice = "hour" | "tomorrow" | "monday" | "custom";

const CHOICES: [SnoozeChoice, string][] = [
  ["hour", "For 1 hour"],
  ["tomorrow", "Until tomorrow 9:00"],
  ["monday", "Until Monday 9:00"],
  ["custom", "Until a date and time…"],
];

/** The API's limit: a snooze ends within a year. */
const LONGEST_MS = 365 * 24 * 3600 * 1000;

/** When a choice ends, from `now`; `custom` is the datetime-local value. Null when the
 *  custom value is empty, unreadable, not in the future or more than a year ahead. */
export function snoozeEnd(choice: SnoozeChoice, now: Date, custom = ""): Date | null {
  if (choice === "hour") return new Date(now.getTime() + 3600 * 1000);
  if (choice === "custom") {
    const at = custom ? new Date(custom) : null;
    return at && !isNaN(at.getTime()) && at.getTime() > now.getTime() && at.getTime() - now.getTime() <= LONGEST_MS ? at : null;
  }
  const at = new Date(now);
  at.setHours(9, 0, 0, 0);
  // Tomorrow; or the next Monday (a week ahead when today is Monday).
  const days = choice === "tomorrow" ? 1 : ((8 - now.getDay()) % 7) || 7;
  at.setDate(at.getDate() + days);
  return at;
}

/** "Sat 5 Dec, 09:00", in the operator's locale. */
export function when(iso: string): string {
  return new Date(iso).toLocaleString([], { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}

export interface SnoozeForm {
  el: HTMLFormElement;
  /** The header's "Snooze…" button, which shows and hides the form. */
  toggle: HTMLButtonElement;
  close(): void;
}

/** The form; `snooze` is called with the chosen end, and the form hides itself. */
export function snoozeForm(snooze: (until: Date) => void, say: (problem: string) => void): SnoozeForm {
  const choice = h("select", { id: "snooze-choice" }, ...CHOICES.map(([value, label]) => h("option", { value, text: label })));
  const custom = h("input", { id: "snooze-at", type: "datetime-local", "aria-label": "Snooze until (date and time)", hidden: true });
  const el = h(
    "form",
    {
      class: "snooze line",
      hidden: true,
      "aria-label": "Snooze the conversation",
      onsubmit: (e: Event) => {
        e.preventDefault();
        const until = snoozeEnd(choice.value as SnoozeChoice, new Date(), custom.value);
        if (!until) return say("Choose a date and time in the future, within a year.");
        show(false);
        snooze(until);
      },
    },
    h("label", { for: "snooze-choice", text: "Snooze" }),
    choice,
    custom,
    h("button", { type: "submit", class: "btn", text: "Snooze" }),
    h("button", { type: "button", class: "btn quiet", text: "Cancel", onclick: () => show(false) }),
  );
  choice.addEventListener("change", () => {
    custom.hidden = choice.value !== "custom";
    if (!custom.hidden) custom.focus();
  });
  const toggle = h("button", { type: "button", class: "btn quiet", "aria-expanded": "false", text: "Snooze…", onclick: () => show(el.hidden) });
  function show(open: boolean): void {
    el.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    if (open) choice.focus();
  }
  return { el, toggle, close: () => show(false) };
}
