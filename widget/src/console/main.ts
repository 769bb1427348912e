// The operators' console (GET /console): sign in, the inbox, one conversation at a time,
// live over the company's team stream (one socket for every chat the member sees). Built
// on the widget's browser core (api, live, dom), never a copy of it.

import { Api, ApiError, Author, ChatEvent, NetworkError } from "../core/api";
import { clear, h } from "../core/dom";
import { Live } from "../core/live";
import { CompanySettings, CompanySettingsPage } from "./company-settings";
import { Conversation } from "./conversation";
import { Inbox } from "./inbox";
import { bindKeys } from "./keyboard";
import { Notifier } from "./notify";
import { Company, Session, User, saved, signIn, signOut, whoAmI } from "./session";
import { adopt } from "./styles";
import { Members } from "./team";
import { InboxRow } from "./types";

const root = document.getElementById("console") || document.body;
const api = new Api("", "");
/** What the desk on screen set up on the page (keys, listeners): undone when it goes. */
let teardown: (() => void)[] = [];

function leaveDesk(): void {
  for (const undo of teardown) undo();
  teardown = [];
}

function listen<K extends keyof WindowEventMap>(type: K, listener: (e: WindowEventMap[K]) => void): void {
  window.addEventListener(type, listener);
  teardown.push(() => window.removeEventListener(type, listener));
}

function problem(e: unknown): string {
  if (e instanceof NetworkError) return "The API did not answer. Check your connection and try again.";
  if (e instanceof ApiError) return e.field("email", "password") || e.message;
  return "Something went wrong.";
}

function showSignIn(message?: string): void {
  document.title = "Sign in · Console";
  const email = h("input", { id: "email", type: "email", autocomplete: "username", required: true });
  const password = h("input", { id: "password", type: "password", autocomplete: "current-password", required: true });
  const error = h("p", { class: "error", role: "alert", text: message || "" });
  const button = h("button", { type: "submit", class: "btn", text: "Sign in" });
  const form = h(
    "form",
    {
      class: "signin",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        button.disabled = true;
        error.textContent = "";
        try {
          const s = await signIn(api, email.value.trim(), password.value);
          password.value = "";
          await start(s);
        } catch (err) {
          error.textContent = problem(err);
        } finally {
          button.disabled = false;
        }
      },
    },
    h("h1", { text: "Sign in to the console" }),
    h("div", { class: "field" }, h("label", { for: "email", text: "Email" }), email),
    h("div", { class: "field" }, h("label", { for: "password", text: "Password" }), password),
    error,
    button,
  );
  clear(root);
  root.appendChild(h("main", null, form));
  email.focus();
}

async function start(s: Session): Promise<void> {
  api.token = s.token;
  let me: { user: User; companies: Company[] };
  try {
    me = await whoAmI(api);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return showSignIn("Your sign-in has expired. Sign in again.");
    return showSignIn(problem(e));
  }
  if (!me.companies.length) return showSignIn("This account is not a member of any company.");
  desk(s, me.user, me.companies, me.companies[0]);
}

