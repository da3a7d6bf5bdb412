//! `reescan serve DIR [--listen ADDR] [--token TOKEN]`: the station and its web page in one
//! process.
//!
//! The station runs on a thread of its own exactly as `watch` runs it (the same poll loop,
//! log lines and journal; results CSV `DIR/.reescan/results.csv` unless `--out`), and tells
//! the web page after each poll that decided something; the web page
//! ([`reescan::serve`]) runs on tokio. Start-up prints the station line and then
//! `reescan serve: listening on http://ADDR/` on stderr (with `--listen 127.0.0.1:0` the
//! port the system chose). A non-loopback address without `--token` is refused at start
//! (exit 2). Ctrl-C or SIGTERM stops both; a station that cannot record a decision stops
//! the process (exit 1), as `watch` does.

use crate::cli::args::ServeArgs;
use crate::cli::cmd::watch;
use reescan::serve::{check_listen, App, ServeConfig, Setup};
use reescan::station::journal::STATE_DIR;
use reescan::station::Event;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Run `reescan serve`.
pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config = ServeConfig::default();
    check_listen(&args.listen, args.token.as_deref(), &config)
        .map_err(|e| crate::cli::input::input_error(anyhow::Error::msg(e)))?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.dir.join(STATE_DIR).join("results.csv"));
    let (mut station, (screener, follow_today)) =
        watch::open(&args.dir, &out, &args.station, "serve")?;
    let app = App::new(Setup {
        dir: args.dir.clone(),
        screener,
        follow_today,
        rules_path: args.station.rules.clone(),
        instrument_path: args.station.instrument.clone(),
        token: args.token.clone(),
        listen: args.listen,
        config,
    })
    .map_err(|e| anyhow::Error::msg(e.to_string()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(2)
        .build()?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(args.listen))
        .map_err(|e| anyhow::anyhow!("--listen {}: {e}", args.listen))?;
    let bound = listener.local_addr()?;
    eprintln!("reescan serve: listening on http://{bound}/");

    let stop = Arc::new(AtomicBool::new(false));
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<anyhow::Result<()>>();
    let station_thread = {
        let app = app.clone();
        let stop = stop.clone();
        let limits = watch::Limits {
            poll_ms: args.station.poll_ms,
            max_scans: None,
            once: false,
        };
        std::thread::Builder::new()
            .name("station".into())
            .spawn(move || {
                let ran = watch::poll_loop(&mut station, &limits, |poll| {
                    if poll.events.iter().any(|e| matches!(e, Event::Decided(_))) {
                        if let Err(e) = app.refresh() {
                            eprintln!("reescan serve: reading the journal: {e}");
                        }
                    }
                    !stop.load(Ordering::Relaxed)
                });
                if let Err(e) = &ran {
                    app.station_stopped(format!("{e:#}"));
                }
                let _ = done_tx.send(ran);
            })?
    };
    let router = app.router();
    let served: anyhow::Result<()> = runtime.block_on(async move {
        let server = axum::serve(listener, router);
        tokio::select! {
            r = server => r.map_err(anyhow::Error::from),
            r = done_rx => match r {
                Ok(Err(e)) => Err(e.context("the station stopped")),
                _ => Ok(()),
            },
            () = shutdown_signal() => Ok(()),
        }
    });
    stop.store(true, Ordering::Relaxed);
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    let _ = station_thread.join();
    served?;
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return ctrl_c.await,
            };
        tokio::select! {
            () = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await;
}
