//! File names of a task's outputs: after the uploaded image's name with the output's
//! extension, safe inside a quoted header value and a zip, and unique within one task.

use super::model::TaskImage;
use std::collections::HashSet;

/// The file extension for an output content type.
pub fn extension(content_type: &str) -> &'static str {
    match content_type {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "image/avif" => "avif",
        "image/gif" => "gif",
        "application/zip" => "zip",
        _ => "bin",
    }
}

/// `stem` without characters that could break a header, a path inside a zip, or a shell.
fn safe_stem(name: &str) -> String {
    // The base name only: an uploaded "photos/moon.jpg" is "moon".
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let stem = base.rsplit_once('.').map_or(base, |(stem, _)| stem);
    let safe: String = stem.chars().map(|c| if c.is_ascii_alphanumeric() || "-_ ".contains(c) { c } else { '_' }).take(100).collect();
    match safe.trim() {
        "" => "image".to_string(),
        s => s.to_string(),
    }
}

/// One name per image (in order): `<stem>.<ext>`, then `<stem>-2.<ext>`, … for repeats.
/// Images without an output yet get the name they will have as a PNG.
pub fn output_names(images: &[TaskImage]) -> Vec<String> {
    let mut taken = HashSet::new();
    images
        .iter()
        .map(|image| {
            let stem = safe_stem(&image.image.name);
            let ext = extension(image.output.as_ref().map_or("image/png", |o| o.content_type.as_str()));
            let mut n = 1;
            loop {
                let candidate = if n == 1 { format!("{stem}.{ext}") } else { format!("{stem}-{n}.{ext}") };
                if taken.insert(candidate.to_ascii_lowercase()) {
                    break candidate;
                }
                n += 1;
            }
        })
        .collect()
}

/// The single-file download name.
pub fn single_name(image_name: &str, content_type: &str) -> String {
    format!("{}.{}", safe_stem(image_name), extension(content_type))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ImageId;
    use crate::task::model::{ImageRef, Output};
    use functions::Format;

    fn image(name: &str, content_type: &str) -> TaskImage {
        TaskImage {
            image: ImageRef {
                id: ImageId::parse(&format!("img_{:032x}", 1)).expect("id"),
                name: name.into(),
                format: Format::Png,
                result_key: "k".into(),
                peak_bytes: 0,
            },
            steps: Vec::new(),
            output: Some(Output { key: "k".into(), content_type: content_type.into(), width: 1, height: 1, bytes: 1, region: None }),
        }
    }

    #[test]
    fn names_follow_the_images_with_the_output_extension_and_never_repeat() {
        let images =
            [image("Moon.JPG", "image/webp"), image("moon.png", "image/webp"), image("moon", "image/webp"), image("sun.tif", "image/jpeg")];
        assert_eq!(output_names(&images), ["Moon.webp", "moon-2.webp", "moon-3.webp", "sun.jpg"]);
    }

    #[test]
    fn hostile_names_cannot_escape_the_zip_or_the_header() {
        let images = [image("../../etc/passwd", "image/png"), image("a\"b\r\nc.png", "image/png"), image(".png", "image/png")];
        let names = output_names(&images);
        assert!(names.iter().all(|n| !n.contains('/') && !n.contains('"') && !n.contains('\n') && !n.contains("..")), "{names:?}");
        assert_eq!(names[2], "image.png");
        assert_eq!(names[0], "passwd.png");
        assert_eq!(single_name("a/b.c.jpeg", "image/jpeg"), "b_c.jpg");
    }
}
