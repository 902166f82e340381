//! `par_core::mpi::Peers` under `mpirun` (every rank runs this program; `cargo xtask test`
//! does it with 1, 2 and 4 ranks): messages from one rank on one channel arrive in order,
//! channels and the all-gather keep their traffic apart, bad ranks and channels are errors.
//! (The loss of a rank during a wait is checked by neuroevo's `mpi_islands_rank_loss`.)

use std::process::ExitCode;

use par_core::ExecError;
use par_core::mpi::Peers;

fn run() -> Result<Vec<String>, ExecError> {
    let mut failures = Vec::new();
    let mut check = |what: &str, ok: bool| {
        if !ok {
            failures.push(what.to_string());
        }
    };
    check(
        "a channel out of range is an error",
        matches!(Peers::open(Peers::CHANNELS), Err(ExecError::Mpi(_))),
    );
    let mut a = Peers::open(3)?;
    let mut b = Peers::open(4)?;
    let (rank, size) = (a.rank(), a.size());
    let next = (rank + 1) % size;
    let previous = (rank + size - 1) % size;

    // Three values along the ring on channel 3, one on channel 4; channel 4's is read first.
    for k in 0..3u64 {
        a.send(next, &(rank as u64, k, format!("value {k} from {rank}")))?;
    }
    b.send(next, &vec![rank as f64; 5])?;
    // Everyone's point-to-point message to rank 0 on channel 3, sent before an all-gather on
    // the same channel: the all-gather must not take it.
    a.send(0, &(rank as u64, u64::MAX, "to rank 0".to_string()))?;
    let gathered: Vec<u64> = a.all_gather(&(10 * rank as u64))?;
    check(
        "the all-gather returns every rank's value in rank order",
        gathered == (0..size as u64).map(|r| 10 * r).collect::<Vec<_>>(),
    );
    let from_b: Vec<f64> = b.receive(previous)?;
    check(
        "channel 4 is apart from channel 3",
        from_b == vec![previous as f64; 5],
    );
    // With one rank, `previous` is rank 0 itself: its message to rank 0 follows the three.
    for k in 0..3u64 {
        let (from, got, text): (u64, u64, String) = a.receive(previous)?;
        check(
            "messages from one rank on one channel arrive in order",
            from == previous as u64 && got == k && text == format!("value {k} from {previous}"),
        );
    }
    if rank == 0 {
        for r in 0..size {
            let (from, k, text): (u64, u64, String) = a.receive(r)?;
            check(
                "a message sent before the all-gather is still there after it",
                from == r as u64 && k == u64::MAX && text == "to rank 0",
            );
        }
    }
    check(
        "a rank out of range is an error",
        matches!(a.send(size, &1u8), Err(ExecError::Mpi(_))),
    );
    a.flush()?;
    b.flush()?;
    let (messages, bytes) = a.sent();
    check(
        "sends are counted",
        messages >= 4 && bytes > 0 && a.busy_seconds() >= 0.0,
    );
    Ok(failures)
}

fn main() -> ExitCode {
    let rank = par_core::mpi::init().map(|(r, _)| r).unwrap_or(0);
    match run() {
        Ok(failures) if failures.is_empty() => {
            println!("rank {rank}: mpi_peers ok");
            ExitCode::SUCCESS
        }
        Ok(failures) => {
            println!("rank {rank}: mpi_peers FAILED: {failures:?}");
            ExitCode::FAILURE
        }
        Err(e) => {
            println!("rank {rank}: mpi_peers FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}
