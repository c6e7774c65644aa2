//! What a claimed step's job is told ([`StepSpec`]): the chain, the step to start reporting at,
//! the step to start executing at (after the last checkpoint: the steps since then ran in memory
//! only and are redone), and the R2 keys of its input, result and checkpoints.

use super::model::Task;
use crate::ids::ImageId;
use crate::keys;
use crate::messages::StepSpec;

impl Task {
    /// What a job claiming `step` of `image` needs: the whole chain, where to start executing
    /// (the last checkpoint), the keys to read and write.
    pub(super) fn step_spec(&self, image: usize, step: usize) -> StepSpec {
        let img = &self.images[image];
        let resume_from = self.resume_point(image, step);
        let aux = self
            .chain
            .steps()
            .iter()
            .flat_map(|s| s.aux_images())
            .filter_map(|id| ImageId::parse(id).ok())
            .map(|id| (id.to_string(), keys::original(&self.tenant, &id)))
            .collect();
        StepSpec {
            chain: self.chain.clone(),
            image,
            start: step,
            resume_from,
            peak_bytes: img.image.peak_bytes,
            aux,
            source_format: img.image.format,
            input_key: match resume_from {
                0 => keys::original(&self.tenant, &img.image.id),
                s => keys::step_output(&self.id, image, s - 1),
            },
            output_key: self.output_key(image, self.chain.len() - 1),
            cleanup: self.checkpoints(image),
        }
    }

    /// The first step a run of `step` must execute: the one after the latest checkpoint before
    /// it (steps since then kept their output in memory only), or the first step.
    fn resume_point(&self, image: usize, step: usize) -> usize {
        let steps = &self.images[image].steps[..step];
        steps.iter().rposition(|s| s.checkpoint).map_or(0, |i| i + 1)
    }

    /// Keys of the image's stored checkpoints.
    pub(super) fn checkpoints(&self, image: usize) -> Vec<String> {
        let steps = self.images[image].steps.iter().enumerate();
        steps.filter(|(_, s)| s.checkpoint).map(|(i, _)| keys::step_output(&self.id, image, i)).collect()
    }

    /// Intermediate steps write under the task; the last one writes the shareable result.
    pub(super) fn output_key(&self, image: usize, step: usize) -> String {
        if step + 1 == self.chain.len() {
            keys::result(&self.tenant, &self.images[image].image.result_key)
        } else {
            keys::step_output(&self.id, image, step)
        }
    }
}