function desk(s: Session, user: User, companies: Company[], company: Company): void {
  document.title = company.name + " · Console";
  const state = h("span", { class: "state", role: "status", text: "Connecting…" });
  // The team, for names (inbox, assignee) and, for an owner or admin, the assignee picker.
  const team = new Map<string, string>();
  const role = company.membership ? company.membership.role : "agent";
  const memberName = (id: string) => (id === user.id ? user.name : team.get(id));
  let conversation: Conversation;
  const open = (row: InboxRow) => {
    conversation.attempt(() => conversation.open(row).then(() => inbox.render()));
    inbox.render();
  };
  const inbox = new Inbox(api, company.id, company.name, {
    open,
    current: () => conversation.chatId,
    userId: () => user.id,
    memberName,
  });
  conversation = new Conversation(api, {
    userId: () => user.id,
    memberName,
    assignable: () => (role === "agent" ? [] : Array.from(team, ([id, name]) => ({ id, name }))),
    changed: () => inbox.changed(),
    read: (chat) => inbox.read(chat),
  });
  const notifier = new Notifier(api, {
    userId: () => user.id,
    row: (chat) => inbox.row(chat),
    current: () => conversation.chatId,
    open: (chat) => {
      const row = inbox.row(chat);
      if (row) return open(row);
      conversation.attempt(async () => open((await api.call<{ data: InboxRow }>("GET", "/api/chats/" + chat)).data));
    },
  });
  const panes = h("div", { class: "panes" }, inbox.el, conversation.el);
  // The keys are the desk's: on the team page they do nothing.
  const onDesk = (action: () => void) => () => {
    if (!panes.hidden) action();
  };
  teardown.push(
    bindKeys(document, {
      next: onDesk(() => inbox.move(1)),
      previous: onDesk(() => inbox.move(-1)),
      open: onDesk(() => inbox.openChosen()),
      reply: onDesk(() => conversation.write(false)),
      note: onDesk(() => conversation.write(true)),
      resolve: onDesk(() => conversation.resolve()),
    }),
  );
  const teamPage = role === "agent" ? null : teamView(company, user, panes);
  let opened = 0;
  const live = new Live({
    ticket: async () => {
      try {
        return (await api.call<{ data: { url: string } }>("POST", "/api/companies/" + company.id + "/realtime-ticket")).data.url;
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) void out("Your sign-in has expired. Sign in again.");
        return null;
      }
    },
    opened: () => {
      // After a reconnect: what happened meanwhile comes from the API, never from the socket.
      if (opened++) {
        conversation.attempt(() => conversation.catchUp());
        inbox
          .load()
          .then(() => notifier.resume(inbox.shown))
          .catch(() => inbox.changed());
      }
    },
    frame: (f) => {
      if (f.type === "typing" && typeof f.chat_id === "string" && f.author && typeof f.author === "object") {
        conversation.typingFrame(f.chat_id, f.author as Author);
        return;
      }
      if (typeof f.chat_id !== "string" || typeof f.seq !== "number" || typeof f.type !== "string") return;
      conversation.event(f as unknown as ChatEvent);
      notifier.event(f as unknown as ChatEvent);
      if (f.type !== "read.updated") inbox.changed();
    },
    status: (st) => {
      state.textContent = st === "online" ? "Live" : st === "offline" ? "Offline" : st === "reconnecting" ? "Reconnecting…" : "Connecting…";
      root.dataset.status = st;
    },
  });
  teardown.push(() => (live.stop(), inbox.destroy(), conversation.typing.follow(null)));
  const out = async (message?: string) => {
    leaveDesk();
    await signOut(api, s);
    showSignIn(message);
  };
  const picker =
    companies.length > 1
      ? h(
          "select",
          { "aria-label": "Company", onchange: (e: Event) => (leaveDesk(), desk(s, user, companies, companies.find((c) => c.id === (e.target as HTMLSelectElement).value) || company)) },
          ...companies.map((c) => h("option", { value: c.id, text: c.name, selected: c.id === company.id })),
        )
      : null;
  clear(root);
  root.appendChild(
    h(
      "div",
      { class: "app" },
      h("div", { class: "top", role: "banner" }, h("h1", { text: company.name }), picker, state, notifier.button, teamPage && teamPage.button, h("span", { class: "who", text: user.name }), h("button", { type: "button", class: "btn", onclick: () => void out() }, "Sign out")),
      panes,
      teamPage && teamPage.el,
    ),
  );
  listen("online", () => (live.online(), conversation.typing.online()));
  listen("offline", () => (live.offline(), conversation.typing.offline()));
  live.start();
  inbox.refresh();
  api.call<{ data: { user_id: string | null; name: string | null; email: string; status: string }[] }>("GET", "/api/companies/" + company.id + "/members").then(
    (members) => {
      for (const m of members.data) if (m.user_id && m.status === "active") team.set(m.user_id, m.name || m.email);
      inbox.render();
    },
    () => undefined,
  );
}

/** The team page (owner and admins): members and company settings, in place of the desk
 *  while its button is pressed; read afresh each time it opens. */
function teamView(company: Company, user: User, desk: HTMLElement): { button: HTMLButtonElement; el: HTMLElement } {
  const el = h("main", { class: "team", "aria-label": "Team and settings", hidden: true });
  const button = h("button", { type: "button", class: "btn", "aria-pressed": "false", text: "Team & settings" });
  button.addEventListener("click", () => {
    const open = el.hidden;
    el.hidden = !open;
    desk.hidden = open;
    button.setAttribute("aria-pressed", String(open));
    if (!open) return;
    clear(el);
    const said = h("p", { class: "error", role: "alert" });
    const members = new Members(api, company.id, user.id);
    el.append(h("h2", { class: "sr", text: "Team and settings" }), said, members.el);
    members.load().catch((e: unknown) => (said.textContent = problem(e)));
    api.call<{ data: CompanySettings }>("GET", "/api/companies/" + company.id).then(
      (reply) => el.appendChild(new CompanySettingsPage(api, reply.data).el),
      (e: unknown) => (said.textContent = problem(e)),
    );
  });
  return { button, el };
}

adopt();
const s = saved();
if (s) void start(s);
else showSignIn();
