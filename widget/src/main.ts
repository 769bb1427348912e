// Entry point: reads the settings from the <script> tag that loaded this file and starts
// one widget. The API is the script's own origin.
//
//   <script src="https://<api>/widget.js" data-chat-id="01J..." async></script>

import { strings } from "./strings";
import { Settings, Widget } from "./widget";

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const RTL = /^(ar|arc|ckb|dv|fa|he|iw|ku|ps|sd|ug|ur|yi)(-|$)/i;

function scriptTag(): HTMLScriptElement | null {
  const current = document.currentScript;
  if (current instanceof HTMLScriptElement) return current;
  // Defensive: a loader that runs the file without a current script.
  const all = document.querySelectorAll<HTMLScriptElement>("script[data-chat-id]:not([data-chat-widget-started])");
  return all.length ? all[all.length - 1] : null;
}

function settings(script: HTMLScriptElement): Settings | null {
  const d = script.dataset;
  const chatId = (d.chatId || "").trim().toUpperCase();
  if (!ULID.test(chatId)) {
    console.error("chat widget: data-chat-id must be a chat id (a 26-character ULID)");
    return null;
  }
  const lang = d.lang || document.documentElement.lang || navigator.language || "en";
  return {
    base: new URL(script.src, location.href).origin,
    chatId,
    title: d.title || null,
    accent: d.accent || null,
    position: d.position === "left" || d.position === "bottom-left" ? "left" : "right",
    open: d.open === "true",
    lang,
    dir: d.dir === "rtl" || d.dir === "ltr" ? d.dir : RTL.test(lang) ? "rtl" : "ltr",
    password: d.chatPassword !== undefined ? d.chatPassword : null,
    storageKey: d.storageKey || chatId,
    strings: strings(d.strings),
  };
}

function start(): void {
  const script = scriptTag();
  if (!script) return;
  script.setAttribute("data-chat-widget-started", "");
  const s = settings(script);
  if (!s) return;
  const run = () => new Widget(s);
  if (document.body) run();
  else document.addEventListener("DOMContentLoaded", run, { once: true });
}

start();
