// The widget's ways in: the join form (a room: name, email and the chat's password when
// the page does not give it; a company: name and email, no password), and the form for the
// emailed code. Each field's error sits outside its label, tied to it by aria-describedby.

import { Api, ApiError, Entry } from "./core/api";
import { fill, h } from "./core/dom";
import { Store } from "./core/store";
import { Strings } from "./strings";
import type { Settings } from "./settings";

export interface JoinHost {
  readonly t: Strings;
  readonly s: Settings;
  readonly api: Api;
  readonly store: Store;
  setScreen(content: HTMLElement): void;
  errorText(err: unknown): string;
  /** Company mode: nobody answers now (offline or outside business hours). */
  away(): boolean;
  /** A verified code's answer: keep the session and open the conversation. */
  entered(entry: Entry): Promise<void>;
}

const RESEND_AFTER_S = 60;

/** A labelled input with its hint and its error below it (not inside the label). */
function field(label: string, input: HTMLInputElement, hint?: string) {
  const msg = h("p", { class: "error", id: input.id + "-error" });
  input.setAttribute("aria-describedby", msg.id + (hint ? " " + input.id + "-hint" : ""));
  const el = h("div", { class: "field" }, h("label", { for: input.id, text: label }), input, hint ? h("span", { class: "hint", id: input.id + "-hint", text: hint }) : null, msg);
  return { el, msg };
}

function invalid(input: HTMLInputElement, msg: HTMLElement, text: string | undefined): boolean {
  msg.textContent = text || "";
  input.setAttribute("aria-invalid", text ? "true" : "false");
  return !!text;
}

/** Where a company's codes are asked for and exchanged. */
function companyPath(s: Settings, what: string): string {
  return "/api/companies/" + s.companyId + "/conversations/" + what;
}

export function showJoin(host: JoinHost, notice?: string): void {
  const { t, s, store } = host;
  const company = s.mode === "company";
  const away = company && host.away();
  const profile = store.profile;
  const error = h("p", { class: "error", role: "alert" });
  const name = h("input", { id: "join-name", name: "name", autocomplete: "name", required: true, maxlength: 255, dir: "auto", value: profile ? profile.name : "" });
  const email = h("input", { id: "join-email", name: "email", type: "email", autocomplete: "email", required: true, maxlength: 254, value: profile ? profile.email : "" });
  const password = h("input", { id: "join-password", name: "password", type: "password", autocomplete: "off" });
  // Away: the email first, since that is where the answer will go.
  (away ? email : name).setAttribute("data-autofocus", "");
  const fName = field(t.name, name);
  const fEmail = field(t.email, email);
  const fPassword = field(t.password, password, t.passwordHint);
  const button = h("button", { class: "primary", type: "submit", text: t.sendCode });
  const form = h(
    "form",
    { class: "card", novalidate: true, "data-away": away ? "true" : null },
    notice ? h("p", { class: "notice", role: "status", text: notice }) : null,
    h("p", { class: "note", text: company ? (away ? t.awayIntro : t.companyIntro) : t.joinIntro }),
    away ? fEmail.el : fName.el,
    away ? fName.el : fEmail.el,
    !company && s.password === null ? fPassword.el : null,
    error,
    button,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    const values = { name: name.value.trim(), email: email.value.trim() };
    const bad = [invalid(name, fName.msg, values.name ? undefined : t.required), invalid(email, fEmail.msg, values.email ? undefined : t.required)];
    invalid(password, fPassword.msg, undefined);
    if (bad[0] || bad[1]) {
      const first = away ? (bad[1] ? email : name) : bad[0] ? name : email;
      first.focus();
      return;
    }
    const body: Record<string, string> = { ...values };
    const pw = s.password !== null ? s.password : password.value;
    if (pw && !company) body.password = pw;
    button.disabled = true;
    try {
      await host.api.call("POST", company ? companyPath(s, "send-code") : "/users/send-code", body);
      store.profile = values;
      showCode(host, values.email);
    } catch (err) {
      button.disabled = false;
      if (err instanceof ApiError && err.status === 422) {
        invalid(name, fName.msg, err.field("name"));
        invalid(email, fEmail.msg, err.field("email"));
        error.textContent = err.field("password") || (err.field("name", "email") ? "" : err.message);
      } else if (err instanceof ApiError && err.status === 403 && !company) {
        if (s.password === null) {
          invalid(password, fPassword.msg, t.wrongPassword);
          password.focus();
        } else error.textContent = t.wrongPassword;
      } else {
        error.textContent = host.errorText(err);
      }
    }
  });
  host.setScreen(form);
}

