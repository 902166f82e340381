//! The one timing helper every scenario uses: interleaved repetitions, medians, paired ratios.
//!
//! On a shared machine one measurement moves by several per cent with what the host gives the
//! process at that moment. Three rules keep the published figures honest:
//!
//! 1. **Interleave.** The variants being compared run in turn within each repetition
//!    (sequential, then 2 threads, then sequential, ...), with the order rotated from one
//!    repetition to the next, so that a slow spell of the host hits every variant alike.
//! 2. **Median, with min and max beside it.** The headline of repeated measurements is their
//!    median ([`Stats::median`]); the spread is reported, never hidden. No best-of statistic is a
//!    headline anywhere.
//! 3. **Ratios are paired.** A speed-up or an efficiency is the median of the per-repetition
//!    ratios (the two variants of one repetition ran back to back under the same conditions),
//!    not a ratio of two separately chosen statistics ([`Interleaved::speedup`]).
//!
//! ```
//! use par_core::bench::Interleave;
//!
//! let mut work = 0u64;
//! let runs = Interleave::new(5)
//!     .timed("one", || work = (0..10_000u64).fold(work, |a, b| a ^ b.wrapping_mul(31)))
//!     .sampled("fixed", || 0.25)
//!     .run();
//! assert_eq!(runs.stats("fixed").median, 0.25);
//! assert_eq!(runs.stats("one").reps, 5);
//! assert!(runs.stats("one").min <= runs.stats("one").median);
//! ```

use std::time::Instant;

use serde::{Deserialize, Serialize};

/// Median, minimum and maximum of repeated measurements, and how many there were.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// The median: the middle value, or the mean of the two middle values for an even count.
    pub median: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
    /// The number of repetitions.
    pub reps: usize,
}

impl Stats {
    /// Statistics of `samples`, or `None` when there are none or one is not finite (a failed
    /// measurement is never summarised as if it had succeeded).
    pub fn from_samples(samples: &[f64]) -> Option<Self> {
        if samples.is_empty() || samples.iter().any(|s| !s.is_finite()) {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        Some(Self {
            median: median_of_sorted(&sorted),
            min: sorted[0],
            max: sorted[n - 1],
            reps: n,
        })
    }

    /// The same statistics with every value multiplied by `factor` (a unit change); a negative
    /// factor swaps min and max.
    #[must_use]
    pub fn scaled(self, factor: f64) -> Self {
        let (a, b) = (self.min * factor, self.max * factor);
        Self {
            median: self.median * factor,
            min: a.min(b),
            max: a.max(b),
            reps: self.reps,
        }
    }
}

/// The median of an already sorted, non-empty slice.
pub(crate) fn median_of_sorted(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
    }
}

/// Runs `f` once and returns its value and its wall time in seconds.
pub fn time<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let start = Instant::now();
    let value = f();
    (value, start.elapsed().as_secs_f64())
}

/// Runs `f` once and returns its value, its wall time and the CPU time the whole process used
/// meanwhile (all threads; NaN where the platform does not say), in seconds.
pub fn time_with_cpu<T>(f: impl FnOnce() -> T) -> (T, f64, f64) {
    let cpu = || process_cpu_seconds().unwrap_or(f64::NAN);
    let c0 = cpu();
    let (value, wall) = time(f);
    (value, wall, cpu() - c0)
}

/// The load average over 1, 5 and 15 minutes (`/proc/loadavg`), as `"0.52 0.61 0.70"`, or
/// `"unknown"`: how busy the machine was, to read a timing against.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// The CPU time this process has used so far, in seconds (all its threads), or `None` where
/// the platform does not say.
pub fn process_cpu_seconds() -> Option<f64> {
    cpu_clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

/// The CPU time the calling thread has used so far, in seconds, or `None` where the platform
/// does not say.
pub fn thread_cpu_seconds() -> Option<f64> {
    cpu_clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

fn cpu_clock(clock: libc::clockid_t) -> Option<f64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec and the clock id is a constant libc defines.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    (rc == 0).then_some(ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9)
}

type Variant<'a> = (String, Box<dyn FnMut() -> f64 + 'a>);

/// A set of variants to measure in interleaved repetitions (the rules are in the [`bench`](crate::bench) module docs).
///
/// Each variant is a closure that produces one sample per call: its wall time
/// ([`Interleave::timed`]) or a number it measured itself ([`Interleave::sampled`]: the wall
/// time of a run report without its set-up, a CPU time, a rate).
#[must_use = "an Interleave measures nothing until `run` is called"]
pub struct Interleave<'a> {
    reps: usize,
    warmup: usize,
    variants: Vec<Variant<'a>>,
}

