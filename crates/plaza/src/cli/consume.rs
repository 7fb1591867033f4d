//! `plaza consume-usage`: the consumer of the scale-out metering mode. It takes usage events
//! from the NATS JetStream stream (`metering.bus`) in batches and writes them to the store, one
//! transaction per org per batch, acking them only after the commit. Several may run at once
//! (they share one durable consumer); one killed mid-batch loses nothing, and what it had
//! committed but not acked comes back as duplicates the store ignores. `plaza serve` runs one
//! in-process unless `metering.embedded_consumer = false`.

use super::store_args::StoreArgs;
use anyhow::Context;
use clap::Args;
use plaza_core::service::Services;
use std::process::ExitCode;

/// Arguments of `plaza consume-usage`.
#[derive(Debug, Args)]
pub struct ConsumeArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The NATS JetStream server, e.g. nats://127.0.0.1:4222 [env: PLAZA_METERING_BUS].
    #[arg(long, value_name = "URL")]
    metering_bus: Option<String>,
    /// Most events taken per batch.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    batch: usize,
}

/// Consumes until Ctrl-C or SIGTERM.
pub async fn run(args: ConsumeArgs) -> anyhow::Result<ExitCode> {
    let mut config = args.store.config()?;
    if let Some(bus) = args.metering_bus {
        config.metering.bus = Some(bus);
        config.metering.check().map_err(anyhow::Error::msg)?;
    }
    let Some(mut bus_config) = config.metering.bus_config() else {
        anyhow::bail!(
            "no usage bus is configured; set metering.bus (PLAZA_METERING_BUS or --metering-bus) to nats://HOST:PORT"
        );
    };
    if args.batch == 0 {
        anyhow::bail!("--batch must be at least 1");
    }
    bus_config.batch = args.batch;
    super::serve::init_tracing();
    let services = StoreArgs::open(&config).await?;
    let consumer = plaza_bus::UsageConsumer::connect(bus_config.clone())
        .await
        .context("cannot start the usage consumer")?;
    println!(
        "Consuming usage from stream {} (durable {}) on {}",
        bus_config.stream, bus_config.durable, bus_config.url
    );
    consumer
        .run(&services, super::serve::shutdown_signal())
        .await?;
    Ok(ExitCode::SUCCESS)
}

/// Starts the in-process consumer of `plaza serve` (it runs until the process ends).
pub async fn spawn_embedded(
    services: Services,
    config: plaza_bus::BusConfig,
) -> anyhow::Result<()> {
    let consumer = plaza_bus::UsageConsumer::connect(config)
        .await
        .context("cannot start the embedded usage consumer")?;
    tokio::spawn(async move {
        if let Err(e) = consumer.run(&services, std::future::pending::<()>()).await {
            tracing::error!(error = %e, "the embedded usage consumer stopped");
        }
    });
    tracing::info!("embedded usage consumer running");
    Ok(())
}
