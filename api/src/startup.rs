//! Building and running the application. `main` is a few lines around [`Application`];
//! tests build the same application on a random port.

use std::collections::HashSet;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, get, web};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;
use xinli_domain::article::ArticleRepository;
use xinli_domain::cache::Cache;
use xinli_domain::clock::{Clock, SystemClock};
use xinli_infra::accounts::AccountStore;
use xinli_infra::accounts::UserPresence;
use xinli_infra::articles::ArticleStore;
use xinli_infra::assessments::AssessmentStore;
use xinli_infra::audit::AuditStore;
use xinli_infra::cache::{MemoryCache, RedisCache};
use xinli_infra::consultations::ConsultationStore;
use xinli_infra::hotlines::{CachedHotlines, HotlineStore};
use xinli_infra::redis_link::RedisLink;
use xinli_infra::search::ArticleSearch;
use xinli_infra::signal::ChatSignal;
use xinli_infra::views::ViewBuffer;
use xinli_infra::wechat::WechatClient;

use crate::auth::token::TokenService;
use crate::config::Config;
use crate::fallback::{RouteTable, fallback};
use crate::jobs::Jobs;
use crate::request_context::request_context;
use crate::state::AppState;
use crate::{openapi, routes, seed};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot open the database: {0}")]
    Database(String),
    #[error("{0}")]
    Redis(String),
    #[error("cannot listen on {addr}: {cause}")]
    Bind { addr: String, cause: std::io::Error },
    #[error("cannot create the HTTP client: {0}")]
    Http(String),
    #[error("cannot create start-up accounts: {0}")]
    Seed(String),
    #[error("cannot build the article search index: {0}")]
    Search(String),
}

/// (method, route pattern) pairs the app has answered; tests compare them with the spec.
/// (method, route pattern, status) of every answered request, for tests that check the spec
/// declares what the server does.
pub type RouteLog = Arc<Mutex<HashSet<(String, String, u16)>>>;

/// Things tests replace; production uses the defaults.
#[derive(Clone)]
pub struct Overrides {
    pub clock: Arc<dyn Clock>,
    pub route_log: Option<RouteLog>,
}

