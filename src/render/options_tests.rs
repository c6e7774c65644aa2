//! Tests of the render options: parsing, canonical form, compilation into chains.

use super::*;

fn parse(query: &str) -> Result<RenderOptions, OptionError> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    RenderOptions::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

fn ops(chain: &Chain) -> Vec<Value> {
    serde_json::to_value(chain).map(|v| v.as_array().cloned().unwrap_or_default()).unwrap_or_default()
}

#[test]
fn width_and_format_compile_to_a_resize_and_an_encode() {
    let chain = parse("w=800&q=70").expect("valid").compile("webp").expect("chain");
    let steps = ops(&chain);
    assert_eq!(steps.len(), 2);
    assert_eq!((steps[0]["op"].as_str(), steps[0]["width"].as_u64(), steps[0]["height"].as_u64()), (Some("resize"), Some(800), None));
    assert_eq!((steps[1]["format"].as_str(), steps[1]["quality"].as_u64()), (Some("webp"), Some(70)));
}

#[test]
fn dpr_multiplies_the_box() {
    let steps = ops(&parse("w=400&h=300&dpr=1.5&fit=cover").expect("valid").compile("jpeg").expect("chain"));
    assert_eq!((steps[0]["width"].as_u64(), steps[0]["height"].as_u64(), steps[0]["fit"].as_str()), (Some(600), Some(450), Some("cover")));
}

#[test]
fn the_canonical_form_ignores_order_and_spelling() {
    let a = parse("w=800&format=auto&q=80").expect("valid");
    let b = parse("q=80&format=auto&w=800").expect("valid");
    assert_eq!(a.canonical(), b.canonical());
    assert_eq!(a.canonical(), "format=auto&q=80&w=800");
    assert_eq!(parse("w=10&dpr=2.00").expect("valid").canonical(), "dpr=2&w=10");
    // A chain is kept as written (a link signs it verbatim); its spellings compile alike.
    let steps = URL_SAFE_NO_PAD.encode(r#"[{"height":5,"op":"resize","fit":"inside"}]"#);
    let reordered = URL_SAFE_NO_PAD.encode(r#"[{"op":"resize","height":5}]"#);
    let (a, b) = (parse(&format!("steps={steps}")).expect("valid"), parse(&format!("steps={reordered}")).expect("valid"));
    assert_eq!(a.canonical(), format!("steps={steps}"));
    assert_eq!(a.compile("jpeg").expect("chain"), b.compile("jpeg").expect("chain"));
}

#[test]
fn a_preset_keeps_its_encode_unless_a_format_is_given() {
    let own = parse("preset=thumbnail").expect("valid");
    assert!(!own.negotiates());
    let steps = ops(&own.compile("jpeg").expect("chain"));
    assert_eq!(steps.last().and_then(|s| s["format"].as_str()), Some("webp"));
    let auto = parse("preset=thumbnail&format=auto").expect("valid");
    assert!(auto.negotiates());
    assert_eq!(ops(&auto.compile("jpeg").expect("chain")).last().and_then(|s| s["format"].as_str()), Some("jpeg"));
    let resized = ops(&parse("preset=web&w=100").expect("valid").compile("jpeg").expect("chain"));
    let names: Vec<&str> = resized.iter().filter_map(|s| s["op"].as_str()).collect();
    assert_eq!(names, ["auto_orient", "resize", "sharpen", "resize", "encode"], "the extra resize comes before the preset's encode");
}

#[test]
fn each_bad_option_is_named() {
    let named = |q: &str| parse(q).expect_err(q).option;
    assert_eq!(named("w=0"), "w");
    assert_eq!(named("h=abc"), "h");
    assert_eq!(named("w=99999"), "w");
    assert_eq!(named("w=10&fit=squash"), "fit");
    assert_eq!(named("w=10&gravity=up"), "gravity");
    assert_eq!(named("format=bmp2"), "format");
    assert_eq!(named("q=101"), "q");
    assert_eq!(named("w=10&dpr=5"), "dpr");
    assert_eq!(named("w=10&dpr=1.234"), "dpr");
    assert_eq!(named("fit=cover"), "fit");
    assert_eq!(named("preset=nope"), "preset");
    assert_eq!(named("preset=web&steps=W10"), "preset");
    assert_eq!(named("steps=!!"), "steps");
    assert_eq!(named(&format!("steps={}", URL_SAFE_NO_PAD.encode(r#"[{"op":"explode"}]"#))), "steps");
    assert_eq!(named("width=10"), "width");
    assert_eq!(named("w=10&w=20"), "w");
}

#[test]
fn link_bodies_use_the_same_names_and_validator() {
    let from_json = RenderOptions::from_json(&json!({"w": 800, "format": "auto", "steps": [{"op": "grayscale"}]})).expect("valid");
    let encoded = URL_SAFE_NO_PAD.encode(r#"[{"op":"grayscale"}]"#);
    assert_eq!(from_json, parse(&format!("w=800&format=auto&steps={encoded}")).expect("valid"));
    assert_eq!(RenderOptions::from_json(&json!({"w": true})).expect_err("bool").option, "w");
    assert_eq!(RenderOptions::from_json(&json!({"size": 3})).expect_err("unknown").option, "size");
    assert_eq!(RenderOptions::from_json(&json!([1])).expect_err("not an object").option, "render");
}

#[test]
fn no_options_reencode_the_original_in_the_negotiated_format() {
    let none = parse("").expect("valid");
    assert!(none.negotiates());
    assert_eq!(none.canonical(), "");
    assert_eq!(ops(&none.compile("png").expect("chain")).len(), 1);
}
