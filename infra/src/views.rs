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
    /// Held for the whole of a flush, so that one flush (the last one, at shutdown) waits for
    /// a periodic flush still writing: without it, the last flush could find nothing pending
    /// and return while the counts it should cover were not yet stored.
    writing: tokio::sync::Mutex<()>,
}

impl ViewBuffer {
    pub fn hit(&self, article: Uuid) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        *pending.entry(article).or_default() += 1;
    }

    /// Writes the pending counts. On failure they are put back, so that nothing is lost. When
    /// it returns, every view counted before the call is stored or pending again.
    pub async fn flush(&self, repo: &dyn ArticleRepository) -> Result<usize, RepoError> {
        self.flush_with(|batch| async move { repo.add_views(&batch).await })
            .await
    }

    async fn flush_with<F, Fut>(&self, write: F) -> Result<usize, RepoError>
    where
        F: FnOnce(Vec<(Uuid, u64)>) -> Fut,
        Fut: std::future::Future<Output = Result<(), RepoError>>,
    {
        let _writing = self.writing.lock().await;
        let batch: Vec<(Uuid, u64)> = {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            pending.drain().collect()
        };
        if batch.is_empty() {
            return Ok(0);
        }
        let n = batch.len();
        if let Err(e) = write(batch.clone()).await {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            for (id, n) in batch {
                *pending.entry(id).or_default() += n;
            }
            return Err(e);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    /// The shutdown flush must not return while a periodic flush is still writing the views
    /// it drained: a restart right after would read the counts without them.
    #[tokio::test]
    async fn a_flush_waits_for_one_still_writing() {
        let buffer = Arc::new(ViewBuffer::default());
        let id = Uuid::new_v4();
        for _ in 0..3 {
            buffer.hit(id);
        }
        let stored = Arc::new(Mutex::new(0u64));
        let release = Arc::new(tokio::sync::Notify::new());
        let periodic = {
            let (buffer, stored, release) = (buffer.clone(), stored.clone(), release.clone());
            tokio::spawn(async move {
                buffer
                    .flush_with(|batch| async move {
                        release.notified().await;
                        *stored.lock().unwrap() += batch.iter().map(|(_, n)| n).sum::<u64>();
                        Ok(())
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await; // the periodic flush has drained
        let last = {
            let (buffer, stored) = (buffer.clone(), stored.clone());
            tokio::spawn(async move {
                let flushed = buffer
                    .flush_with(|_| async { Ok(()) })
                    .await
                    .expect("nothing to fail");
                (flushed, *stored.lock().unwrap())
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(
            !last.is_finished(),
            "the last flush waits for the one writing"
        );
        release.notify_one();
        assert_eq!(periodic.await.unwrap().unwrap(), 1);
        assert_eq!(
            last.await.unwrap(),
            (0, 3),
            "stored before the last flush returned"
        );
    }

    #[tokio::test]
    async fn a_failed_write_keeps_the_views_for_the_next_flush() {
        let buffer = ViewBuffer::default();
        let id = Uuid::new_v4();
        buffer.hit(id);
        buffer.hit(id);
        let failed = buffer
            .flush_with(|_| async { Err(RepoError::Storage("down".into())) })
            .await;
        assert!(failed.is_err());
        buffer.hit(id);
        let mut seen = Vec::new();
        buffer
            .flush_with(|batch| {
                seen = batch;
                async { Ok(()) }
            })
            .await
            .unwrap();
        assert_eq!(seen, vec![(id, 3)]);
    }
}
