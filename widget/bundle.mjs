// One browser bundle, built by the pinned esbuild, with the rules every bundle keeps (the
// widget's and the console's: build.mjs and build-console.mjs call this).
//
// The rules, checked on every build: under the budget gzipped; no eval, no Function
// constructor, no HTML parsing of strings (innerHTML and friends), no document.write; no
// URL of any other host (the SVG namespace aside): a bundle talks to its own origin only.
// With `--check`, dist/ must also be the build of src/ (make test runs it).
import { build } from "esbuild";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { gzipSync, gunzipSync } from "node:zlib";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

export async function bundle({ name, entry, budget, label = name }) {
  const dist = join(here, "dist");
  const check = process.argv.includes("--check");
  const result = await build({
    entryPoints: [join(here, entry)],
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
  if (gz.length > budget) problems.push(`${gz.length} bytes gzipped, over the budget of ${budget}`);

  const file = `${name}.js`;
  if (check) {
    let committed = null;
    let committedGz = null;
    try {
      committed = readFileSync(join(dist, file));
      committedGz = gunzipSync(readFileSync(join(dist, file + ".gz")));
    } catch (e) {
      problems.push(`widget/dist is missing or unreadable: ${e.message}`);
    }
    if (committed && !committed.equals(js)) problems.push(`widget/dist/${file} is not the build of widget/${entry}: run \`node widget/${name === "widget" ? "build" : "build-" + name}.mjs\` and commit dist/`);
    if (committedGz && !committedGz.equals(js)) problems.push(`widget/dist/${file}.gz does not unzip to the build of widget/${entry}`);
  } else {
    mkdirSync(dist, { recursive: true });
    writeFileSync(join(dist, file), js);
    writeFileSync(join(dist, file + ".gz"), gz);
  }

  const kb = (n) => (n / 1024).toFixed(1) + " KB";
  console.log(`${file}: ${kb(js.length)} minified, ${kb(gz.length)} gzipped (budget ${kb(budget)})${check ? ", dist/ matches src/" : ", written to widget/dist/"}`);
  if (problems.length) {
    for (const p of problems) console.error(`${label}: ${p}`);
    process.exit(1);
  }
}
