// docs/API.md is the reference rendered from public/openapi.json: a stale copy fails here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { current } from "../../scripts/api-doc.mjs";

test("docs/API.md is the rendering of public/openapi.json (run `node scripts/api-doc.mjs --write`)", () => {
  const committed = readFileSync(new URL("../../docs/API.md", import.meta.url), "utf8");
  assert.equal(committed, current());
});

test("every route and every object of the document has its section in the reference", () => {
  const doc = JSON.parse(readFileSync(new URL("../../public/openapi.json", import.meta.url), "utf8"));
  const text = current();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of ["get", "post", "put", "patch", "delete"].filter((m) => item[m])) {
      assert.ok(text.includes(`### \`${method.toUpperCase()} ${path}\``), `${method} ${path}`);
    }
  }
  for (const name of Object.keys(doc.components.schemas)) assert.ok(text.includes(`### ${name}\n`), name);
});
