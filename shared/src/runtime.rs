//! The tokio runtime every binary runs on, with room on its stacks.
//!
//! Security Hub's finding type is large (hundreds of optional resource details), and the SDK
//! deserializes it in frames that overflow a debug build's 8 MiB main thread. Every binary's
//! `main` runs its future here: on a thread of its own and on workers with [`STACK_BYTES`]
//! each (reserved, not resident: only the pages a run touches count).

use std::future::Future;

/// The stack of the main future's thread and of every worker.
pub const STACK_BYTES: usize = 64 << 20;

/// Runs the future `make` returns to completion on a multi-thread runtime, and returns its
/// output. Panics (as `#[tokio::main]` does) when the runtime cannot start.
pub fn run<F>(make: impl FnOnce() -> F + Send + 'static) -> F::Output
where
    F: Future + 'static,
    F::Output: Send + 'static,
{
    #[allow(clippy::expect_used)]
    std::thread::Builder::new()
        .name("main-run".into())
        .stack_size(STACK_BYTES)
        .spawn(move || {
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_stack_size(STACK_BYTES)
                .build()
                .expect("the tokio runtime starts")
                .block_on(make())
        })
        .expect("the main thread starts")
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}
