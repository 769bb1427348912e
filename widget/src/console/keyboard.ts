// The console's keys: j / k move through the inbox, Enter opens the chosen conversation,
// r and n start a reply or a note, e resolves. A key typed into a field is text, never a
// command, and a key with Ctrl, Alt or Meta belongs to the browser.

export interface KeyActions {
  next(): void;
  previous(): void;
  open(): void;
  reply(): void;
  note(): void;
  resolve(): void;
}

/** The keys, for a hint on screen and `aria-keyshortcuts`. */
export const KEYS = { next: "j", previous: "k", open: "Enter", reply: "r", note: "n", resolve: "e" } as const;

function typingInField(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
}

/** Listens on `doc` until the returned function is called. */
export function bindKeys(doc: Document, actions: KeyActions): () => void {
  const listener = (e: KeyboardEvent) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || typingInField(e.target)) return;
    // Enter on a button is that button's click: only Enter elsewhere opens the chosen row.
    if (e.key === KEYS.open && e.target instanceof HTMLButtonElement) return;
    const action: (() => void) | undefined = {
      [KEYS.next]: actions.next,
      [KEYS.previous]: actions.previous,
      [KEYS.open]: actions.open,
      [KEYS.reply]: actions.reply,
      [KEYS.note]: actions.note,
      [KEYS.resolve]: actions.resolve,
    }[e.key];
    if (!action) return;
    e.preventDefault();
    action();
  };
  doc.addEventListener("keydown", listener);
  return () => doc.removeEventListener("keydown", listener);
}
