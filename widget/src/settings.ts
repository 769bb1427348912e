// What one embedding of the widget asked for (its data- attributes, read by main.ts):
// a module of its own, so the views that read it do not import the widget that makes them.
import { Strings } from "./strings";

export interface Settings {
  base: string;
  mode: "room" | "company";
  /** Room mode: the chat; company mode: "" (the visitor's conversation comes with its token). */
  chatId: string;
  /** Company mode: the company; room mode: "". */
  companyId: string;
  /** Company mode: the site's signed token for a visitor logged in there. */
  userToken: string | null;
  title: string | null;
  accent: string | null;
  position: "right" | "left";
  open: boolean;
  lang: string;
  dir: "ltr" | "rtl";
  password: string | null;
  storageKey: string;
  strings: Strings;
}
