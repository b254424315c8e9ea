//! Background jobs that are not part of one request: the queue's sweep (and releasing a
//! counselor's clients, which an admin's change of their account also asks for), retention,
//! the notifications outbox, the risk-alert notices.

use std::time::Duration;

use actix_web::web;
use chrono::{DateTime, Utc};
use uuid::Uuid;
use xinli_domain::RepoError;
use xinli_domain::consultation::{self, Change, Consultation, Requeue};

use crate::state::AppState;

/// The background jobs of one application. Each runs until the application stops: the
/// server's stop tells them, a pass under way is finished rather than cut, and the stop waits
/// for them (bounded) before the last writes of shutdown.
pub struct Jobs {
    stop: tokio::sync::watch::Sender<bool>,
    running: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

/// What a job waits on between passes.
pub struct Stopping(tokio::sync::watch::Receiver<bool>);

impl Stopping {
    /// Resolves once the application is stopping.
    pub async fn wait(&mut self) {
        let _ = self.0.wait_for(|stopping| *stopping).await;
    }
}

impl Default for Jobs {
    fn default() -> Self {
        Self {
            stop: tokio::sync::watch::channel(false).0,
            running: Default::default(),
        }
    }
}

impl Jobs {
    /// Runs `job`, which is given what to wait on between its passes.
    pub fn spawn<F>(&self, job: impl FnOnce(Stopping) -> F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let handle = tokio::spawn(job(Stopping(self.stop.subscribe())));
        if let Ok(mut running) = self.running.lock() {
            running.retain(|h| !h.is_finished());
            running.push(handle);
        }
    }

    /// Tells every job to stop and waits, at most `grace` in all, for those under way.
    /// Returns how many had not finished (they are then aborted).
    pub async fn stop(&self, grace: Duration) -> usize {
        self.stop.send_replace(true);
        let handles: Vec<_> = match self.running.lock() {
            Ok(mut running) => running.drain(..).collect(),
            Err(_) => return 0,
        };
        let deadline = tokio::time::Instant::now() + grace;
        let mut late = 0;
        for mut h in handles {
            if tokio::time::timeout_at(deadline, &mut h).await.is_err() {
                h.abort();
                late += 1;
            }
        }
        late
    }

