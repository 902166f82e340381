//! The batcher forms batches under concurrency and answers every request with its own result.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use par_core::batcher::{Batcher, BatcherConfig, BatcherError};

#[test]
fn batches_form_and_every_request_gets_its_own_answer() {
    let seen_sizes = Arc::new(Mutex::new(Vec::new()));
    let sizes = Arc::clone(&seen_sizes);
    let batcher = Batcher::spawn(
        BatcherConfig {
            max_batch: 16,
            max_wait: Duration::from_millis(2),
        },
        move |reqs: Vec<(u32, u32)>| {
            sizes.lock().unwrap().push(reqs.len());
            // A slow evaluator, as a network is: requests queue up meanwhile.
            std::thread::sleep(Duration::from_micros(500));
            reqs.into_iter()
                .map(|(t, k)| u64::from(t) * 1_000_000 + u64::from(k))
                .collect()
        },
    )
    .unwrap();
    let threads = 8;
    let per_thread = 150;
    std::thread::scope(|s| {
        for t in 0..threads {
            let b = &batcher;
            s.spawn(move || {
                for k in 0..per_thread {
                    let answer = b.submit((t, k)).unwrap();
                    assert_eq!(answer, u64::from(t) * 1_000_000 + u64::from(k));
                }
            });
        }
    });
    let stats = batcher.stats();
    assert_eq!(stats.requests, u64::from(threads * per_thread));
    let sizes = seen_sizes.lock().unwrap().clone();
    assert_eq!(sizes.iter().sum::<usize>(), (threads * per_thread) as usize);
    assert!(sizes.iter().all(|&s| (1..=16).contains(&s)));
    assert!(
        stats.max_batch() >= 4,
        "no batching happened: {:?}",
        stats.size_histogram
    );
    assert!(
        stats.mean_batch() > 2.0,
        "mean batch {}",
        stats.mean_batch()
    );
}

#[test]
fn a_failing_evaluator_answers_each_request_with_an_error_and_recovers() {
    let batcher = Batcher::spawn(
        BatcherConfig {
            max_batch: 4,
            max_wait: Duration::ZERO,
        },
        |reqs: Vec<i32>| {
            if reqs.contains(&-1) {
                panic!("bad input");
            }
            if reqs.contains(&-2) {
                return vec![];
            }
            reqs.into_iter().map(|x| x + 1).collect()
        },
    )
    .unwrap();
    assert!(matches!(
        batcher.submit(-1),
        Err(BatcherError::EvaluatorPanicked { .. })
    ));
    assert_eq!(
        batcher.submit(-2),
        Err(BatcherError::WrongBatchLength {
            expected: 1,
            got: 0
        })
    );
    assert_eq!(batcher.submit(41), Ok(42));
}

#[test]
fn a_zero_batch_size_is_rejected() {
    let r = Batcher::spawn(
        BatcherConfig {
            max_batch: 0,
            max_wait: Duration::ZERO,
        },
        |v: Vec<u8>| v,
    );
    assert!(matches!(
        r,
        Err(par_core::ExecError::Config {
            field: "max_batch",
            ..
        })
    ));
}
