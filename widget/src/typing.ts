// Who is typing, shown under the messages: each notice lasts a few seconds unless renewed,
// and a message from its author ends it at once.

import { fill, h } from "./core/dom";
import { Strings } from "./strings";

const TYPING_SHOWN_MS = 5000;

export class Typers {
  readonly line = h("div", { class: "typing" });
  private typers = new Map<string, { timer: ReturnType<typeof setTimeout>; name: string }>();

  constructor(private readonly t: Strings) {}

  /** `id` (shown as `name`) is typing. */
  start(id: string, name: string): void {
    const known = this.typers.get(id);
    if (known) clearTimeout(known.timer);
    this.typers.set(id, { name, timer: setTimeout(() => this.stop(id), TYPING_SHOWN_MS) });
    this.show();
  }

  stop(id: string): void {
    const known = this.typers.get(id);
    if (!known) return;
    clearTimeout(known.timer);
    this.typers.delete(id);
    this.show();
  }

  clear(): void {
    for (const x of this.typers.values()) clearTimeout(x.timer);
    this.typers.clear();
  }

  private show(): void {
    const names = Array.from(this.typers.values()).map((x) => x.name);
    const t = this.t;
    this.line.textContent = !names.length ? "" : names.length === 1 ? fill(t.typingOne, { a: names[0] }) : names.length === 2 ? fill(t.typingTwo, { a: names[0], b: names[1] }) : t.typingMany;
  }
}
