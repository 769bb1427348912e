// Every text the widget shows, in English. `data-strings` (a JSON object) replaces any of
// them by key; `{name}` placeholders are filled in at run time (as text).

import { TRAY_ENGLISH } from "./core/tray";

export const STRINGS = {
  title: "Chat with us",
  open: "Open chat",
  openUnread: "Open chat, {n} unread",
  close: "Minimise chat",
  signOut: "Sign out",
  joinIntro: "Tell us who you are. We will email you a 6-digit code to join the conversation.",
  companyIntro: "Tell us who you are. We will email you a 6-digit code once, to start your conversation with us.",
  awayIntro: "We are away right now. Start with your email, write to us, and we'll reply by email.",
  name: "Your name",
  email: "Email",
  password: "Chat password",
  passwordHint: "Only if you were given one.",
  sendCode: "Email me a code",
  codeIntro: "If {email} can join this chat, a 6-digit code is on its way. Enter it here.",
  codeIntroCompany: "A 6-digit code is on its way to {email}. Enter it here.",
  verifyCompany: "Start the conversation",
  code: "6-digit code",
  verify: "Join the chat",
  resend: "Send a new code",
  resendIn: "New code possible in {n} s",
  otherEmail: "Use another email",
  codeSent: "A new code is on its way.",
  wrongCode: "That code is wrong or has expired. Use the newest email, or ask for a new code.",
  codeFormat: "Enter the 6 digits from the email.",
  throttled: "Too many attempts. Try again in {time}.",
  seconds: "{n} seconds",
  minutes: "{n} minutes",
  wrongPassword: "The chat password is not correct.",
  required: "Please fill this in.",
  noChat: "This chat does not exist or is no longer available.",
  identifyFailed: "We could not confirm your sign-in on this site (it may have expired). Continue with your email instead.",
  offline: "You are offline. Messages will be sent when the connection returns.",
  networkError: "Could not reach the chat. Check your connection and try again.",
  serverError: "Something went wrong on our side. Try again in a moment.",
  expired: "Your session has ended. Join again to carry on: your text is kept.",
  removed: "You are no longer a member of this chat.",
  loadEarlier: "Load earlier messages",
  loading: "Loading…",
  empty: "No messages yet. Say hello!",
  you: "You",
  team: "Support team",
  staff: "Team",
  someone: "Someone",
  edited: "edited",
  edit: "Edit",
  editLabel: "Edit your message",
  delete: "Delete",
  deleteLabel: "Delete your message",
  confirmDelete: "Delete this message?",
  save: "Save",
  cancel: "Cancel",
  message: "Message",
  placeholder: "Write a message…",
  send: "Send",
  sending: "Sending…",
  waiting: "Waiting for the network…",
  failed: "Not sent: {error}",
  retry: "Retry",
  ...TRAY_ENGLISH,
  stillUploading: "Wait for the files to finish uploading, then send.",
  discard: "Discard",
  typingOne: "{a} is typing…",
  typingTwo: "{a} and {b} are typing…",
  typingMany: "Several people are typing…",
  connecting: "Connecting…",
  repliesIn: "Typically replies within {n} minutes",
  repliesInOne: "Typically replies within a minute",
  teamHere: "Our team is here",
  away: "We'll reply by email",
  resolved: "This conversation is resolved. Write a message to reopen it.",
  reconnecting: "Reconnecting…",
  offlineShort: "Offline",
  announce: "{name}: {text}",
  length: "{n} / {max}",
  messages: "Messages",
};

export type Strings = typeof STRINGS;

/** The defaults with the page's overrides (unknown keys and non-text values are ignored). */
export function strings(json: string | undefined): Strings {
  const result: Strings = { ...STRINGS };
  if (!json) return result;
  try {
    const given = JSON.parse(json) as Record<string, unknown>;
    for (const key of Object.keys(result) as (keyof Strings)[]) {
      const value = given[key];
      if (typeof value === "string" && value) result[key] = value;
    }
  } catch {
    console.warn("chat widget: data-strings is not a JSON object; using the defaults");
  }
  return result;
}
