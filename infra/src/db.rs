//! Connecting to the database: SQLite (embedded default) or PostgreSQL, chosen by URL.

use std::str::FromStr;
use std::time::Duration;

use sea_orm::sqlx::postgres::{PgConnectOptions, PgSslMode};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    RuntimeErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use xinli_migration::MigratorTrait;

pub use sea_orm::DatabaseConnection as Connection;
use xinli_domain::RepoError;
use xinli_migration::Migrator;

/// Opens the database and applies pending migrations.
///
/// SQLite gets WAL (readers never block the writer), a 5 s busy timeout and a small pool;
/// write transactions must be begun with [`begin_write`] so that SQLite takes its write lock
/// up front instead of failing with "database is locked" on upgrade (measured in STACK.md).
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let db = open(url, options(url)).await?;
    Migrator::up(&db, None).await?;
    Ok(db)
}

/// One connection of its own, opened now, without migrations: for the last write after the
/// actix workers have stopped. A pooled PostgreSQL connection opened by a request lives on
/// that worker's runtime and ends with it (its statements then fail with "A Tokio 1.x context
/// was found, but it is being shutdown"; 12 of 20 at one test's shutdown), and the pool only
/// tests connections that sat idle for 5 s.
pub async fn connect_fresh(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut opts = options(url);
    opts.max_connections(1).min_connections(0);
    open(url, opts).await
}

/// The pool of `opts`, without TLS to a database on this host (see [`plain_on_loopback`]).
/// When the server's access rules refuse that (SQLSTATE 28000: only `hostssl` lines match in
/// `pg_hba.conf`), once more as sqlx would by default, with TLS, saying so in the log.
async fn open(url: &str, opts: ConnectOptions) -> Result<DatabaseConnection, DbErr> {
    if !without_tls(url) {
        return Database::connect(opts).await;
    }
    let mut plain = opts.clone();
    plain.map_sqlx_postgres_opts(|o| o.ssl_mode(PgSslMode::Disable));
    match Database::connect(plain).await {
        Err(e) if refused_by_access_rules(&e) => {
            tracing::warn!(
                "PostgreSQL on this host refuses connections without TLS (pg_hba.conf): \
                 connecting with TLS; sslmode=require in XINLI_DATABASE_URL skips the first try"
            );
            Database::connect(opts).await
        }
        other => other,
    }
}

/// PostgreSQL refused the connection by its access rules (no `pg_hba.conf` line matches).
fn refused_by_access_rules(e: &DbErr) -> bool {
    let DbErr::Conn(RuntimeErr::SqlxError(e)) = e else {
        return false;
    };
    matches!(&**e, sea_orm::sqlx::Error::Database(d) if d.code().as_deref() == Some("28000"))
}

fn options(url: &str) -> ConnectOptions {
    let mut opts = ConnectOptions::new(url.to_owned());
    // A pooled connection is pinged before use only once it has been idle for 5 s. sqlx's
    // default pings on every checkout: one more round trip before each statement run outside
    // a transaction and before each BEGIN (sqlx also pings on release, in a task of its own;
    // that one has no option). Issue #13, three runs of each build alternately: an
    // authenticated one-row read 1,735–2,122 → 2,598–2,881 requests/s, claim → close cycles
    // +6–28 %. The cost: each connection that broke within those 5 s (a database restart; the
    // runtime of an actix worker that stopped) fails one statement, so up to the pool's size
    // of requests, instead of being replaced silently; the ping on release then discards it.
    opts.sqlx_logging(false)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire_if_idle_for(Duration::from_secs(5));
    if is_sqlite(url) {
        opts.max_connections(8)
            .min_connections(1)
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(5))
                    .foreign_keys(true)
                    .create_if_missing(true)
            });
    } else {
        opts.max_connections(16).min_connections(1);
    }
    opts
}

/// Whether the app talks to the PostgreSQL at `url` without TLS (see [`plain_on_loopback`]).
pub fn without_tls(url: &str) -> bool {
    !is_sqlite(url) && plain_on_loopback(url, std::env::var_os("PGSSLMODE").is_some())
}

/// Whether to talk to PostgreSQL without TLS: when it runs on this same host (`localhost`,
/// `127.0.0.0/8`, `::1`) and neither the URL (`sslmode=…`) nor `PGSSLMODE` says how. sqlx,
/// like libpq, otherwise prefers TLS whenever the server offers it, and Debian's server does;
/// over loopback it protects nothing (whoever can read that traffic is root on the database's
/// host) and it costs every statement twice, once in each process. Issue #13, three runs of
/// each build alternately: an authenticated one-row read (`GET /counselor/status`)
/// 2,166–2,276 → 2,810–3,537 requests/s; pgbench's claim → close loop without TLS
/// 3,769–4,209 cycles/s against 3,496–3,517 with it. `sslmode=require` in the URL keeps TLS.
fn plain_on_loopback(url: &str, sslmode_in_env: bool) -> bool {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let explicit = query
        .split('&')
        .any(|pair| matches!(pair.split('=').next(), Some("sslmode" | "ssl-mode")));
    if explicit || sslmode_in_env {
        return false;
    }
    PgConnectOptions::from_str(url).is_ok_and(|o| {
        let host = o.get_host().trim_start_matches('[').trim_end_matches(']');
        host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    })
}