impl<'a> Interleave<'a> {
    /// `reps` repetitions of every variant (at least one).
    pub fn new(reps: usize) -> Self {
        Self {
            reps: reps.max(1),
            warmup: 0,
            variants: Vec::new(),
        }
    }

    /// Runs every variant `rounds` times before measuring, discarding those samples (caches,
    /// lazily built pools, page faults of first use).
    pub fn warmup(mut self, rounds: usize) -> Self {
        self.warmup = rounds;
        self
    }

    /// A variant whose sample is the wall time of one call of `f`, in seconds.
    pub fn timed(self, name: impl Into<String>, mut f: impl FnMut() + 'a) -> Self {
        self.sampled(name, move || time(&mut f).1)
    }

    /// A variant whose sample is the number `f` returns.
    pub fn sampled(mut self, name: impl Into<String>, f: impl FnMut() -> f64 + 'a) -> Self {
        let name = name.into();
        assert!(
            self.variants.iter().all(|(n, _)| *n != name),
            "Interleave: variant `{name}` declared twice"
        );
        self.variants.push((name, Box::new(f)));
        self
    }

    /// Runs the repetitions: in repetition `r` the variants run in their declared order
    /// rotated by `r`, so that each takes each position in turn.
    pub fn run(mut self) -> Interleaved {
        let k = self.variants.len();
        let mut samples = vec![Vec::with_capacity(self.reps); k];
        for _ in 0..self.warmup {
            for (_, f) in &mut self.variants {
                f();
            }
        }
        for rep in 0..self.reps {
            for j in 0..k {
                let v = (j + rep) % k;
                let sample = (self.variants[v].1)();
                samples[v].push(sample);
            }
        }
        Interleaved {
            names: self.variants.into_iter().map(|(n, _)| n).collect(),
            samples,
        }
    }
}

/// The samples of an [`Interleave`] run: `samples(v)[r]` is variant `v` in repetition `r`.
#[derive(Debug, Clone, PartialEq)]
pub struct Interleaved {
    names: Vec<String>,
    samples: Vec<Vec<f64>>,
}

impl Interleaved {
    /// Builds a result from samples measured elsewhere (one row per variant, equal lengths),
    /// for instance repetitions whose variants had to be driven by hand.
    ///
    /// # Panics
    /// When the rows differ in length or a name repeats.
    pub fn from_samples(rows: Vec<(String, Vec<f64>)>) -> Self {
        let reps = rows.first().map_or(0, |r| r.1.len());
        assert!(
            rows.iter().all(|r| r.1.len() == reps),
            "Interleaved::from_samples: every variant needs the same number of repetitions"
        );
        let (names, samples): (Vec<String>, Vec<Vec<f64>>) = rows.into_iter().unzip();
        for (i, n) in names.iter().enumerate() {
            assert!(
                !names[..i].contains(n),
                "Interleaved::from_samples: `{n}` twice"
            );
        }
        Self { names, samples }
    }

    /// The variants' names, in declared order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The samples of variant `name`, one per repetition.
    ///
    /// # Panics
    /// When no variant has that name (a bug in the scenario).
    pub fn samples(&self, name: &str) -> &[f64] {
        match self.names.iter().position(|n| n == name) {
            Some(i) => &self.samples[i],
            None => panic!(
                "no variant `{name}` in this measurement (variants: {})",
                self.names.join(", ")
            ),
        }
    }

    /// Median, min and max of variant `name`.
    ///
    /// # Panics
    /// When no variant has that name, or a sample is not finite.
    pub fn stats(&self, name: &str) -> Stats {
        Stats::from_samples(self.samples(name))
            .unwrap_or_else(|| panic!("variant `{name}` has a sample that is not finite"))
    }

    /// Statistics of the per-repetition ratios `numerator[r] / denominator[r]`.
    ///
    /// # Panics
    /// When a name is unknown or a ratio is not finite.
    pub fn ratio(&self, numerator: &str, denominator: &str) -> Stats {
        let ratios: Vec<f64> = self
            .samples(numerator)
            .iter()
            .zip(self.samples(denominator))
            .map(|(a, b)| a / b)
            .collect();
        Stats::from_samples(&ratios).unwrap_or_else(|| {
            panic!("a ratio {numerator} / {denominator} is not finite: {ratios:?}")
        })
    }

    /// The speed-up of `variant` over `baseline` when samples are times: the median of
    /// `baseline[r] / variant[r]` over the repetitions.
    pub fn speedup(&self, baseline: &str, variant: &str) -> Stats {
        self.ratio(baseline, variant)
    }

