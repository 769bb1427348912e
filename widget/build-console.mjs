// Builds the operators' console: widget/src/console (on the shared core, widget/src/core)
// -> widget/dist/console.js and its gzip, committed and compiled into the widget function,
// which serves them as GET /console.js beside the page GET /console.
//
//   node widget/build-console.mjs           rebuild
//   node widget/build-console.mjs --check   fail if dist/ is not the build of src/, or breaks a rule
//
// The same rules as the widget's (bundle.mjs), with a budget of 80 KB gzipped.
import { bundle } from "./bundle.mjs";

await bundle({ name: "console", entry: "src/console/main.ts", budget: 80 * 1024 });
