// The files someone adds to its next message (a guest in the widget, an operator in the
// console): picked with the paperclip, dropped on the conversation, or pasted (a screenshot). Each goes up to the bucket at once, showing its
// progress; a refusal (type, size, the upload budget) shows on its own chip and keeps the
// others. The message then names the uploaded ones (the outbox sends their ids).

import { Api, ApiError, Staged } from "./api";
import { fill, h, icon } from "./dom";
import { uploadFile } from "./upload";

/** What the tray says; the widget's strings (translatable) have these keys. */
export interface TrayStrings {
  attach: string;
  files: string;
  uploading: string;
  uploaded: string;
  uploadFailed: string;
  removeFile: string;
  tooManyFiles: string;
  wrongType: string;
  tooBig: string;
}

/** At most this many files in one message (spec §10). */
export const MAX_FILES = 10;
const CLIP_ICON = ["M20 11.5l-8.2 8.2a5 5 0 0 1-7.1-7.1l8.6-8.6a3.3 3.3 0 0 1 4.7 4.7l-8.6 8.6a1.7 1.7 0 0 1-2.4-2.4l7.9-7.9"];

/** The tray's words in English: the console's, and the widget's defaults (translatable there). */
export const TRAY_ENGLISH: TrayStrings = {
  attach: "Attach files",
  files: "Files for the next message",
  uploading: "Uploading {name}",
  uploaded: "ready",
  uploadFailed: "{name}: {error}",
  removeFile: "Remove {name}",
  tooManyFiles: "At most {n} files in one message.",
  wrongType: "this type of file can't be sent (images, PDF, text, office documents and zip can).",
  tooBig: "this file is too big to send.",
};

export interface TrayHost {
  readonly api: Api;
  readonly t: TrayStrings;
  /** The chat the files go to. */
  chatId(): string | null;
  say(text: string): void;
  errorText(err: unknown): string;
  /** A failure that ends the session, handled; true when it was one. */
  ended(err: unknown): boolean;
}

interface Chip {
  file: File;
  el: HTMLLIElement;
  staged?: Staged;
  failed?: boolean;
}

export class Tray {
  readonly list: HTMLUListElement;
  readonly button: HTMLButtonElement;
  private readonly input: HTMLInputElement;
  private chips: Chip[] = [];

  constructor(private readonly host: TrayHost) {
    const t = host.t;
    this.input = h("input", { type: "file", multiple: true, hidden: true, tabindex: "-1", "aria-hidden": "true" });
    this.input.addEventListener("change", () => {
      this.add(Array.from(this.input.files || []));
      this.input.value = "";
    });
    this.button = h("button", { class: "attach", type: "button", title: t.attach, "aria-label": t.attach, onclick: () => this.input.click() }, icon(CLIP_ICON), this.input);
    this.list = h("ul", { class: "files", "aria-label": t.files, hidden: true });
  }

  /** Files dropped on `zone` or pasted into `field` join the tray. */
  accept(zone: HTMLElement, field: HTMLElement): void {
    const carriesFiles = (e: DragEvent) => !!e.dataTransfer && Array.from(e.dataTransfer.types).indexOf("Files") >= 0;
    zone.addEventListener("dragover", (e) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      zone.classList.add("dropping");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("dropping"));
    zone.addEventListener("drop", (e) => {
      zone.classList.remove("dropping");
      const files = e.dataTransfer ? Array.from(e.dataTransfer.files) : [];
      if (!files.length) return;
      e.preventDefault();
      this.add(files);
    });
    field.addEventListener("paste", (e) => {
      const files = e.clipboardData ? Array.from(e.clipboardData.files) : [];
      if (!files.length) return;
      e.preventDefault();
      this.add(files);
    });
  }

  /** Some file is uploaded and waits for the message. */
  get ready(): boolean {
    return this.chips.some((c) => c.staged);
  }

  /** Some file is still on its way up. */
  get uploading(): boolean {
    return this.chips.some((c) => !c.staged && !c.failed);
  }

  /** Every file goes (another conversation opened). */
  clear(): void {
    for (const chip of this.chips.slice()) this.drop(chip);
  }

  /** The uploaded files, handed to a message: they leave the tray (failed ones stay). */
  take(): Staged[] {
    const ready = this.chips.filter((c) => c.staged);
    for (const chip of ready) this.drop(chip);
    return ready.map((c) => c.staged as Staged);
  }

  private add(files: File[]): void {
    for (const file of files) {
      if (this.chips.length >= MAX_FILES) {
        this.host.say(fill(this.host.t.tooManyFiles, { n: MAX_FILES }));
        break;
      }
      const chip: Chip = { file, el: h("li", { class: "file-chip" }) };
      this.chips.push(chip);
      this.list.appendChild(chip.el);
      this.list.hidden = false;
      void this.upload(chip);
    }
  }

  private async upload(chip: Chip): Promise<void> {
    const t = this.host.t;
    const name = chip.file.name || "pasted.png";
    const progress = h("progress", { max: "1", value: "0", "aria-label": fill(t.uploading, { name }) });
    this.show(chip, h("span", { class: "name", text: name }), progress);
    try {
      const chat = this.host.chatId();
      if (!chat) return this.drop(chip);
      chip.staged = await uploadFile(this.host.api, chat, chip.file, (fraction) => (progress.value = fraction));
      if (!chip.el.isConnected) return;
      this.show(chip, h("span", { class: "name", text: name }), h("span", { class: "done", text: t.uploaded }));
    } catch (err) {
      if (this.host.ended(err)) return;
      chip.failed = true;
      // The API's refusal lists every allowed type: too long for a chip, so say it short.
      const refused = err instanceof ApiError && err.status === 422;
      const error = refused && err.field("content_type") ? t.wrongType : refused && err.field("size") ? t.tooBig : (refused && err.field("filename")) || this.host.errorText(err);
      const why = fill(t.uploadFailed, { name, error });
      this.show(chip, h("span", { class: "name bad", role: "alert", text: why }));
    }
  }

  private show(chip: Chip, ...parts: HTMLElement[]): void {
    const remove = h("button", { class: "remove", type: "button", text: "×", "aria-label": fill(this.host.t.removeFile, { name: chip.file.name || "pasted.png" }), onclick: () => this.drop(chip) });
    chip.el.replaceChildren(...parts, remove);
  }

  private drop(chip: Chip): void {
    this.chips = this.chips.filter((c) => c !== chip);
    chip.el.remove();
    this.list.hidden = !this.chips.length;
  }
}