impl Default for Overrides {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            route_log: None,
        }
    }
}

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    route_log: Option<RouteLog>,
    jobs: Arc<Jobs>,
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        Self::build_with(config, Overrides::default()).await
    }

    pub async fn build_with(config: Config, overrides: Overrides) -> Result<Self, StartupError> {
        let state = web::Data::new(build_state(config, overrides.clock).await?);
        seed::run(&state).await?;
        build_search_index(&state).await?;
        let jobs = Jobs::default();
        crate::jobs::spawn_sweeper(&jobs, state.clone());
        crate::jobs::spawn_retention(&jobs, state.clone());
        crate::jobs::spawn_outbox(&jobs, state.clone());
        crate::jobs::spawn_alert_notices(&jobs, state.clone());
        spawn_view_flusher(&jobs, state.clone());
        spawn_search_refresher(&jobs, state.clone());

        let addr = state.config.bind.clone();
        let listener = TcpListener::bind(&addr).map_err(|cause| StartupError::Bind {
            addr: addr.clone(),
            cause,
        })?;
        let port = listener
            .local_addr()
            .map_err(|cause| StartupError::Bind { addr, cause })?
            .port();

        let spec = openapi::spec_for(state.config.public_url.as_deref());
        let route_table = web::Data::new(RouteTable::from_spec(&spec));
        let recorded = overrides.route_log.clone();
        let route_log = overrides.route_log.map(web::Data::new);
        let app_state = state.clone();
        let mut server = HttpServer::new(move || {
            let mut app = App::new()
                .into_utoipa_app()
                .configure(routes::configure)
                .into_app()
                .app_data(app_state.clone())
                .app_data(route_table.clone());
            if let Some(log) = &route_log {
                app = app.app_data(log.clone());
            }
            app.service(SwaggerUi::new("/docs/{_:.*}").url("/api-docs/openapi.json", spec.clone()))
                .service(docs_redirect)
                .configure(crate::console::configure)
                .default_service(web::to(fallback))
                .wrap(from_fn(request_context))
        })
        .shutdown_timeout(10);
        if let Some(workers) = state.config.workers {
            server = server.workers(workers.max(1));
        }
        let server = server
            .listen(listener)
            .map_err(|cause| StartupError::Bind {
                addr: state.config.bind.clone(),
                cause,
            })?
            .run();
        Ok(Self {
            port,
            server,
            state,
            route_log: recorded,
            jobs: Arc::new(jobs),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The routes answered so far, when recording was asked for in [`Overrides`].
    pub fn route_log(&self) -> Option<RouteLog> {
        self.route_log.clone()
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// The background jobs, to see that they stop with the server.
    pub fn jobs(&self) -> Arc<Jobs> {
        self.jobs.clone()
    }

    /// A handle to stop the server gracefully.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped, then writes the article views still held in memory, so that a
    /// clean shutdown loses none.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        // The jobs stop with the server: a pass under way (a send, a sweep) is finished, not
        // cut, and no job starts another on a database the process is leaving.
        let late = self.jobs.stop(std::time::Duration::from_secs(5)).await;
        if late > 0 {
            tracing::warn!(
                jobs = late,
                "background jobs did not finish within 5 s at shutdown"
            );
        }
        // Through a connection opened now: the pool's may have ended with the workers'
        // runtimes (see `db::connect_fresh`). A failed write keeps its views, so a passing
        // failure (a busy database) is tried again a few times before they are given up.
        let url = &self.state.config.database_url;
        let fresh = match tokio::time::timeout(
            std::time::Duration::from_secs(2),
            xinli_infra::db::connect_fresh(url),
        )
        .await
        {
            Ok(Ok(db)) => Some(db),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "no new database connection at shutdown; writing the views through the pool");
                None
            }
            Err(_) => {
                tracing::warn!(
                    "no new database connection within 2 s at shutdown; writing the views through the pool"
                );
                None
            }
        };
        let fresh_store = fresh.clone().map(ArticleStore::new);
        let store: &dyn ArticleRepository = match &fresh_store {
            Some(store) => store,
            None => self.state.articles.as_ref(),
        };
        const ATTEMPTS: u32 = 5;
        for attempt in 1..=ATTEMPTS {
            match self.state.views.flush(store).await {
                Ok(_) => break,
                Err(e) if attempt < ATTEMPTS => {
                    tracing::warn!(error = %e, attempt, "could not write pending article views at shutdown; trying again");
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                Err(e) => {
                    tracing::error!(error = %e, "could not write pending article views at shutdown");
                }
            }
        }
        if let Some(db) = fresh {
            let _ = db.close().await;
        }
        result
    }
}

/// Writes counted article views every 5 seconds.
fn spawn_view_flusher(jobs: &Jobs, state: web::Data<AppState>) {
    jobs.spawn(|mut stopping| async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stopping.wait() => break,
            }
            if let Err(e) = state.views.flush(state.articles.as_ref()).await {
                tracing::warn!(error = %e, "could not write article views; keeping them for the next try");
            }
        }
    });
}

async fn build_search_index(state: &AppState) -> Result<(), StartupError> {
    let started = std::time::Instant::now();
    state
        .search
        .refresh(None)
        .await
        .map_err(|e| StartupError::Search(e.to_string()))?;
    tracing::info!(
        articles = state.search.len(),
        ms = started.elapsed().as_millis() as u64,
        "article search index built"
    );
    Ok(())
}

/// A safety net for the search index: every instance re-checks the database every
/// `XINLI_SEARCH_REFRESH_SECONDS`, in case a cache outage hid another instance's write
/// (normally seen on the next request).
fn spawn_search_refresher(jobs: &Jobs, state: web::Data<AppState>) {
    jobs.spawn(|mut stopping| async move {
        let mut tick = tokio::time::interval(state.config.search_refresh_every);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stopping.wait() => break,
            }
            if let Err(e) = state.search.refresh(None).await {
                tracing::warn!(error = %e, "could not refresh the article search index");
            }
        }
    });
}

