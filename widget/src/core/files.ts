// A message's files as both faces show them (spec §10): raster images as previews that
// open the file, the rest as downloads (served as attachments with their exact type).

import { Attachment } from "./api";
import { h } from "./dom";

/** A size as people read it: 912 B, 38 KB, 4.2 MB. */
export function size(bytes: number): string {
  if (bytes < 1000) return bytes + " B";
  if (bytes < 1000000) return Math.round(bytes / 1000) + " KB";
  return (bytes / 1000000).toFixed(1) + " MB";
}

/** A message's files. Without a link yet (a live event
 *  carries none; the message is read for them), the name and size alone. */
export function files(list: Attachment[]): HTMLUListElement | null {
  if (!list.length) return null;
  return h(
    "ul",
    { class: "attachments" },
    ...list.map((a) => {
      const label = a.filename + " · " + size(a.size);
      const image = /^image\/(jpeg|png|gif|webp)$/.test(a.content_type);
      const view = !a.url
        ? h("span", { class: "file", text: label })
        : image
          ? h("a", { class: "image", href: a.url, target: "_blank", rel: "noopener noreferrer", title: label }, h("img", { src: a.thumbnail_url || a.url, alt: a.filename, loading: "lazy" }))
          : h("a", { class: "file", href: a.url, download: a.filename, rel: "noopener noreferrer", text: label });
      return h("li", null, view);
    }),
  );
}

/** Whether some file of `m` has no link yet (it came in an event): read the message for them. */
export function needsLinks(list: Attachment[] | undefined): boolean {
  return !!list && list.some((a) => !a.url);
}