    /// Jobs still running.
    pub fn running(&self) -> usize {
        self.running
            .lock()
            .map(|r| r.iter().filter(|h| !h.is_finished()).count())
            .unwrap_or(0)
    }
}

/// Runs `pass` at start and then every `every` until the application stops; a failed pass
/// is logged and retried at the next tick.
pub fn spawn_every<F, Fut>(
    jobs: &Jobs,
    state: web::Data<AppState>,
    every: Duration,
    what: &'static str,
    pass: F,
) where
    F: Fn(web::Data<AppState>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), RepoError>> + Send,
{
    jobs.spawn(|mut stopping| async move {
        let mut tick = tokio::time::interval(every.max(Duration::from_millis(50)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stopping.wait() => break,
            }
            if let Err(e) = pass(state.clone()).await {
                tracing::warn!(error = %e, "{what} failed; retrying next tick");
            }
        }
    });
}

/// Runs [`sweep`] every `XINLI_QUEUE_SWEEP_SECONDS` on every instance.
pub fn spawn_sweeper(jobs: &Jobs, state: web::Data<AppState>) {
    let every = state.config.queue.sweep_every;
    spawn_every(jobs, state, every, "queue sweep", |s| async move {
        sweep(&s).await
    });
}

/// Expires requests that waited longer than the service allows, and takes people back from
/// counselors who did not write within the no-reply time. The rules are
/// `consultation::expires` and `consultation::no_reply`; the store only narrows the candidates.
/// Safe on several instances at once: every change is a compare-and-set.
pub async fn sweep(state: &AppState) -> Result<(), RepoError> {
    let now = state.clock.now();
    let q = state.config.queue;
    let max_wait = chrono::Duration::from_std(q.max_wait).unwrap_or(chrono::Duration::hours(2));
    for c in state
        .consultations
        .waiting_since_before(now - max_wait)
        .await?
    {
        if consultation::expires(&c, now, max_wait)
            && change(state, &c, Change::Expire, now).await?
        {
            tracing::info!(consultation_id = %c.id, "waiting request expired");
        }
    }
    let no_reply = chrono::Duration::from_std(q.no_reply).unwrap_or(chrono::Duration::minutes(5));
    for c in state
        .consultations
        .active_claimed_before(now - no_reply)
        .await?
    {
        let wrote = match c.claimed_at {
            Some(claimed) => state.chats.counselor_wrote_since(c.id, claimed).await?,
            None => false,
        };
        if consultation::no_reply(&c, wrote, now, no_reply)
            && change(state, &c, Change::Requeue(Requeue::NoReply), now).await?
        {
            tracing::info!(consultation_id = %c.id, "no reply from counselor; back to the head of the queue");
        }
    }
    Ok(())
}

/// A counselor who may no longer work (account disabled, or no longer a counselor): set
/// offline, and everyone they were serving goes back to the head of the queue at once rather
/// than waiting on someone who cannot answer.
pub async fn release_counselor(
    state: &AppState,
    counselor: Uuid,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    if let Some(s) = state
        .consultations
        .counselor_states()
        .await?
        .into_iter()
        .find(|s| s.staff_id == counselor && s.online)
    {
        state
            .consultations
            .set_counselor_state(counselor, false, s.capacity, now)
            .await?;
    }
    for c in state.consultations.active_of_counselor(counselor).await? {
        if change(state, &c, Change::Requeue(Requeue::CounselorGone), now).await? {
            tracing::info!(consultation_id = %c.id, "counselor released; back to the head of the queue");
        }
    }
    Ok(())
}

/// A change decided outside a request (with its notice, if any); `false` when the
/// consultation moved on meanwhile (another instance, the person, the counselor).
async fn change(
    state: &AppState,
    c: &Consultation,
    change: Change,
    now: DateTime<Utc>,
) -> Result<bool, RepoError> {
    let Ok(effect) = change.effect(c.status) else {
        return Ok(false);
    };
    let done = state
        .consultations
        .apply(c.id, c.status, effect, now)
        .await?
        .is_some();
    if done {
        state.chat_signal.notify(c.id).await;
    }
    Ok(done)
}

/// Enforces the retention policy (`xinli_domain::retention`) at start and then every
/// `XINLI_RETENTION_SWEEP_SECONDS`: every instance runs it; the deletes are idempotent.
pub fn spawn_retention(jobs: &Jobs, state: web::Data<AppState>) {
    let every = state.config.retention_every;
    spawn_every(jobs, state, every, "retention sweep", |s| async move {
        retention(&s).await
    });
}

/// One pass of the retention policy.
pub async fn retention(state: &AppState) -> Result<(), xinli_domain::RepoError> {
    let now = state.clock.now();
    let policy = state.config.retention;
    let chats = state
        .consultation_privacy
        .purge_chats_ended_before(policy.chats_ended_before(now))
        .await?;
    let tokens = state
        .refresh_tokens
        .purge_expired_before(policy.tokens_expired_before(now))
        .await?;
    let swept = state.retention.sweep(&policy.cutoffs(now)).await?;
    if chats > 0 || tokens > 0 || swept.total() > 0 {
        tracing::info!(
            chats,
            tokens,
            booking_contacts = swept.booking_contacts,
            waitlist = swept.waitlist,
            outbox = swept.outbox,
            comments = swept.comments,
            alert_words = swept.alert_words,
            audit = swept.audit,
            lecture_contacts = swept.lecture_contacts,
            "retention: removed what is past its keeping time"
        );
    }
    Ok(())
}

/// How long a claimed outbox row is this worker's before another instance may take it over.
const OUTBOX_LEASE_SECONDS: i64 = 60;
/// Rows claimed per pass.
const OUTBOX_BATCH: u64 = 20;

/// Sends due subscribe messages every `XINLI_OUTBOX_POLL_MS`, on every instance (the claim
/// keeps instances from sending one row twice). Without WeChat credentials nothing is sent
/// and rows wait.
pub fn spawn_outbox(jobs: &Jobs, state: web::Data<AppState>) {
    if state.config.wechat.is_none() {
        return;
    }
    spawn_claiming(jobs, state, "outbox", OUTBOX_BATCH, |s| async move {
        send_due(&s).await
    });
}

/// Runs a claiming `pass` every `XINLI_OUTBOX_POLL_MS` on this instance; a pass that claimed
/// a full `batch` runs again at once (there may be more due).
fn spawn_claiming<F, Fut>(
    jobs: &Jobs,
    state: web::Data<AppState>,
    what: &'static str,
    batch: u64,
    pass: F,
) where
    F: Fn(web::Data<AppState>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<usize, xinli_domain::RepoError>> + Send,
{
    jobs.spawn(|mut stopping| async move {
        let mut tick = tokio::time::interval(
            state
                .config
                .notifications
                .poll_every
                .max(Duration::from_millis(20)),
        );
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stopping.wait() => break,
            }
            loop {
                match pass(state.clone()).await {
                    Ok(n) if n as u64 == batch => continue,
                    Ok(_) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, job = what, "pass failed; retrying next tick");
                        break;
                    }
                }
            }
        }
    });
}

