//! `plaza audit`: checks the audit log's hash chain directly in the store.

use super::store_args::StoreArgs;
use super::EXIT_INVALID;
use clap::Subcommand;
use std::process::ExitCode;

/// Subcommands of `plaza audit`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify the hash chain: exit 0 when intact, 1 when a record was edited, deleted or reordered.
    Verify {
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Runs an audit subcommand.
pub async fn run(cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AuditCommand::Verify { store } => {
            let services = StoreArgs::open_existing(&store.config()?).await?;
            match services.verify_audit_chain().await? {
                Ok(head) => {
                    println!("audit chain intact: {} record(s) verified", head.seq);
                    println!("head: record {} hash {}", head.seq, head.hash);
                    Ok(ExitCode::SUCCESS)
                }
                Err(b) => {
                    println!("audit chain BROKEN at record {}: {}", b.seq, b.reason);
                    Ok(ExitCode::from(EXIT_INVALID))
                }
            }
        }
    }
}
