// Entry point: reads the settings from the <script> tag that loaded this file and starts
// one widget. The API is the script's own origin.
//
//   <script src="https://<api>/widget.js" data-company-id="01J..." async></script>
//     company mode: each visitor its own conversation with the company's team
//     (data-user-token: the site's signed token for a visitor logged in there)
//   <script src="https://<api>/widget.js" data-chat-id="01J..." async></script>
//     room mode: one shared chat

import { strings } from "./strings";
import { Settings, Widget } from "./widget";

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const RTL = /^(ar|arc|ckb|dv|fa|he|iw|ku|ps|sd|ug|ur|yi)(-|$)/i;

function scriptTag(): HTMLScriptElement | null {
  const current = document.currentScript;
  if (current instanceof HTMLScriptElement) return current;
  // Defensive: a loader that runs the file without a current script.
  const all = document.querySelectorAll<HTMLScriptElement>("script[data-chat-id]:not([data-chat-widget-started]), script[data-company-id]:not([data-chat-widget-started])");
  return all.length ? all[all.length - 1] : null;
}

function settings(script: HTMLScriptElement): Settings | null {
  const d = script.dataset;
  const companyId = (d.companyId || "").trim().toUpperCase();
  const chatId = companyId ? "" : (d.chatId || "").trim().toUpperCase();
  if (!ULID.test(companyId || chatId)) {
    console.error("chat widget: data-company-id (or data-chat-id) must be an id (a 26-character ULID)");
    return null;
  }
  const lang = d.lang || document.documentElement.lang || navigator.language || "en";
  return {
    base: new URL(script.src, location.href).origin,
    mode: companyId ? "company" : "room",
    chatId,
    companyId,
    userToken: companyId && d.userToken ? d.userToken.trim() : null,
    title: d.title || null,
    accent: d.accent || null,
    position: d.position === "left" || d.position === "bottom-left" ? "left" : "right",
    open: d.open === "true",
    lang,
    dir: d.dir === "rtl" || d.dir === "ltr" ? d.dir : RTL.test(lang) ? "rtl" : "ltr",
    password: d.chatPassword !== undefined ? d.chatPassword : null,
    storageKey: d.storageKey || (companyId ? "company-" + companyId : chatId),
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