/// Connects the database (running migrations), the cache and the WeChat client.
pub async fn build_state(config: Config, clock: Arc<dyn Clock>) -> Result<AppState, StartupError> {
    let db = xinli_infra::db::connect(&config.database_url)
        .await
        .map_err(|e| StartupError::Database(e.to_string()))?;
    let redis = match config.redis_settings() {
        Some(settings) => Some(
            RedisLink::connect(settings)
                .await
                .map_err(|e| StartupError::Redis(e.to_string()))?,
        ),
        None => None,
    };
    let cache: Arc<dyn Cache> = match &redis {
        Some(link) => Arc::new(RedisCache::new(link.clone())),
        None => Arc::new(MemoryCache::new(config.cache_max_bytes)),
    };
    let wechat = WechatClient::new(&config.wechat_api_base, config.wechat.clone())
        .map_err(|e| StartupError::Http(e.to_string()))?
        .with_token_cache(cache.clone());
    let accounts =
        Arc::new(AccountStore::new(db.clone()).with_bookings(config.booking, clock.clone()));
    let assessments = Arc::new(AssessmentStore::new(db.clone()));
    let consultations = Arc::new(ConsultationStore::new(db.clone()));
    let articles = Arc::new(ArticleStore::new(db.clone()));
    let search = Arc::new(
        ArticleSearch::new(articles.clone()).map_err(|e| StartupError::Search(e.to_string()))?,
    );
    let chat_signal = match redis {
        Some(link) => ChatSignal::redis(link),
        None => ChatSignal::local(),
    };
    let hotlines = Arc::new(CachedHotlines::new(
        HotlineStore::new(db.clone()),
        cache.clone(),
    ));
    let tokens = TokenService::new(config.jwt_secret_bytes(), config.access_token_ttl);
    let audit = Arc::new(AuditStore::new(db.clone()));
    let stations = Arc::new(xinli_infra::stations::StationStore::new(db.clone()));
    let bookings = Arc::new(xinli_infra::stations::BookingStore::new(db.clone()));
    let notifications = Arc::new(xinli_infra::notifications::NotificationStore::new(
        db.clone(),
    ));
    let lectures = Arc::new(xinli_infra::lectures::LectureStore::new(db.clone()));
    let surveys = Arc::new(xinli_infra::surveys::SurveyStore::new(db.clone()));
    let risk = Arc::new(xinli_infra::risk::RiskStore::new(db.clone()));
    let retention = Arc::new(xinli_infra::retention::SeaRetentionStore::new(db.clone()));
    let user_presence = UserPresence::new(accounts.clone(), cache.clone(), config.access_token_ttl);
    let wechat = Arc::new(xinli_infra::wechat::CachedCodes::new(wechat, cache.clone()));
    Ok(AppState {
        dummy_password_hash: xinli_infra::password::dummy_hash().await,
        passwords: Arc::new(xinli_infra::password::Argon2Passwords),
        markdown: Arc::new(xinli_infra::markdown::SafeHtml),
        config,
        db,
        user_presence,
        users: accounts.clone(),
        staff: accounts.clone(),
        refresh_tokens: accounts,
        hotlines,
        scales: assessments.clone(),
        assessments,
        chats: consultations.clone(),
        consultation_figures: consultations.clone(),
        consultation_privacy: consultations.clone(),
        consultations,
        retention,
        audit,
        chat_signal,
        open_polls: Default::default(),
        articles,
        stations,
        bookings,
        notifications,
        lectures,
        surveys,
        risk,
        search,
        views: Arc::new(ViewBuffer::default()),
        cache,
        wechat,
        clock,
        tokens,
    })
}

/// `/docs` → `/docs/` (Swagger UI only answers under the trailing slash).
#[get("/docs")]
async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header(("Location", "/docs/"))
        .finish()
}
