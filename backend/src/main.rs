//! `guichet-server`: reads configuration from the environment and serves the API.
//! `guichet-server print-schema` prints the GraphQL SDL (what `schema.graphql` must hold).

use std::net::SocketAddr;
use std::process::ExitCode;

use guichet_server::config::Config;
use guichet_server::{AppState, app, graphql, mail, notify, seed};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("print-schema") {
        print!("{}", graphql::sdl());
        return ExitCode::SUCCESS;
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    if config.json_logs {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}: {e:?}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let bind = config.bind;
    let demo = config.demo;
    let state_graphiql = config.graphiql;
    if demo && config.database_url.starts_with("postgres") {
        tracing::warn!(
            "GUICHET_DEMO=true on PostgreSQL: the demo organizer's password is public; \
             never on a production database"
        );
    }
    let state = AppState::from_config(config).await?;
    if demo {
        let created = seed::demo(&state.db).await?;
        tracing::info!(created, "demo data ready");
    }
    let sweeper = graphql::booking::spawn_sweeper(state.clone(), std::time::Duration::from_secs(5));
    let notifier = match (
        &state.config.notify_webhook_url,
        &state.config.notify_webhook_secret,
    ) {
        (Some(url), Some(secret)) => {
            let webhook = notify::Webhook::new(url, secret)?;
            Some(notify::spawn_worker(
                state.clone(),
                webhook,
                std::time::Duration::from_secs(2),
            ))
        }
        _ => {
            tracing::info!("GUICHET_NOTIFY_WEBHOOK_URL unset: notifications wait in the outbox");
            None
        }
    };
    let mailer = match (&state.config.smtp_url, &state.config.mail_from) {
        (Some(url), Some(from)) => {
            let templates = mail::Templates::load(state.config.mail_templates_dir.as_deref())?;
            let mailer = mail::Mailer::new(url, from, templates)?;
            Some(notify::spawn_mail_worker(
                state.clone(),
                mailer,
                std::time::Duration::from_secs(2),
            ))
        }
        _ => {
            tracing::info!("GUICHET_SMTP_URL unset: no e-mail is sent");
            None
        }
    };
    let listener = tokio::net::TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    if state_graphiql {
        println!("Guichet API: http://{addr}/graphql (GraphiQL in a browser)");
    } else {
        println!("Guichet API: http://{addr}/graphql");
    }
    if demo {
        println!(
            "Demo organizer: {} / {}",
            seed::DEMO_EMAIL,
            seed::DEMO_PASSWORD
        );
    }
    let db = state.db.clone();
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown())
    .await?;
    sweeper.abort();
    if let Some(notifier) = notifier {
        notifier.abort();
    }
    if let Some(mailer) = mailer {
        mailer.abort();
    }
    db.close().await;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutting down");
}
