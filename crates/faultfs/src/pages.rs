//! One regular file's volatile state: its durable backing file overlaid with dirty pages.
//!
//! Invariants:
//! - `floor <= len`: the backing file's bytes at `min(durable_len, floor)` and beyond are
//!   invisible (they read as zeros), because a truncation since the last sync cut them off.
//! - A dirty page holds the page's whole volatile content; its bytes at `len` and beyond
//!   are zero, so growing the file again shows zeros there.
//! - Nothing here writes the backing file except [`Volatile::sync`] and [`Volatile::cut`].

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use crate::rng::Rng;

/// The page size, and the unit of a torn write.
pub(crate) const PAGE: u64 = 4096;
const PAGE_BYTES: usize = 4096;

/// Where a file's durable bytes live: the backing file, or a `Vec` in unit tests.
pub(crate) trait Backing {
    fn read_exact_at(&mut self, buf: &mut [u8], offset: u64) -> io::Result<()>;
    fn write_all_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()>;
    fn set_len(&mut self, len: u64) -> io::Result<()>;
}

impl Backing for File {
    fn read_exact_at(&mut self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        FileExt::read_exact_at(self, buf, offset)
    }
    fn write_all_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()> {
        FileExt::write_all_at(self, buf, offset)
    }
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        File::set_len(self, len)
    }
}

/// What a cut did to one file.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CutOutcome {
    /// Bytes of dirty pages the cut threw away (before torn writes landed some of them).
    pub(crate) dropped_bytes: u64,
    /// Distinct 4 KiB blocks a torn write landed on the backing file.
    pub(crate) torn_blocks: u64,
}

/// A file as the FUSE client sees it, and what of that is durable.
pub(crate) struct Volatile<B> {
    backing: B,
    /// The backing file's length: we are its only writer.
    durable_len: u64,
    /// The volatile size.
    len: u64,
    /// The lowest size a truncation set since the last sync.
    floor: u64,
    pages: BTreeMap<u64, Box<[u8; PAGE_BYTES]>>,
    /// Every write since the last sync, `(offset, length)`, oldest first: the candidates
    /// for a torn write.
    unsynced: Vec<(u64, u64)>,
}

impl<B: Backing> Volatile<B> {
    /// Wraps a backing file of `durable_len` bytes with nothing dirty.
    pub(crate) fn new(backing: B, durable_len: u64) -> Self {
        Self {
            backing,
            durable_len,
            len: durable_len,
            floor: durable_len,
            pages: BTreeMap::new(),
            unsynced: Vec::new(),
        }
    }

    pub(crate) fn backing(&self) -> &B {
        &self.backing
    }

    /// The volatile size.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Reads up to `size` bytes at `offset` of the volatile content.
    pub(crate) fn read(&mut self, offset: u64, size: u64) -> io::Result<Vec<u8>> {
        if offset >= self.len || size == 0 {
            return Ok(Vec::new());
        }
        let end = self.len.min(offset.saturating_add(size));
        let mut buf = vec![0; to_usize(end - offset)];
        let visible = self.durable_len.min(self.floor);
        if offset < visible {
            let n = to_usize(end.min(visible) - offset);
            self.backing.read_exact_at(&mut buf[..n], offset)?;
        }
        for (&index, page) in self.pages.range(offset / PAGE..=(end - 1) / PAGE) {
            let start = index * PAGE;
            let lo = start.max(offset);
            let hi = (start + PAGE).min(end);
            buf[to_usize(lo - offset)..to_usize(hi - offset)]
                .copy_from_slice(&page[to_usize(lo - start)..to_usize(hi - start)]);
        }
        Ok(buf)
    }

    /// Writes `data` at `offset` into dirty pages, growing the volatile size.
    pub(crate) fn write(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        let len = to_u64(data.len());
        let end = offset
            .checked_add(len)
            .ok_or_else(|| io::Error::from(io::ErrorKind::FileTooLarge))?;
        let visible = self.durable_len.min(self.floor);
        let mut pos = offset;
        while pos < end {
            let index = pos / PAGE;
            let start = index * PAGE;
            let n = (start + PAGE).min(end) - pos;
            let page = match self.pages.entry(index) {
                std::collections::btree_map::Entry::Occupied(page) => page.into_mut(),
                std::collections::btree_map::Entry::Vacant(slot) => {
                    let mut page = Box::new([0; PAGE_BYTES]);
                    // A partly written page keeps what the reader saw there before.
                    if n < PAGE && start < visible {
                        let k = to_usize(PAGE.min(visible - start));
                        self.backing.read_exact_at(&mut page[..k], start)?;
                    }
                    slot.insert(page)
                }
            };
            let from = to_usize(pos - offset);
            page[to_usize(pos - start)..to_usize(pos - start + n)]
                .copy_from_slice(&data[from..from + to_usize(n)]);
            pos += n;
        }
        self.len = self.len.max(end);
        if len > 0 {
            self.unsynced.push((offset, len));
        }
        Ok(())
    }

