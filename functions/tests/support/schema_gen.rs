//! Random parameter values drawn from a property's JSON Schema: values inside, on and just
//! outside each bound, mutated strings around the schema's own examples, and values of the
//! wrong type. Validity is not decided here: the validator judges every value.

use serde_json::{json, Value};

/// splitmix64: small, seeded, the same sequence on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    /// Uniform in `lo..=hi`.
    fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next() >> 11) as f64 / (1u64 << 53) as f64)
    }
}

/// Values of every JSON type, for "wrong type" cases.
fn any_type(rng: &mut Rng) -> Value {
    rng.pick(&[
        json!(null),
        json!(true),
        json!(false),
        json!(0),
        json!(-1),
        json!(2.5),
        json!("1"),
        json!(""),
        json!([]),
        json!([1]),
        json!({}),
        json!({"a": 1}),
    ])
    .clone()
}

/// One value for the property `p`: mostly near what it accepts, sometimes of another type.
pub fn value(p: &Value, rng: &mut Rng) -> Value {
    if rng.chance(0.12) {
        return any_type(rng);
    }
    if let Some(branches) = p["oneOf"].as_array().or(p["anyOf"].as_array()) {
        return value(rng.pick(branches), rng);
    }
    if let Some(c) = p.get("const") {
        return if rng.chance(0.7) { c.clone() } else { mutate(c.as_str().unwrap_or("x"), rng) };
    }
    if let Some(options) = p["enum"].as_array() {
        let picked = rng.pick(options);
        if picked.is_null() {
            return Value::Null;
        }
        let chosen = picked.as_str().unwrap_or("").to_string();
        return match rng.below(10) {
            0 => json!(chosen.to_uppercase()),
            1 => json!(format!("{chosen} ")),
            2 => mutate(&chosen, rng),
            _ => json!(chosen),
        };
    }
    // A nullable type (`["integer", "null"]`): sometimes null, else the other type.
    let ty = match &p["type"] {
        Value::Array(types) if rng.chance(0.1) && types.contains(&json!("null")) => Some("null"),
        Value::Array(types) => types.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        other => other.as_str(),
    };
    match ty {
        Some("null") => Value::Null,
        Some("integer") => integer(p, rng),
        Some("number") => number(p, rng),
        Some("boolean") => json!(rng.chance(0.5)),
        Some("string") => string(p, rng),
        other => panic!("no generator for type {other:?} in {p}"),
    }
}

fn bounds(p: &Value) -> (f64, f64) {
    let lo = p["minimum"].as_f64().or(p["exclusiveMinimum"].as_f64()).unwrap_or(-1e6);
    let hi = p["maximum"].as_f64().or(p["exclusiveMaximum"].as_f64()).unwrap_or(1e6);
    (lo, hi)
}

fn integer(p: &Value, rng: &mut Rng) -> Value {
    let (lo, hi) = bounds(p);
    let (lo, hi) = (lo as i64, hi as i64);
    let inside = lo + (rng.next() % (hi.abs_diff(lo) + 1)) as i64;
    match rng.below(12) {
        0 => json!(lo),
        1 => json!(hi),
        2 => json!(lo - 1),
        3 => json!(hi + 1),
        // The same integer written with a fraction: JSON Schema's `integer` counts it.
        4 => json!(inside as f64),
        5 => json!(inside as f64 + 0.5),
        6 => json!(*rng.pick(&[u64::MAX as f64 * 4.0, -1e20, 1e300])),
        7 => json!(u64::MAX),
        8 => json!(i64::MIN),
        _ => json!(inside),
    }
}

fn number(p: &Value, rng: &mut Rng) -> Value {
    let (lo, hi) = bounds(p);
    match rng.below(12) {
        0 => json!(lo),
        1 => json!(hi),
        2 => json!(lo.next_down()),
        3 => json!(hi.next_up()),
        4 => json!(lo.next_up()),
        5 => json!(hi.next_down()),
        6 => json!(lo - 1.0),
        7 => json!(hi + 1.0),
        // An integer in range, written as one.
        8 => json!(rng.between(lo, hi).round() as i64),
        _ => json!(rng.between(lo, hi)),
    }
}

/// Characters that matter to the catalogue's patterns: hex digits of both cases, near misses,
/// control characters (C0, DEL, C1) and their printable neighbours, multi-byte letters.
const CHARS: &[char] = &[
    '0', '7', '9', 'a', 'f', 'A', 'F', 'g', 'G', 'z', '#', '+', '-', ' ', '_', 'i', 'm', '\n', '\t', '\u{0}', '\u{1f}', '\u{7f}', '\u{80}',
    '\u{85}', '\u{9f}', '\u{a0}', 'é', '©', '😀',
];

/// `s` with one random edit (mostly a replaced character: the near misses of a pattern), or a few.
fn mutate(s: &str, rng: &mut Rng) -> Value {
    let mut chars: Vec<char> = s.chars().collect();
    let edits = if rng.chance(0.8) { 1 } else { 2 + rng.below(2) };
    for _ in 0..edits {
        let at = rng.below(chars.len() + 1);
        match rng.below(5) {
            0..=2 if at < chars.len() => chars[at] = *rng.pick(CHARS),
            3 => chars.insert(at, *rng.pick(CHARS)),
            _ if at < chars.len() => {
                chars.remove(at);
            }
            _ => chars.push(*rng.pick(CHARS)),
        }
    }
    json!(chars.into_iter().collect::<String>())
}

fn string(p: &Value, rng: &mut Rng) -> Value {
    let seeds: Vec<&str> = p["examples"].as_array().into_iter().flatten().chain(p.get("default")).filter_map(Value::as_str).collect();
    let seed = if seeds.is_empty() { "text" } else { rng.pick(&seeds) };
    let max = p["maxLength"].as_u64().map(|m| m as usize);
    match rng.below(10) {
        0 | 1 => json!(seed),
        2 => json!(""),
        // At and just past the longest allowed.
        4 if max.is_some() => json!(seed.chars().cycle().take(max.unwrap_or(0)).collect::<String>()),
        5 if max.is_some() => json!(seed.chars().cycle().take(max.unwrap_or(0) + 1).collect::<String>()),
        3 => json!(seed.to_uppercase()),
        _ => mutate(seed, rng),
    }
}
