// A file from the browser straight to the bucket (spec §10): the API hands out a presigned
// upload slot for the file's name, type and size; the bytes go to S3 exactly as the slot
// says, never through the API. XMLHttpRequest, not fetch: only it reports upload progress.

import { Api, ApiError, NetworkError, Staged } from "./api";

interface Slot {
  id: string;
  upload: { method: "POST" | "PUT"; url: string; fields?: Record<string, string>; headers?: Record<string, string> };
  expires_at: string;
}

/** The type the slot declares: the browser's, else one the allowlist knows by extension
 *  (some systems give no type for .csv or .webp); an unknown one is left to the API's 422. */
export function contentType(file: File): string {
  if (file.type) return file.type;
  const extension = (file.name.split(".").pop() || "").toLowerCase();
  const known: Record<string, string> = { csv: "text/csv", txt: "text/plain", webp: "image/webp", pdf: "application/pdf", zip: "application/zip" };
  return known[extension] || "application/octet-stream";
}

/** Uploads `file` into chat `chatId`; `progress` gets 0..1 as the bytes go. An
 *  ApiError is the API's refusal (422: type, size or name; 429: the upload budget). */
export async function uploadFile(api: Api, chatId: string, file: File, progress: (fraction: number) => void): Promise<Staged> {
  const filename = file.name || "pasted.png";
  const content_type = contentType(file);
  const slot = await api.call<{ data: Slot }>("POST", "/api/chats/" + chatId + "/attachments", { filename, content_type, size: file.size });
  await send(slot.data.upload, file, progress);
  return { id: slot.data.id, filename, content_type, size: file.size };
}

function send(upload: Slot["upload"], file: File, progress: (fraction: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(upload.method, upload.url);
    let body: Document | XMLHttpRequestBodyInit = file;
    if (upload.method === "POST") {
      const form = new FormData();
      for (const [name, value] of Object.entries(upload.fields || {})) form.append(name, value);
      form.append("file", file);
      body = form;
    } else {
      for (const [name, value] of Object.entries(upload.headers || {})) {
        // The browser sets Content-Length itself (and refuses to be told).
        if (name.toLowerCase() !== "content-length") request.setRequestHeader(name, value);
      }
    }
    request.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total) progress(e.loaded / e.total);
    };
    request.onload = () => (request.status >= 200 && request.status < 300 ? resolve() : reject(new ApiError(request.status, { message: "The file storage refused the upload." }, null)));
    request.onerror = () => reject(new NetworkError("upload"));
    request.ontimeout = () => reject(new NetworkError("upload"));
    request.send(body);
  });
}