    /// Sets the volatile size, as `ftruncate` does.
    pub(crate) fn truncate(&mut self, len: u64) {
        if len < self.len {
            drop(self.pages.split_off(&len.div_ceil(PAGE)));
            if !len.is_multiple_of(PAGE)
                && let Some(page) = self.pages.get_mut(&(len / PAGE))
            {
                page[to_usize(len % PAGE)..].fill(0);
            }
            self.floor = self.floor.min(len);
        }
        self.len = len;
    }

    /// Makes the volatile content durable; answers the bytes written to the backing file.
    pub(crate) fn sync(&mut self) -> io::Result<u64> {
        if self.floor < self.durable_len {
            self.backing.set_len(self.floor)?;
            self.durable_len = self.floor;
        }
        let mut written = 0;
        let mut end = self.durable_len;
        // Consecutive pages go out as one write, up to 1 MiB.
        let mut run: Vec<u8> = Vec::new();
        let mut run_start = 0;
        for (&index, page) in &self.pages {
            let start = index * PAGE;
            let n = to_usize(PAGE.min(self.len - start));
            if !run.is_empty() && (run_start + to_u64(run.len()) != start || run.len() >= 1 << 20) {
                self.backing.write_all_at(&run, run_start)?;
                run.clear();
            }
            if run.is_empty() {
                run_start = start;
            }
            run.extend_from_slice(&page[..n]);
            written += to_u64(n);
            end = end.max(start + to_u64(n));
        }
        if !run.is_empty() {
            self.backing.write_all_at(&run, run_start)?;
        }
        if end != self.len {
            self.backing.set_len(self.len)?;
        }
        self.durable_len = self.len;
        self.floor = self.len;
        self.pages.clear();
        self.unsynced.clear();
        Ok(written)
    }

    /// A power cut: each unsynced write is torn with probability `torn`, and a torn write
    /// lands each 4 KiB block it touched with probability 1/2, as the block reads now.
    /// Everything else that was volatile is lost; `self` must not be used afterwards.
    pub(crate) fn cut(&mut self, rng: &mut Rng, torn: f64) -> io::Result<CutOutcome> {
        let dropped_bytes = self
            .pages
            .keys()
            .map(|&index| PAGE.min(self.len.saturating_sub(index * PAGE)))
            .sum();
        let mut landed = BTreeSet::new();
        for &(offset, len) in &self.unsynced {
            if !rng.chance(torn) {
                continue;
            }
            for index in offset / PAGE..=(offset + len - 1) / PAGE {
                if !rng.coin() || landed.contains(&index) {
                    continue;
                }
                // A page a later truncation removed has no content left to land.
                let start = index * PAGE;
                if let Some(page) = self.pages.get(&index)
                    && start < self.len
                {
                    let n = to_usize(PAGE.min(self.len - start));
                    self.backing.write_all_at(&page[..n], start)?;
                    landed.insert(index);
                }
            }
        }
        self.pages.clear();
        self.unsynced.clear();
        Ok(CutOutcome {
            dropped_bytes,
            torn_blocks: to_u64(landed.len()),
        })
    }
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).expect("a buffer length fits in usize")
}