/// One pass: claim due rows, send each, store the outcome. Logs the event and the outcome,
/// never the message's values.
pub async fn send_due(state: &AppState) -> Result<usize, xinli_domain::RepoError> {
    use xinli_domain::notification::{Outcome, outcome};
    use xinli_domain::wechat::SubscribeMessage;
    let settings = &state.config.notifications;
    let now = state.clock.now();
    let claimed = state
        .notifications
        .claim_due(
            now,
            chrono::Duration::seconds(OUTBOX_LEASE_SECONDS),
            OUTBOX_BATCH,
            &settings.configured(),
        )
        .await?;
    let n = claimed.len();
    for row in claimed {
        let Some(template) = settings.template(row.event) else {
            continue;
        };
        let message = SubscribeMessage {
            touser: row.openid.clone(),
            template_id: template.template_id.clone(),
            page: template.page.clone(),
            data: template.render(&row.payload),
            miniprogram_state: settings.miniprogram_state.clone(),
        };
        // The backoff counts from the attempt's start, whatever the send took.
        let attempted = state.clock.now();
        let result = state.wechat.send_subscribe(&message).await;
        let done = outcome(&result, row.attempts, attempted);
        match done {
            Outcome::Sent => tracing::info!(event = row.event.as_str(), "notification sent"),
            other => {
                tracing::warn!(event = row.event.as_str(), outcome = ?other, "notification not sent")
            }
        }
        state
            .notifications
            .finish(row.id, done, state.clock.now())
            .await?;
    }
    Ok(n)
}

/// Posts escalated risk alerts to the supervisors' group robot (`XINLI_ALERT_WEBHOOK_URL`)
/// every `XINLI_OUTBOX_POLL_MS`, on every instance (a lease keeps two from sending one
/// notice twice); retried with the outbox's backoff. Without the URL nothing is posted: the
/// console shows escalated alerts to every supervisor either way.
pub fn spawn_alert_notices(jobs: &Jobs, state: web::Data<AppState>) {
    if state.config.alert_webhook_url.is_none() {
        return;
    }
    spawn_claiming(
        jobs,
        state,
        "alert notices",
        ALERT_NOTICE_BATCH,
        |s| async move { send_alert_notices(&s).await },
    );
}

/// Notices claimed per pass: posted one after another with WeChat's 5 s timeout, a batch
/// ends well within the 60 s lease, so that no other instance takes a row over and posts it
/// again.
const ALERT_NOTICE_BATCH: u64 = 5;

/// One pass: claim the due notices, post each, store the outcome. Logs ids and outcomes only.
pub async fn send_alert_notices(state: &AppState) -> Result<usize, xinli_domain::RepoError> {
    use secrecy::ExposeSecret;
    let Some(url) = &state.config.alert_webhook_url else {
        return Ok(0);
    };
    let now = state.clock.now();
    let claimed = state
        .risk
        .claim_notices(
            now,
            chrono::Duration::seconds(OUTBOX_LEASE_SECONDS),
            ALERT_NOTICE_BATCH,
        )
        .await?;
    let n = claimed.len();
    for (alert, attempts) in claimed {
        let attempted = state.clock.now();
        let text = xinli_domain::risk::escalation_notice(&alert, attempted);
        let result = state
            .wechat
            .send_group_robot(url.expose_secret(), &text)
            .await;
        let done = xinli_domain::notification::outcome(&result, attempts + 1, attempted);
        match done {
            xinli_domain::notification::Outcome::Sent => {
                tracing::info!(alert_id = %alert.id, "escalated alert posted to the supervisors' group")
            }
            other => {
                tracing::warn!(alert_id = %alert.id, outcome = ?other, "escalated alert not posted")
            }
        }
        state
            .risk
            .finish_notice(alert.id, done, state.clock.now())
            .await?;
    }
    Ok(n)
}
