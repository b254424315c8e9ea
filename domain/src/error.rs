//! Errors a storage adapter reports to the domain.

/// The uniqueness rules the storage enforces, so that a clash is reported by name rather
/// than by a string that can drift between the adapter and its callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// A staff username is taken (case-insensitive).
    Username,
    /// A WeChat openid already has an account (a concurrent first login).
    Openid,
    /// A refresh token's hash already exists.
    TokenHash,
    /// The user already has a waiting or active consultation.
    OpenConsultation,
    /// A screening join code is taken (regenerate it).
    ScreeningCode,
    /// The person already answered this survey.
    SurveyAnswered,
    /// The consultation already has an open risk alert at this level.
    OpenAlert,
    /// The person already took this scale in this screening.
    AlreadyScreened,
}

/// What went wrong in a repository. Adapters translate their own errors into this, so the
/// domain and the HTTP layer never see SQL text.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// A uniqueness rule was violated; the payload names the rule, so that the caller can
    /// tell the user which field clashes.
    #[error("unique constraint violated: {0:?}")]
    Conflict(Conflict),
    /// The store did not answer (connection refused or lost, no connection free in time): a
    /// moment later the same request may well succeed. The message is for logs only.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else: bad SQL, corrupt row. The message is for logs only.
    #[error("storage failure: {0}")]
    Storage(String),
}