fn to_u64(n: usize) -> u64 {
    u64::try_from(n).expect("usize fits in u64")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::rng::Rng;

    /// A backing file in memory.
    #[derive(Default)]
    struct Mem(Vec<u8>);

    impl Backing for Mem {
        fn read_exact_at(&mut self, buf: &mut [u8], offset: u64) -> io::Result<()> {
            let start = to_usize(offset);
            let src = self
                .0
                .get(start..start + buf.len())
                .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
            buf.copy_from_slice(src);
            Ok(())
        }
        fn write_all_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()> {
            let start = to_usize(offset);
            if self.0.len() < start + buf.len() {
                self.0.resize(start + buf.len(), 0);
            }
            self.0[start..start + buf.len()].copy_from_slice(buf);
            Ok(())
        }
        fn set_len(&mut self, len: u64) -> io::Result<()> {
            self.0.resize(to_usize(len), 0);
            Ok(())
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Write(u64, Vec<u8>),
        Truncate(u64),
        Read(u64, u64),
        Sync,
    }

    fn op() -> impl Strategy<Value = Op> {
        // Offsets around a few pages, so writes straddle page edges and truncations.
        prop_oneof![
            4 => (0..5 * PAGE, prop::collection::vec(any::<u8>(), 0..9000))
                .prop_map(|(o, d)| Op::Write(o, d)),
            1 => (0..5 * PAGE).prop_map(Op::Truncate),
            2 => (0..6 * PAGE, 0..9000u64).prop_map(|(o, n)| Op::Read(o, n)),
            1 => Just(Op::Sync),
        ]
    }

    proptest! {
        /// Reads act like a `Vec<u8>` that writes and truncations edit; a sync makes the
        /// backing file equal to it; a cut without torn writes leaves the last sync.
        #[test]
        fn acts_like_a_vec(initial in prop::collection::vec(any::<u8>(), 0..3 * 4096usize),
                           ops in prop::collection::vec(op(), 1..40)) {
            let mut file = Volatile::new(Mem(initial.clone()), to_u64(initial.len()));
            let mut model = initial.clone();
            let mut durable = initial;
            for op in ops {
                match op {
                    Op::Write(offset, data) => {
                        file.write(offset, &data).unwrap();
                        let end = to_usize(offset) + data.len();
                        if model.len() < end {
                            model.resize(end, 0);
                        }
                        model[to_usize(offset)..end].copy_from_slice(&data);
                    }
                    Op::Truncate(len) => {
                        file.truncate(len);
                        model.resize(to_usize(len), 0);
                    }
                    Op::Read(offset, size) => {
                        let got = file.read(offset, size).unwrap();
                        let start = to_usize(offset).min(model.len());
                        let end = (to_usize(offset) + to_usize(size)).min(model.len());
                        prop_assert_eq!(got, model[start..end].to_vec());
                    }
                    Op::Sync => {
                        file.sync().unwrap();
                        prop_assert_eq!(&file.backing().0, &model);
                        durable = model.clone();
                    }
                }
                prop_assert_eq!(file.len(), to_u64(model.len()));
            }
            let outcome = file.cut(&mut Rng::new(7), 0.0).unwrap();
            prop_assert_eq!(outcome.torn_blocks, 0);
            prop_assert_eq!(&file.backing().0, &durable);
        }
    }

    #[test]
    fn a_torn_write_lands_whole_blocks_of_what_was_written() {
        let mut torn_somewhere = false;
        for seed in 0..20 {
            let mut file = Volatile::new(Mem(vec![0xaa; 16 * 4096]), 16 * PAGE);
            file.write(0, &[0xbb; 16 * 4096]).unwrap();
            let outcome = file.cut(&mut Rng::new(seed), 1.0).unwrap();
            let disk = &file.backing().0;
            assert_eq!(disk.len(), 16 * 4096);
            let new = disk
                .chunks(4096)
                .filter(|b| b.iter().all(|&x| x == 0xbb))
                .count();
            let old = disk
                .chunks(4096)
                .filter(|b| b.iter().all(|&x| x == 0xaa))
                .count();
            assert_eq!(new + old, 16, "seed {seed}: a block is half old, half new");
            assert_eq!(to_u64(new), outcome.torn_blocks);
            assert_eq!(outcome.dropped_bytes, 16 * PAGE);
            torn_somewhere |= new > 0 && old > 0;
        }
        assert!(torn_somewhere, "20 seeds never tore a 16-block write");
    }

    #[test]
    fn a_cut_without_torn_writes_lands_nothing() {
        let mut file = Volatile::new(Mem(vec![0xaa; 4096]), PAGE);
        file.write(100, &[0xbb; 10_000]).unwrap();
        file.truncate(50);
        file.write(9000, b"x").unwrap();
        file.cut(&mut Rng::new(1), 0.0).unwrap();
        assert_eq!(file.backing().0, vec![0xaa; 4096]);
    }

    #[test]
    fn a_grown_file_reads_zeros_where_a_truncation_cut_the_old_bytes() {
        let mut file = Volatile::new(Mem(vec![0xaa; 3 * 4096]), 3 * PAGE);
        file.truncate(10);
        file.write(2 * PAGE, b"end").unwrap();
        let got = file.read(0, 3 * PAGE).unwrap();
        assert_eq!(&got[..10], &[0xaa; 10]);
        assert!(got[10..to_usize(2 * PAGE)].iter().all(|&b| b == 0));
        file.sync().unwrap();
        assert_eq!(file.backing().0, got);
    }
}
