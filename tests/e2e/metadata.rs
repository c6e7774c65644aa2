//! End-to-end tests of `encode`'s `metadata` and `icc` policies through the public routes: a
//! JPEG carrying EXIF (Orientation 6, GPS, Artist, Copyright, Make), XMP (creator, rights, credit,
//! description), IPTC (credit, keywords) and an Adobe RGB profile, tagged at test time with
//! exiftool (Debian's libimage-exiftool-perl; profiles from icc-profiles-free: scripts/setup.sh),
//! encoded to JPEG, PNG, WebP and AVIF (IPTC-IIM in JPEG only: the others carry the IPTC rights
//! through the XMP), downloaded, and read back with exiftool, a reader independent of ours.

use crate::support::*;
use functions::registry::ENCODE;
use serde_json::{json, Map, Value};
use std::process::Command;

const PROFILE: &str = "/usr/share/color/icc/compatibleWithAdobeRGB1998.icc";
const PROFILE_DESCRIPTION: &str = "Compatible with Adobe RGB (1998)";

/// `args` run by exiftool on a file holding `bytes`; the file afterwards.
fn exiftool(bytes: &[u8], args: &[&str]) -> (Vec<u8>, Vec<u8>) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("image");
    std::fs::write(&path, bytes).expect("write the image");
    let out = Command::new("exiftool").args(args).arg(&path).output().expect("exiftool runs (scripts/setup.sh installs it)");
    assert!(out.status.success(), "exiftool {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    (out.stdout, std::fs::read(&path).expect("read the image back"))
}

/// A 64×48 JPEG stored on its side (Orientation 6) with every kind of metadata.
fn tagged_jpeg() -> Vec<u8> {
    let icc = format!("-ICC_Profile<={PROFILE}");
    let args = [
        "-q",
        "-overwrite_original",
        "-Orientation#=6",
        "-GPSLatitude=48.85",
        "-GPSLatitudeRef=N",
        "-GPSLongitude=2.35",
        "-GPSLongitudeRef=E",
        "-Artist=Ada Lovelace",
        "-Copyright=(c) Ada Lovelace",
        "-Make=Camera",
        "-XMP-dc:Creator=Ada Lovelace",
        "-XMP-dc:Rights=(c) Ada Lovelace",
        "-XMP-photoshop:Credit=Analytical Press",
        "-XMP-dc:Description=a secret place",
        "-IPTC:Credit=Analytical Press",
        "-IPTC:Keywords=secret",
        &icc,
    ];
    exiftool(&jpeg_fixture(64, 48), &args).1
}

/// The tags exiftool reads from `bytes`, as `Group:Tag` with numeric values.
fn tags(bytes: &[u8]) -> Map<String, Value> {
    let (json, _) = exiftool(bytes, &["-j", "-G", "-n"]);
    let mut all: Vec<Map<String, Value>> = serde_json::from_slice(&json).expect("exiftool -j output");
    all.pop().expect("one file")
}

fn groups(tags: &Map<String, Value>, prefixes: &[&str]) -> Vec<String> {
    tags.keys().filter(|k| prefixes.iter().any(|p| k.starts_with(p))).cloned().collect()
}

fn gps(tags: &Map<String, Value>) -> Vec<String> {
    tags.keys().filter(|k| k.contains("GPS")).cloned().collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn metadata_and_icc_policies_read_back_with_exiftool_from_jpeg_png_webp_and_avif_outputs() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let source = tagged_jpeg();
    let read = tags(&source);
    assert_eq!((read.get("EXIF:Orientation"), read.get("IPTC:Credit")), (Some(&json!(6)), Some(&json!("Analytical Press"))));
    let image = app.upload_ok(&token, source, "image/jpeg").await["id"].as_str().expect("id").to_string();

    let policies = [json!({"metadata": "strip"}), json!({"metadata": "keep"}), json!({"metadata": "copyright"}), json!({"icc": "keep"})];
    let mut tasks = Vec::new();
    for format in ["jpeg", "png", "webp", "avif"] {
        for policy in &policies {
            let mut step = json!({"op": ENCODE, "format": format});
            step.as_object_mut().expect("object").extend(policy.as_object().expect("policy").clone());
            tasks.push((format, policy.clone(), app.run_chain(&token, &image, json!([step])).await));
        }
    }
    for (format, policy, task) in tasks {
        let id = task["id"].as_str().expect("id");
        let done = app.wait_for_task(&token, id, TASK_DEADLINE).await;
        assert_eq!(done["status"], "succeeded", "{format} {policy}: {done:#}");
        let out = tags(&download(&app, &token, id).await);
        let case = format!("{format} {policy}: {out:#?}");
        assert_eq!(out.get("ExifTool:Warning"), None, "exiftool reads a sound file: {case}");
        assert_eq!(out.get("Composite:ImageSize"), Some(&json!("48 64")), "upright: {case}");
        match policy.as_object().and_then(|p| p.get("metadata")).and_then(Value::as_str) {
            Some("keep") => {
                assert_eq!(out.get("EXIF:Orientation"), Some(&json!(1)), "the pixels are upright: {case}");
                assert!(out.contains_key("EXIF:GPSLatitude") && out.contains_key("EXIF:Make"), "{case}");
                assert!(out.contains_key("XMP:Description") && out.contains_key("XMP:Credit"), "{case}");
                // IPTC has a standard place in JPEG only (APP13).
                assert_eq!(out.contains_key("IPTC:Keywords"), format == "jpeg", "{case}");
            }
            Some("copyright") => {
                assert_eq!(out.get("EXIF:Artist"), Some(&json!("Ada Lovelace")), "{case}");
                assert_eq!(out.get("EXIF:Copyright"), Some(&json!("(c) Ada Lovelace")), "{case}");
                assert_eq!(out.get("XMP:Credit"), Some(&json!("Analytical Press")), "{case}");
                assert_eq!(
                    (out.get("XMP:Creator"), out.get("XMP:Rights")),
                    (Some(&json!("Ada Lovelace")), Some(&json!("(c) Ada Lovelace"))),
                    "{case}"
                );
                if format == "jpeg" {
                    assert_eq!(out.get("IPTC:Credit"), Some(&json!("Analytical Press")), "{case}");
                }
                assert_eq!(gps(&out), Vec::<String>::new(), "{case}");
                for dropped in ["EXIF:Make", "EXIF:Orientation", "XMP:Description", "IPTC:Keywords"] {
                    assert!(!out.contains_key(dropped), "{dropped} dropped: {case}");
                }
            }
            // strip, and `icc: keep` alone (metadata defaults to strip).
            _ => {
                assert_eq!(groups(&out, &["EXIF:", "XMP:", "IPTC:"]), Vec::<String>::new(), "{case}");
                assert_eq!(gps(&out), Vec::<String>::new(), "{case}");
            }
        }
        let kept_profile = policy.get("icc") == Some(&json!("keep"));
        let description = out.get("ICC_Profile:ProfileDescription");
        assert_eq!(description, kept_profile.then(|| json!(PROFILE_DESCRIPTION)).as_ref(), "the profile only with icc keep: {case}");
    }
}
