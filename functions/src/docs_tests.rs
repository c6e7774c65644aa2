//! The generated documents are what the registry says now: a stale file fails here, and
//! `UPDATE_DOCS=1` rewrites it.

use super::*;
use crate::Chain;

const UPDATE: &str = "run `UPDATE_DOCS=1 cargo test -p functions docs`";

/// `path` (from the repository root) compared with `expected(current text)`; rewritten first
/// when `UPDATE_DOCS=1`.
fn check_generated(path: &str, expected: impl Fn(&str) -> String) {
    let path = format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"));
    let mut actual = std::fs::read_to_string(&path).unwrap_or_default();
    if std::env::var("UPDATE_DOCS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, expected(&actual)).expect("write the generated file");
        actual = std::fs::read_to_string(&path).unwrap_or_default();
    }
    assert!(actual == expected(&actual), "{path} is stale: {UPDATE}");
}

/// `doc` (the OpenAPI document's text) with its run of generated components replaced by
/// `components`: the run starts at the first generated name and ends before the first other
/// component, so the hand-written rest keeps its layout.
fn splice(doc: &str, components: &[(String, Value)]) -> String {
    const INDENT: &str = "      ";
    let generated: Vec<&str> = components.iter().map(|(name, _)| name.as_str()).collect();
    let key =
        |line: &str| line.strip_prefix(INDENT).filter(|l| l.starts_with('"')).and_then(|l| l[1..].split('"').next().map(str::to_string));
    let lines: Vec<&str> = doc.lines().collect();
    let start = lines.iter().position(|l| key(l).as_deref() == Some(generated[0])).expect("the document has the generated components");
    let end = (start + 1..lines.len())
        .find(|&i| key(lines[i]).is_some_and(|k| !generated.contains(&k.as_str())))
        .expect("a hand-written component follows the generated ones");
    let rendered: Vec<String> =
        components.iter().map(|(name, schema)| format!("{INDENT}\"{name}\": {},", layout(schema, INDENT))).collect();
    let mut out: Vec<String> = lines[..start].iter().map(|l| l.to_string()).collect();
    out.extend(rendered);
    out.extend(lines[end..].iter().map(|l| l.to_string()));
    out.join("\n") + "\n"
}

/// `v` as the hand-written document lays JSON out: on one line when it fits in [`WIDTH`]
/// (`{"a": 1, "b": [2, 3]}`), else one member a line, each laid out the same way.
fn layout(v: &Value, indent: &str) -> String {
    const WIDTH: usize = 140;
    let flat = one_line(v);
    let inner = format!("{indent}  ");
    match v {
        _ if indent.len() + flat.len() <= WIDTH => flat,
        Value::Object(m) => {
            let fields: Vec<String> = m.iter().map(|(k, x)| format!("{inner}{}: {}", Value::from(k.as_str()), layout(x, &inner))).collect();
            format!("{{\n{}\n{indent}}}", fields.join(",\n"))
        }
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(|x| format!("{inner}{}", layout(x, &inner))).collect();
            format!("[\n{}\n{indent}]", items.join(",\n"))
        }
        _ => flat,
    }
}

fn one_line(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            format!("{{{}}}", m.iter().map(|(k, x)| format!("{}: {}", Value::from(k.as_str()), one_line(x))).collect::<Vec<_>>().join(", "))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(one_line).collect::<Vec<_>>().join(", ")),
        scalar => scalar.to_string(),
    }
}

#[test]
fn docs_steps_md_matches_the_registry() {
    check_generated("docs/STEPS.md", |_| markdown());
}

#[test]
fn docs_openapi_step_schemas_match_the_registry() {
    check_generated("public/openapi.json", |doc| splice(doc, &openapi_components()));
}

#[test]
fn every_documented_step_example_is_a_valid_chain() {
    let (_, step) = &openapi_components()[1];
    for example in step["examples"].as_array().expect("examples") {
        Chain::parse(&json!([example])).expect("a documented example parses");
    }
}

#[test]
fn the_step_union_names_every_step_once_by_its_op() {
    let components = openapi_components();
    let step = &components[1].1;
    let mapping = step["discriminator"]["mapping"].as_object().expect("mapping");
    assert_eq!(mapping.len(), STEPS.len());
    for spec in STEPS {
        let target = mapping[spec.op].as_str().expect("a reference");
        let (_, schema) = components.iter().find(|(name, _)| target.ends_with(&format!("/{name}"))).expect("the component exists");
        assert_eq!(schema["properties"]["op"]["const"], spec.op);
        assert!(schema["required"].as_array().expect("required").contains(&json!("op")), "{}", spec.op);
    }
}
