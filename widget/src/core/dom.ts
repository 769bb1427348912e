// DOM building without innerHTML: every text goes through textContent or an attribute.
// Shared by the widget and the staff console (with api, live, feed and store: the core).

type Child = Node | string | null | undefined | false;
type Props = Record<string, unknown>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Props | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props) {
    for (const key of Object.keys(props)) {
      const value = props[key];
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") el.className = String(value);
      else if (key === "text") el.textContent = String(value);
      else if (key.slice(0, 2) === "on" && typeof value === "function") el.addEventListener(key.slice(2), value as EventListener);
      else if (key === "value") (el as HTMLInputElement).value = String(value);
      else el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
}

export function clear(el: Node): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

const SVG = "http://www.w3.org/2000/svg";

/** A 24x24 stroke icon from path data (decorative: hidden from assistive technology). */
export function icon(paths: string[]): SVGSVGElement {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  for (const d of paths) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    svg.appendChild(path);
  }
  return svg;
}

/** `{name}` placeholders filled in (values are text, never markup). */
export function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (all, key: string) => (key in values ? String(values[key]) : all));
}

// A link in a message: http(s) or mailto only, up to white space; trailing punctuation
// belongs to the sentence, not the link.
const LINK = /\b(?:https?:\/\/|mailto:)[^\s<>"]+/gi;
const TRAILING = /[.,;:!?'"’)\]}>]+$/;

/** Message text as nodes: text, with http(s) and mailto links as <a> elements (built as
 *  nodes, never parsed as HTML); anything else, `javascript:` included, stays text. */
export function linkify(text: string): Node[] {
  const out: Node[] = [];
  let last = 0;
  for (const match of text.matchAll(LINK)) {
    let raw = match[0];
    const start = match.index || 0;
    // A closing parenthesis stays when the link opened one: (see https://x.example/a_(b)).
    let trail = (raw.match(TRAILING) || [""])[0];
    while (trail.startsWith(")") && count(raw.slice(0, raw.length - trail.length), "(") > count(raw.slice(0, raw.length - trail.length), ")")) trail = trail.slice(1);
    raw = raw.slice(0, raw.length - trail.length);
    let url: URL | null = null;
    try {
      url = new URL(raw);
    } catch {
      url = null;
    }
    if (!url || !/^(https?|mailto):$/.test(url.protocol) || raw.length < 8) continue;
    if (start > last) out.push(document.createTextNode(text.slice(last, start)));
    out.push(h("a", { href: url.href, target: "_blank", rel: "noopener noreferrer nofollow", text: raw }));
    last = start + raw.length;
  }
  if (last < text.length) out.push(document.createTextNode(text.slice(last)));
  return out;
}

function count(text: string, char: string): number {
  return text.split(char).length - 1;
}

/** Up to two initials of a name, for an avatar ("Ann Lee" -> "AL"). */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const first = (w: string) => Array.from(w)[0] || "";
  const letters = words.length > 1 ? first(words[0]) + first(words[words.length - 1]) : Array.from(words[0] || "?").slice(0, 2).join("");
  return letters.toUpperCase();
}
