// Part of `make test`: asyncapi.yaml (the WebSocket protocol) must be a valid AsyncAPI 3.0
// document. The AsyncAPI project's own parser validates it, with its ruleset; any error,
// or any warning, fails the run.
import { readFile } from "node:fs/promises";
import { Parser } from "@asyncapi/parser";

const text = await readFile(new URL("../../asyncapi.yaml", import.meta.url), "utf8");
const { document, diagnostics } = await new Parser().parse(text);
// Severity 0 is an error, 1 a warning; hints (2, 3) are advice.
const problems = diagnostics.filter((d) => d.severity <= 1);
for (const d of problems) {
  console.error(`asyncapi.yaml ${d.path.join(".")}: ${d.message} (${d.code})`);
}
if (!document || problems.length > 0) process.exit(1);
const version = document.version();
const channels = document.channels().length;
const operations = document.operations().length;
console.log(`asyncapi.yaml: AsyncAPI ${version}, valid (${channels} channel, ${operations} operations)`);
