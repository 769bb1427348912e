// Saying how an action went, in a line beside it (a role="status" or role="alert" element),
// never by throwing at the page: the console's panes, the visitor panel and the team page
// share these words.

import { ApiError } from "../core/api";

/** A failure in the operator's words: a 422's first field message, a 403 said plainly. */
export function explain(e: unknown): string {
  if (!(e instanceof ApiError)) return "The API did not answer. Try again.";
  if (e.status === 403) return "Your role does not allow this.";
  const errors = (e.body && e.body.errors) || {};
  const first = Object.keys(errors)[0];
  return first ? e.field(first) || e.message : e.message;
}

/** Runs `action`; what it answers (or why it failed) is said in `said`. */
export function attempt(said: HTMLElement, action: () => Promise<string | void>, why: (e: unknown) => string = explain): void {
  said.textContent = "";
  action().then(
    (text) => {
      if (text) said.textContent = text;
    },
    (e: unknown) => {
      said.textContent = why(e);
    },
  );
}
