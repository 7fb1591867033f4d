//! `hello-floor`: the floor of the app-serving benchmark (`scripts/bench-apps`). A native axum
//! handler answering `GET /` with exactly the bytes the hello example app sends
//! (`Hello from Plaza!\n`, `text/plain`), on the same HTTP stack Plaza's server uses, with no
//! sandbox, authentication or metering: what serving the hello app would cost if it were Rust
//! compiled into the server.

use clap::Parser;

/// Arguments.
#[derive(Parser)]
#[command(about = "A native axum hello handler: the floor of the app-serving benchmark")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: std::net::SocketAddr,
}

async fn hello() -> ([(axum::http::HeaderName, &'static str); 1], &'static str) {
    (
        [(axum::http::header::CONTENT_TYPE, "text/plain")],
        "Hello from Plaza!\n",
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let app = axum::Router::new().route("/", axum::routing::get(hello));
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    println!("hello-floor listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
