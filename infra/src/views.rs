//! Article views are counted in memory and written in batches (every few seconds and on a
//! clean shutdown), so that reading an article never waits for a database write.

use std::collections::HashMap;
use std::sync::Mutex;

use uuid::Uuid;
use xinli_domain::RepoError;
use xinli_domain::article::ArticleRepository;

#[derive(Default)]
pub struct ViewBuffer {
    pending: Mutex<HashMap<Uuid, u64>>,
}

impl ViewBuffer {
    pub fn hit(&self, article: Uuid) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        *pending.entry(article).or_default() += 1;
    }

    /// Writes the pending counts. On failure they are put back, so that nothing is lost.
    pub async fn flush(&self, repo: &dyn ArticleRepository) -> Result<usize, RepoError> {
        let batch: Vec<(Uuid, u64)> = {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            pending.drain().collect()
        };
        if batch.is_empty() {
            return Ok(0);
        }
        if let Err(e) = repo.add_views(&batch).await {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            for (id, n) in batch {
                *pending.entry(id).or_default() += n;
            }
            return Err(e);
        }
        Ok(batch.len())
    }
}
