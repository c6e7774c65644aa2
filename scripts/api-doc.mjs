// Renders docs/API.md, the API reference, from public/openapi.json (the served contract), so
// the two cannot drift: tests/js/api-doc.test.mjs fails when the committed file is stale.
//   node scripts/api-doc.mjs            print the reference
//   node scripts/api-doc.mjs --write    rewrite docs/API.md
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const METHODS = ["get", "post", "put", "patch", "delete"];

/** The last segment of a `$ref`, e.g. `#/components/schemas/Task` → `Task`. */
const refName = (ref) => ref.split("/").pop();

/** Follows a `$ref` inside the document. */
function resolve(doc, node) {
  if (!node?.$ref) return node;
  return refName(node.$ref).length ? node.$ref.slice(2).split("/").reduce((at, key) => at[key], doc) : node;
}

/** A schema in one line: its name when it is a reference, else its shape. */
function schemaText(schema) {
  if (!schema) return "";
  if (schema.$ref) return `[${refName(schema.$ref)}](#${refName(schema.$ref).toLowerCase()})`;
  if (schema.oneOf) return schema.oneOf.map(schemaText).join(" \\| ");
  // A `not` narrows what the rest allows; the field's description says how, in words.
  if (schema.allOf) return schema.allOf.filter((s) => !s.not).map(schemaText).join(" and ");
  if (schema.type === "array") return `array of ${schemaText(schema.items)}`;
  if (schema.const !== undefined) return `\`${JSON.stringify(schema.const)}\``;
  if (schema.enum) return schema.enum.map((v) => `\`${JSON.stringify(v)}\``).join(", ");
  const bounds = [];
  if (schema.minimum !== undefined) bounds.push(`≥ ${schema.minimum}`);
  if (schema.maximum !== undefined) bounds.push(`≤ ${schema.maximum}`);
  if (schema.minLength !== undefined) bounds.push(`length ≥ ${schema.minLength}`);
  if (schema.maxLength !== undefined) bounds.push(`length ≤ ${schema.maxLength}`);
  if (schema.pattern) bounds.push(`\`${schema.pattern}\``);
  const type = Array.isArray(schema.type) ? schema.type.join(" or ") : schema.type ?? "any";
  return bounds.length ? `${type} (${bounds.join(", ")})` : type;
}

/** Table cells may not contain raw newlines or pipes. */
const cell = (text) => String(text ?? "").replace(/\n+/g, " ").replace(/\|/g, "\\|");

function parameters(doc, op) {
  const params = (op.parameters ?? []).map((p) => resolve(doc, p));
  if (!params.length) return [];
  const rows = params.map((p) => `| \`${p.name}\` | ${p.in} | ${p.required ? "yes" : "no"} | ${cell(schemaText(p.schema))} | ${cell(p.description)} |`);
  return ["", "| parameter | in | required | type | meaning |", "|---|---|---|---|---|", ...rows];
}

function body(doc, op) {
  const request = resolve(doc, op.requestBody);
  if (!request) return [];
  const types = Object.entries(request.content ?? {}).map(([type, media]) => `\`${type}\` ${schemaText(media.schema)}`.trim());
  return ["", `Body${request.required ? "" : " (optional)"}: ${types.join("; or ")}.${request.description ? ` ${request.description}` : ""}`];
}

function responses(doc, op) {
  const rows = Object.entries(op.responses ?? {}).map(([status, r]) => {
    const answer = resolve(doc, r);
    const schemas = Object.values(answer.content ?? {}).map((m) => schemaText(m.schema)).filter(Boolean);
    return `| ${status} | ${cell(answer.description)} | ${cell([...new Set(schemas)].join(", "))} |`;
  });
  return ["", "| status | meaning | body |", "|---|---|---|", ...rows];
}

function operation(doc, path, method, op) {
  const security = op.security ?? doc.security ?? [];
  const schemes = new Set(security.flatMap(Object.keys));
  const auth = !security.length ? "no token" : schemes.has("signedLink") ? "bearer token or signed link" : "bearer token";
  return [
    `### \`${method.toUpperCase()} ${path}\``,
    "",
    `${op.summary ?? ""} (${auth}).`,
    ...(op.description ? ["", op.description] : []),
    ...parameters(doc, op),
    ...body(doc, op),
    ...responses(doc, op),
    "",
  ];
}

function schemas(doc) {
  const out = ["## Objects", ""];
  for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) {
    out.push(`### ${name}`, "");
    if (schema.description) out.push(schema.description, "");
    if (schema.properties) {
      const required = new Set(schema.required ?? []);
      out.push("| field | type | required | meaning |", "|---|---|---|---|");
      for (const [field, prop] of Object.entries(schema.properties)) {
        out.push(`| \`${field}\` | ${cell(schemaText(prop))} | ${required.has(field) ? "yes" : "no"} | ${cell(prop.description)} |`);
      }
      out.push("");
    } else {
      out.push(`${schemaText(schema)}`, "");
    }
  }
  return out;
}

export function render(doc) {
  const out = [
    `# ${doc.info.title} — API reference (version ${doc.info.version})`,
    "",
    "Generated from `public/openapi.json` (served at `GET /openapi.json`) by `node scripts/api-doc.mjs --write`;",
    "do not edit by hand. Live streams are described in [LIVE.md](LIVE.md), the steps in [STEPS.md](STEPS.md).",
    "",
    doc.info.description,
    "",
  ];
  for (const tag of doc.tags ?? []) {
    out.push(`## ${tag.name}`, "", ...(tag.description ? [tag.description, ""] : []));
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of METHODS) {
        const op = item[method];
        if (op && (op.tags ?? [])[0] === tag.name) out.push(...operation(doc, path, method, op));
      }
    }
  }
  const untagged = Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m] && !(item[m].tags ?? []).length).map((m) => operation(doc, path, m, item[m])),
  );
  if (untagged.length) out.push("## Other routes", "", ...untagged.flat());
  out.push(...schemas(doc));
  return out.join("\n").replace(/\n{3,}/g, "\n\n").trimEnd() + "\n";
}

export function current() {
  return render(JSON.parse(readFileSync(join(root, "public/openapi.json"), "utf8")));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = current();
  if (process.argv.includes("--write")) writeFileSync(join(root, "docs/API.md"), text);
  else process.stdout.write(text);
}
