//! The R2 key layout. Keys are deterministic so that a redelivered step overwrites its own
//! output instead of creating a second one.

use crate::ids::{ImageId, TaskId, TenantId};

/// An uploaded original, under its tenant so that no other tenant's id can reach it.
pub fn original(tenant: &TenantId, image: &ImageId) -> String {
    format!("images/{tenant}/{image}")
}

/// An upload being received: streamed here while it is hashed, then copied under
/// [`original`] with its record (R2 metadata is written with the object, and the hash is only
/// known at the end of the stream).
pub fn staging(tenant: &TenantId, image: &ImageId) -> String {
    format!("staging/{tenant}/{image}")
}

/// The output of step `step` for the task's `index`-th image.
pub fn step_output(task: &TaskId, index: usize, step: usize) -> String {
    format!("tasks/{task}/{index}/{step}")
}

/// A finished image's result, addressed by (its bytes, the chain) so identical requests share it.
pub fn result(tenant: &TenantId, result_key: &str) -> String {
    format!("results/{tenant}/{result_key}")
}

/// Every result made from the bytes with this sha256 (see [`result`]).
pub fn results_of(tenant: &TenantId, sha256: &str) -> String {
    format!("results/{tenant}/{sha256}/")
}

/// A marker that the edge cache holds a rendition of `image` under the key hashed `edge`: the
/// edge cache cannot be listed, so deleting the image lists these to purge it (see
/// `render::edge`).
pub fn edge_marker(tenant: &TenantId, image: &ImageId, edge: &str) -> String {
    format!("edge/{tenant}/{image}/{edge}")
}

/// Every edge marker of `image` (see [`edge_marker`]).
pub fn edge_markers_of(tenant: &TenantId, image: &ImageId) -> String {
    format!("edge/{tenant}/{image}/")
}

/// Everything stored for one task (its checkpoints and zip), deleted together by retention.
pub fn task_prefix(task: &TaskId) -> String {
    format!("tasks/{task}/")
}

/// The zip of a task's outputs.
pub fn archive(task: &TaskId) -> String {
    format!("tasks/{task}/outputs.zip")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_deterministic_and_scoped() {
        let tenant = TenantId::parse("alice").expect("tenant");
        let image = ImageId::parse("img_0123456789abcdef0123456789abcdef").expect("id");
        assert_eq!(original(&tenant, &image), "images/alice/img_0123456789abcdef0123456789abcdef");
        let task = TaskId::parse("task_0123456789abcdef0123456789abcdef").expect("id");
        assert_eq!(step_output(&task, 2, 1), step_output(&task, 2, 1));
        assert_ne!(step_output(&task, 2, 1), step_output(&task, 1, 2));
    }
}
