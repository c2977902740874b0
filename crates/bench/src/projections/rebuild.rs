//! Rebuilds of every projection (or those of `--only`), once per replay buffer asked for,
//! and with `--in-memory` once more with every row held in memory and none written
//! ([`Projections::replay_in_memory`]), in interleaved rounds.

use anyhow::Context;
use sparkfeed_projections::{DEFAULT_REPLAY_BUFFER_BYTES, Projections};

use super::ProjectionsBench;
use crate::stats::mib;
use crate::usage::{Memory, process_cpu_secs};

/// One rebuild's figures.
pub(crate) struct Rebuilt {
    pub(crate) events_per_sec: f64,
    /// How far resident memory rose above where it stood when the rebuild began.
    pub(crate) peak_growth: Option<u64>,
    /// CPU seconds the whole process spent per million events replayed: steadier than
    /// events/s on a shared machine, where a neighbour's load stretches wall time.
    pub(crate) cpu_secs_per_million: Option<f64>,
}

/// How a replay in memory's label ends (`feeds, in memory`).
pub(crate) const IN_MEMORY: &str = ", in memory";

/// One projection rebuilt with one replay buffer (or replayed in memory), and its
/// rebuilds so far.
struct Variant {
    label: String,
    name: &'static str,
    /// The replay buffer, in MiB; `None` for the replay in memory.
    buffer_mb: Option<usize>,
    runs: Vec<Rebuilt>,
}

/// Every variant to rebuild, and their figures.
pub(crate) struct Rebuilds {
    projections: Projections,
    /// A projection's variants are next to each other, `per_projection` of them.
    variants: Vec<Variant>,
    per_projection: usize,
    runs: usize,
}

impl Rebuilds {
    /// The variants of `config`: each projection of `--only` (all by default) with each
    /// replay buffer, and replayed in memory with `--in-memory`.
    pub(crate) fn new(
        projections: &Projections,
        config: &ProjectionsBench,
    ) -> anyhow::Result<Self> {
        for name in &config.only {
            anyhow::ensure!(
                projections.names().contains(&name.as_str()),
                "no projection named {name} (there are {})",
                projections.names().join(", ")
            );
        }
        let buffers = if config.replay_buffer_mb.is_empty() {
            vec![DEFAULT_REPLAY_BUFFER_BYTES >> 20]
        } else {
            config.replay_buffer_mb.clone()
        };
        let mut kinds: Vec<Option<usize>> = buffers.iter().copied().map(Some).collect();
        if config.in_memory {
            kinds.push(None);
        }
        let measured = |name: &str| config.only.is_empty() || config.only.iter().any(|o| o == name);
        let variants = projections
            .names()
            .into_iter()
            .filter(|n| measured(n))
            .flat_map(|name| kinds.iter().map(move |kind| (name, *kind)))
            .map(|(name, buffer_mb)| Variant {
                label: match buffer_mb {
                    None => format!("{name}{IN_MEMORY}"),
                    Some(_) if buffers.len() == 1 => name.to_owned(),
                    Some(mb) => format!("{name} ({mb} MiB)"),
                },
                name,
                buffer_mb,
                runs: Vec::new(),
            })
            .collect();
        Ok(Self {
            projections: projections.clone(),
            variants,
            per_projection: kinds.len(),
            runs: config.runs,
        })
    }

    /// Whether projection `name` is rebuilt.
    pub(crate) fn measures(&self, name: &str) -> bool {
        self.variants.iter().any(|v| v.name == name)
    }

    /// Round `run`: every variant rebuilt once.
    pub(crate) fn round(
        &mut self,
        runtime: &tokio::runtime::Runtime,
        run: usize,
    ) -> anyhow::Result<()> {
        for i in self.order(run) {
            let variant = &mut self.variants[i];
            let before = Memory::reset_peak();
            let cpu_before = process_cpu_secs();
            let report = match variant.buffer_mb {
                Some(mb) => {
                    let projections = self.projections.clone().with_replay_buffer(mb << 20);
                    runtime.block_on(projections.rebuild(variant.name, |_, _| {}))
                }
                None => self.projections.replay_in_memory(variant.name),
            }
            .with_context(|| format!("rebuilding {}", variant.label))?;
            let cpu = cpu_before
                .zip(process_cpu_secs())
                .map(|(before, after)| (after - before) * 1e6 / report.events.max(1) as f64);
            let grew = before.and_then(|b| Some(Memory::now()?.peak.saturating_sub(b.rss)));
            tell!(
                "rebuild {} {}/{}: {:.0} events/s, {} CPU s per million events, peak resident memory +{}",
                variant.label,
                run + 1,
                self.runs,
                report.events_per_sec(),
                cpu.map_or_else(|| "n/a".into(), |c| format!("{c:.2}")),
                mib(grew)
            );
            variant.runs.push(Rebuilt {
                events_per_sec: report.events_per_sec(),
                peak_growth: grew,
                cpu_secs_per_million: cpu,
            });
        }
        Ok(())
    }

    /// The order of round `run`. Odd rounds run a projection's variants in reverse: a
    /// rebuild runs slower right after a big tree was dropped (sled reclaims it in the
    /// background), which would favour whichever variant always ran first. (Use an even
    /// --runs.)
    fn order(&self, run: usize) -> Vec<usize> {
        let per = self.per_projection;
        (0..self.variants.len())
            .map(|i| {
                let (group, within) = (i / per, i % per);
                let within = if run % 2 == 1 {
                    per - 1 - within
                } else {
                    within
                };
                group * per + within
            })
            .collect()
    }

    /// Each variant's label and rebuilds.
    pub(crate) fn into_results(self) -> Vec<(String, Vec<Rebuilt>)> {
        self.variants
            .into_iter()
            .map(|v| (v.label, v.runs))
            .collect()
    }
}
