//! `plaza serve`: the server, on the embedded default (SQLite under the data directory) or the
//! configured store.

use super::store_args::StoreArgs;
use anyhow::Context;
use clap::Args;
use std::net::SocketAddr;
use std::process::ExitCode;

/// The usage late-arrival window's default, in days.
const DEFAULT_LATE_ARRIVAL_DAYS: u32 = 35;
/// The window `serve --demo` uses unless one is configured: ten years.
const DEMO_LATE_ARRIVAL_DAYS: u32 = 3650;

/// Arguments of `plaza serve`. Flags override the configuration file and `PLAZA_*` variables.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [env: PLAZA_LISTEN] [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    #[command(flatten)]
    store: StoreArgs,
    /// Scale-out metering: append usage events to this NATS JetStream server, e.g.
    /// nats://127.0.0.1:4222 [env: PLAZA_METERING_BUS] [default: off, events go to the store].
    #[arg(long, value_name = "URL")]
    metering_bus: Option<String>,
    /// Create a demo org with users, teams and apps, and print the demo admin's token
    /// (fix it with PLAZA_DEMO_TOKEN).
    #[arg(long)]
    demo: bool,
}

/// Loads configuration, opens the store, and serves until Ctrl-C or SIGTERM.
pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut config = args.store.config()?;
    if let Some(l) = args.listen {
        config.server.listen = l;
    }
    if let Some(bus) = args.metering_bus {
        config.metering.bus = Some(bus);
        config.metering.check().map_err(anyhow::Error::msg)?;
    }
    init_tracing();
    let mut services = StoreArgs::open(&config).await?;
    tracing::info!(backend = services.store().backend(), "store ready");
    if let Some(bus_config) = config.metering.bus_config() {
        let bus = plaza_bus::JetStreamBus::connect(bus_config.clone())
            .await
            .context("cannot start the usage bus (metering.bus)")?;
        tracing::info!(url = %bus_config.url, stream = %bus_config.stream, "usage bus ready");
        if config.metering.embedded_consumer {
            super::consume::spawn_embedded(services.clone(), bus_config).await?;
        }
        services = services.with_usage_bus(std::sync::Arc::new(bus));
    }
    let blobs = config.open_blobs().await?;
    if args.demo {
        let token = crate::demo::seed(
            &services,
            blobs.as_ref(),
            std::env::var("PLAZA_DEMO_TOKEN").ok(),
        )
        .await?;
        println!("Demo org `demo` is ready. Demo admin token (use as `Authorization: Bearer …`):");
        println!("{}", token.expose());
    }
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let addr = listener.local_addr()?;
    println!("Plaza listening on http://{addr}");
    spawn_exception_sweeper(services.clone());
    spawn_supply_rescanner(services.clone());
    let mut server_config = config.server.clone();
    if args.demo && server_config.usage_late_arrival_days == DEFAULT_LATE_ARRIVAL_DAYS {
        // The demo accepts old usage, so the seed article's event (January 2026) is accepted
        // as written.
        server_config.usage_late_arrival_days = DEMO_LATE_ARRIVAL_DAYS;
    }
    let late_window = chrono::TimeDelta::days(i64::from(server_config.usage_late_arrival_days));
    let host = wasm_host(&config, &server_config, addr)?;
    let state = plaza_server::AppState::new(services.clone(), server_config, blobs)?
        .with_wasm_host(host.clone());
    let flusher = spawn_host_meter(services.clone(), host.clone(), late_window);
    plaza_server::serve(listener, state, shutdown_signal()).await?;
    flusher.abort();
    let flushed = host.meter.flush(&services, late_window).await;
    tracing::info!(events = flushed, "host metrics flushed");
    Ok(ExitCode::SUCCESS)
}

/// The wasm host: compiled components cached under `<data_dir>/wasm-cache`, and
/// `http://plaza.internal` reaching this server (for token exchange and usage from apps that
/// were granted egress to `plaza.internal:80`).
fn wasm_host(
    config: &crate::config::PlazaConfig,
    server: &plaza_server::ServerConfig,
    addr: SocketAddr,
) -> anyhow::Result<std::sync::Arc<plaza_server::wasm::WasmHost>> {
    let loopback = if addr.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], addr.port()))
    } else {
        addr
    };
    let runtime = plaza_runtime::Runtime::new(plaza_runtime::RuntimeConfig {
        cache_dir: Some(config.data_dir.join("wasm-cache")),
        internal_hosts: vec![plaza_runtime::InternalHost {
            authority: "plaza.internal:80".into(),
            address: loopback,
        }],
        ..Default::default()
    })
    .context("cannot start the wasm runtime")?;
    let settings = plaza_server::wasm::WasmSettings {
        max_concurrent: server.app_max_concurrent,
        max_response_bytes: server.app_max_response_bytes,
        max_request_bytes: server.body_limit_bytes as u64,
        egress_max_bytes: server.app_egress_max_bytes,
        egress_max_connections: server.app_egress_max_connections,
        max_wall: std::time::Duration::from_secs(server.request_timeout_secs)
            .saturating_sub(std::time::Duration::from_millis(250))
            .max(std::time::Duration::from_millis(100)),
        internal_url: "http://plaza.internal".into(),
    };
    Ok(std::sync::Arc::new(plaza_server::wasm::WasmHost::new(
        runtime, settings,
    )))
}

/// Every second, writes the wasm invocations' host metrics to metering.
fn spawn_host_meter(
    services: plaza_core::service::Services,
    host: std::sync::Arc<plaza_server::wasm::WasmHost>,
    late_window: chrono::TimeDelta,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            tick.tick().await;
            host.meter.flush(&services, late_window).await;
        }
    })
}

/// Every minute, records the expiry of policy exceptions that have run out (they stop applying
/// at their expiry regardless; this puts the moment in the audit log).
fn spawn_exception_sweeper(services: plaza_core::service::Services) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            match services.expire_all_exceptions().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(expired = n, "policy exceptions expired"),
                Err(e) => tracing::warn!(error = %e, "could not record expired policy exceptions"),
            }
        }
    });
}

/// Every 5 seconds, runs the queued supply-chain re-scans (after a vulnerability import or a key
/// revocation) until none is left. Jobs are durable: one a crashed server left is taken up
/// again once its lease runs out, by this server or another.
fn spawn_supply_rescanner(services: plaza_core::service::Services) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            tick.tick().await;
            loop {
                match services.run_next_supply_job().await {
                    Ok(Some(outcome)) => tracing::info!(?outcome, "supply re-scan job done"),
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "supply re-scan job could not run");
                        break;
                    }
                }
            }
        }
    });
}

/// Logs with `tracing`: `PLAZA_LOG` sets the filter (default `info`), `PLAZA_LOG_FORMAT=json`
/// switches to JSON lines.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PLAZA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if std::env::var("PLAZA_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Completes on Ctrl-C or SIGTERM.
pub(super) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received");
}