    /// The parallel efficiency of `variant` on `workers` workers over `baseline` (samples are
    /// times): the median of `baseline[r] / (workers variant[r])`.
    pub fn efficiency(&self, baseline: &str, variant: &str, workers: usize) -> Stats {
        self.speedup(baseline, variant)
            .scaled(1.0 / workers.max(1) as f64)
    }
}

/// Median, min and max of `reps` wall times of `f` (a single variant: nothing to interleave
/// with).
pub fn repeat(reps: usize, f: impl FnMut()) -> Stats {
    Interleave::new(reps).timed("f", f).run().stats("f")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    #[test]
    fn stats_take_the_median_and_keep_the_spread() {
        let s = Stats::from_samples(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.reps), (2.0, 1.0, 3.0, 3));
        let even = Stats::from_samples(&[4.0, 1.0, 2.0, 3.0]).unwrap();
        assert_eq!(even.median, 2.5);
        assert!(Stats::from_samples(&[]).is_none());
        assert!(Stats::from_samples(&[1.0, f64::NAN]).is_none());
        let ms = s.scaled(1e3);
        assert_eq!((ms.median, ms.min, ms.max), (2000.0, 1000.0, 3000.0));
        let neg = s.scaled(-1.0);
        assert_eq!((neg.min, neg.max), (-3.0, -1.0));
    }

    #[test]
    fn variants_alternate_and_rotate_within_repetitions() {
        let order = RefCell::new(Vec::new());
        let runs = Interleave::new(3)
            .warmup(1)
            .sampled("a", || {
                order.borrow_mut().push('a');
                1.0
            })
            .sampled("b", || {
                order.borrow_mut().push('b');
                2.0
            })
            .sampled("c", || {
                order.borrow_mut().push('c');
                3.0
            })
            .run();
        let order: String = order.into_inner().into_iter().collect();
        // Warm-up abc, then abc, bca, cab.
        assert_eq!(order, "abcabcbcacab");
        assert_eq!(runs.samples("b"), [2.0, 2.0, 2.0]);
        assert_eq!(runs.names(), ["a", "b", "c"]);
    }

    #[test]
    fn ratios_are_paired_per_repetition_not_ratios_of_extremes() {
        // Sequential times and parallel times of three repetitions; the host was slow in the
        // second one for both. Paired speed-ups: 2.0, 1.5, 1.8 -> median 1.8. The ratio of the
        // best times would be 1.0 / 0.5 = 2.0: flattering.
        let seq = [1.0, 3.0, 1.8];
        let par = [0.5, 2.0, 1.0];
        let mut i = 0;
        let mut j = 0;
        let runs = Interleave::new(3)
            .sampled("seq", || {
                i += 1;
                seq[i - 1]
            })
            .sampled("par", || {
                j += 1;
                par[j - 1]
            })
            .run();
        let s = runs.speedup("seq", "par");
        assert!((s.median - 1.8).abs() < 1e-12, "{s:?}");
        assert!((s.min - 1.5).abs() < 1e-12 && (s.max - 2.0).abs() < 1e-12);
        let e = runs.efficiency("seq", "par", 2);
        assert!((e.median - 0.9).abs() < 1e-12);
    }

    #[test]
    fn timed_variants_measure_wall_time() {
        let s = repeat(3, || {
            std::thread::sleep(std::time::Duration::from_millis(2))
        });
        assert_eq!(s.reps, 3);
        assert!(s.min >= 0.002, "{s:?}");
    }

    #[test]
    #[should_panic(expected = "no variant `x`")]
    fn unknown_variants_are_named() {
        let runs = Interleave::new(1).sampled("a", || 1.0).run();
        let _ = runs.stats("x");
    }

    #[test]
    fn samples_measured_elsewhere_can_be_summarised() {
        let runs = Interleaved::from_samples(vec![
            ("a".into(), vec![2.0, 4.0]),
            ("b".into(), vec![1.0, 1.0]),
        ]);
        assert_eq!(runs.ratio("a", "b").median, 3.0);
    }

    #[test]
    fn wall_and_cpu_time_are_measured_together() {
        let (v, wall, cpu) =
            time_with_cpu(|| (0..2_000_000u64).fold(0u64, |a, b| a ^ b.rotate_left(7)));
        std::hint::black_box(v);
        assert!(wall > 0.0 && cpu > 0.0, "{wall} {cpu}");
        let load = load_average();
        assert!(load == "unknown" || load.split(' ').count() == 3, "{load}");
    }

    #[test]
    fn cpu_clocks_advance() {
        let (p0, t0) = (
            process_cpu_seconds().unwrap(),
            thread_cpu_seconds().unwrap(),
        );
        let mut x = 1u64;
        for i in 0..3_000_000u64 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(process_cpu_seconds().unwrap() > p0);
        assert!(thread_cpu_seconds().unwrap() > t0);
    }
}
