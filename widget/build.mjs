// Builds the chat widget: widget/src (TypeScript, no dependencies) -> widget/dist/widget.js,
// one minified file, and widget/dist/widget.js.gz beside it. Both are committed: `sam build`
// only runs cargo, and the widget function compiles them in (functions/widget).
//
//   node widget/build.mjs           rebuild dist/ from src/
//   node widget/build.mjs --check   fail if dist/ is not the build of src/, or breaks a rule
//
// The rules, checked on every build: under 40 KB gzipped; no eval, no Function constructor,
// no HTML parsing of strings (innerHTML and friends), no document.write; no URL of any other
// host (the SVG namespace aside): the widget talks to its own origin only.
import { build } from "esbuild";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { gzipSync, gunzipSync } from "node:zlib";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
const check = process.argv.includes("--check");
const MAX_GZIP_BYTES = 40 * 1024;

const result = await build({
  entryPoints: [join(here, "src/main.ts")],
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  legalComments: "none",
  charset: "utf8",
  write: false,
  logLevel: "error",
});
const js = Buffer.from(result.outputFiles[0].contents);
const text = js.toString("utf8");

const problems = [];
const forbidden = [
  [/\beval\s*\(/, "eval("],
  [/\bnew\s+Function\s*\(/, "new Function("],
  [/\bFunction\s*\(\s*["'`]/, "Function(string)"],
  [/\.(innerHTML|outerHTML)\b/, "innerHTML / outerHTML"],
  [/insertAdjacentHTML|createContextualFragment|DOMParser|document\.write/, "HTML parsing of strings"],
  [/set(Timeout|Interval)\(\s*["'`]/, "a timer given a string"],
];
for (const [pattern, what] of forbidden) if (pattern.test(text)) problems.push(`the bundle uses ${what}`);
for (const url of text.match(/https?:\/\/[^\s"'`)]+/g) || []) {
  if (url !== "http://www.w3.org/2000/svg") problems.push(`the bundle names another host: ${url}`);
}
const gz = gzipSync(js, { level: 9 });
if (gz.length > MAX_GZIP_BYTES) problems.push(`${gz.length} bytes gzipped, over the budget of ${MAX_GZIP_BYTES}`);

if (check) {
  let committed = null;
  let committedGz = null;
  try {
    committed = readFileSync(join(dist, "widget.js"));
    committedGz = gunzipSync(readFileSync(join(dist, "widget.js.gz")));
  } catch (e) {
    problems.push(`widget/dist is missing or unreadable: ${e.message}`);
  }
  if (committed && !committed.equals(js)) problems.push("widget/dist/widget.js is not the build of widget/src: run `node widget/build.mjs` and commit dist/");
  if (committedGz && !committedGz.equals(js)) problems.push("widget/dist/widget.js.gz does not unzip to the build of widget/src: run `node widget/build.mjs`");
} else {
  mkdirSync(dist, { recursive: true });
  writeFileSync(join(dist, "widget.js"), js);
  writeFileSync(join(dist, "widget.js.gz"), gz);
}

const kb = (n) => (n / 1024).toFixed(1) + " KB";
console.log(`widget.js: ${kb(js.length)} minified, ${kb(gz.length)} gzipped (budget ${kb(MAX_GZIP_BYTES)})${check ? ", dist/ matches src/" : ", written to widget/dist/"}`);
if (problems.length) {
  for (const p of problems) console.error("widget: " + p);
  process.exit(1);
}