pub fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// Begins a transaction that will write: `BEGIN IMMEDIATE` on SQLite, a plain `BEGIN` on
/// PostgreSQL (which locks rows, not the database).
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let sqlite = db.get_database_backend() == DbBackend::Sqlite;
    db.begin_with_options(TransactionOptions {
        isolation_level: None,
        access_mode: None,
        sqlite_transaction_mode: sqlite.then_some(SqliteTransactionMode::Immediate),
    })
    .await
}

/// Whether the database answers a trivial query; for `/readyz`.
pub async fn ping(db: &DatabaseConnection) -> Result<(), String> {
    db.ping().await.map_err(|e| e.to_string())
}

/// Translates a database error for the domain: unique violations become
/// [`RepoError::Conflict`] naming `rule`, everything else an opaque storage failure.
pub fn repo_err(rule: xinli_domain::Conflict) -> impl Fn(DbErr) -> RepoError {
    move |e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => RepoError::Conflict(rule),
        _ => storage(e),
    }
}

/// For queries where no uniqueness rule can be violated. A database that does not answer is
/// told apart from a failing query: the first is worth retrying (503), the second is a bug.
pub fn storage(e: DbErr) -> RepoError {
    if unavailable(&e) {
        RepoError::Unavailable(e.to_string())
    } else {
        RepoError::Storage(e.to_string())
    }
}

/// Whether the error says the database could not be reached, not that the query failed:
/// no connection from the pool in time, a connection refused or cut, or PostgreSQL shutting
/// down or starting (SQLSTATE class 57P, 08).
fn unavailable(e: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(sea_orm::RuntimeErr::SqlxError(s))
        | DbErr::Query(sea_orm::RuntimeErr::SqlxError(s)) => match s.as_ref() {
            Sqlx::Io(_)
            | Sqlx::Tls(_)
            | Sqlx::Protocol(_)
            | Sqlx::PoolTimedOut
            | Sqlx::PoolClosed
            | Sqlx::WorkerCrashed => true,
            Sqlx::Database(d) => d
                .code()
                .is_some_and(|c| c.starts_with("57P") || c.starts_with("08")),
            _ => false,
        },
        _ => false,
    }
}

/// Stored ids are UUID strings; a row holding anything else is corrupt.
pub fn parse_id(raw: &str) -> Result<uuid::Uuid, RepoError> {
    uuid::Uuid::parse_str(raw)
        .map_err(|_| RepoError::Storage(format!("corrupt id in row: {raw:?}")))
}

/// One page of a query plus the total count, rows mapped to domain values.
pub async fn fetch_page<E, T>(
    db: &DatabaseConnection,
    select: sea_orm::Select<E>,
    page: xinli_domain::page::PageRequest,
    map: impl Fn(E::Model) -> Result<T, RepoError>,
) -> Result<xinli_domain::page::Page<T>, RepoError>
where
    E: sea_orm::EntityTrait,
    E::Model: Sync,
{
    use sea_orm::PaginatorTrait;
    let paginator = select.paginate(db, page.page_size);
    let total = paginator.num_items().await.map_err(storage)?;
    let rows = paginator.fetch_page(page.page - 1).await.map_err(storage)?;
    Ok(xinli_domain::page::Page {
        items: rows.into_iter().map(map).collect::<Result<_, _>>()?,
        total,
        request: page,
    })
}

/// A stored value that does not parse: a storage error naming what and why.
pub fn corrupt(what: &str, e: impl std::fmt::Display) -> RepoError {
    RepoError::Storage(format!("corrupt {what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::plain_on_loopback;

    #[test]
    fn tls_is_left_out_only_on_this_host_and_only_when_nobody_asked() {
        for url in [
            "postgres://postgres@127.0.0.1:5432/xinli",
            "postgres://postgres@localhost/xinli",
            "postgres://u:p@127.0.0.2/xinli?application_name=x",
            "postgres://postgres@[::1]:5432/xinli",
        ] {
            assert!(plain_on_loopback(url, false), "{url}");
            assert!(!plain_on_loopback(url, true), "{url} with PGSSLMODE set");
        }
        for url in [
            "postgres://postgres@db.internal:5432/xinli",
            "postgres://postgres@10.0.0.5/xinli",
            "postgres://postgres@127.0.0.1/xinli?sslmode=require",
            "postgres://postgres@localhost/xinli?application_name=x&ssl-mode=verify-full",
            "not a url",
        ] {
            assert!(!plain_on_loopback(url, false), "{url}");
        }
    }
}
