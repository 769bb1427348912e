// Builds the chat widget: widget/src (TypeScript, no dependencies) -> widget/dist/widget.js,
// one minified file, and widget/dist/widget.js.gz beside it. Both are committed: `sam build`
// only runs cargo, and the widget function compiles them in (functions/widget).
//
//   node widget/build.mjs           rebuild dist/ from src/
//   node widget/build.mjs --check   fail if dist/ is not the build of src/, or breaks a rule
//
// The rules (bundle.mjs): under 40 KB gzipped; no eval, no Function constructor, no HTML
// parsing of strings (innerHTML and friends), no document.write; no URL of any other host
// (the SVG namespace aside): the widget talks to its own origin only.
import { bundle } from "./bundle.mjs";

await bundle({ name: "widget", entry: "src/main.ts", budget: 40 * 1024 });
