// Builds the operators' console: widget/src/console (on the shared core, widget/src/core)
// -> widget/dist/console.js and its gzip, committed and compiled into the widget function,
// which serves them as GET /console.js beside the page GET /console. First, the types the
// console reads the API with: widget/generated/openapi.d.ts, openapi-typescript's reading
// of openapi.yaml (committed, so the editor and tsc see them).
//
//   node widget/build-console.mjs           rebuild (the types, then the bundle)
//   node widget/build-console.mjs --check   fail if dist/ is not the build of src/, the types
//                                           are not openapi.yaml's, or a rule is broken
//
// The same rules as the widget's (bundle.mjs), with a budget of 80 KB gzipped.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundle } from "./bundle.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const types = join(root, "widget/generated/openapi.d.ts");

function generate(output) {
  execFileSync(join(root, "node_modules/.bin/openapi-typescript"), [join(root, "openapi.yaml"), "--output", output], { stdio: "pipe" });
}

if (process.argv.includes("--check")) {
  const scratch = mkdtempSync(join(tmpdir(), "console-types-"));
  try {
    generate(join(scratch, "openapi.d.ts"));
    if (!readFileSync(join(scratch, "openapi.d.ts")).equals(readFileSync(types))) {
      console.error("console: widget/generated/openapi.d.ts is not openapi-typescript's reading of openapi.yaml: run `node widget/build-console.mjs` and commit it");
      process.exit(1);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
} else {
  generate(types);
}

await bundle({ name: "console", entry: "src/console/main.ts", budget: 80 * 1024 });