export function showCode(host: JoinHost, email: string): void {
  const { t, s, store } = host;
  const company = s.mode === "company";
  const error = h("p", { class: "error", id: "code-error", role: "alert" });
  const info = h("p", { class: "note", role: "status" });
  const code = h("input", {
    id: "code",
    class: "code",
    name: "code",
    inputmode: "numeric",
    autocomplete: "one-time-code",
    required: true,
    "aria-describedby": "code-error",
    "data-autofocus": true,
  });
  const verify = h("button", { class: "primary", type: "submit", text: company ? t.verifyCompany : t.verify });
  const resend = h("button", { class: "secondary", type: "button", text: t.resend });
  const back = h("button", { class: "secondary", type: "button", text: t.otherEmail, onclick: () => showJoin(host) });
  const form = h(
    "form",
    { class: "card", novalidate: true },
    h("p", { class: "note", text: fill(company ? t.codeIntroCompany : t.codeIntro, { email }) }),
    h("div", { class: "field" }, h("label", { for: "code", text: t.code }), code, error),
    verify,
    info,
    h("div", { class: "row" }, resend, back),
  );

  let wait: ReturnType<typeof setInterval> | undefined;
  const countdown = (seconds: number) => {
    clearInterval(wait);
    let left = seconds;
    resend.disabled = true;
    resend.textContent = fill(t.resendIn, { n: left });
    wait = setInterval(() => {
      left--;
      if (left <= 0 || !form.isConnected) {
        clearInterval(wait);
        resend.disabled = false;
        resend.textContent = t.resend;
      } else resend.textContent = fill(t.resendIn, { n: left });
    }, 1000);
  };
  countdown(RESEND_AFTER_S);

  let busy = false;
  const submit = async () => {
    const digits = code.value.replace(/\D/g, "");
    if (digits.length !== 6) {
      error.textContent = t.codeFormat;
      code.setAttribute("aria-invalid", "true");
      return;
    }
    if (busy) return;
    busy = true;
    verify.disabled = true;
    error.textContent = "";
    try {
      const answer = await host.api.call<{ data: Entry }>("POST", company ? companyPath(s, "get-token") : "/users/get-token", { email, auth_code: digits });
      clearInterval(wait);
      await host.entered(answer.data);
    } catch (err) {
      code.setAttribute("aria-invalid", "true");
      error.textContent = err instanceof ApiError && err.status === 422 ? t.wrongCode : host.errorText(err);
      code.select();
    } finally {
      busy = false;
      verify.disabled = false;
    }
  };
  // Paste-friendly: spaces, dashes and words around the code are dropped; six digits submit.
  code.addEventListener("input", () => {
    const digits = code.value.replace(/\D/g, "").slice(0, 6);
    if (digits !== code.value) code.value = digits;
    code.setAttribute("aria-invalid", "false");
    if (digits.length === 6) void submit();
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void submit();
  });
  resend.addEventListener("click", async () => {
    error.textContent = info.textContent = "";
    const profile = store.profile;
    const body: Record<string, string> = { email, name: profile ? profile.name : "" };
    if (!body.name) delete body.name;
    const pw = s.password;
    if (pw && !company) body.password = pw;
    try {
      await host.api.call("POST", company ? companyPath(s, "send-code") : "/users/send-code", body);
      info.textContent = t.codeSent;
      countdown(RESEND_AFTER_S);
    } catch (err) {
      error.textContent = host.errorText(err);
      if (err instanceof ApiError && err.status === 429) countdown(err.retryAfter || RESEND_AFTER_S);
    }
  });
  host.setScreen(form);
}
