//! Errors a storage adapter reports to the domain.

/// What went wrong in a repository. Adapters translate their own errors into this, so the
/// domain and the HTTP layer never see SQL text.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// A uniqueness rule was violated; the payload names the rule (for example `"username"`),
    /// so that the caller can tell the user which field clashes.
    #[error("unique constraint violated: {0}")]
    Conflict(&'static str),
    /// Anything else: connection lost, bad SQL, corrupt row. The message is for logs only.
    #[error("storage failure: {0}")]
    Storage(String),
}
