//! The cut's random source: SplitMix64, so a seed replays the same torn writes.

/// SplitMix64 (Steele, Lea, Flood 2014): small, fast, and good enough to pick blocks.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// True with probability `p`: never for `p <= 0`, always for `p >= 1`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        let top = u32::try_from(self.next_u64() >> 32).expect("a u64 shifted by 32 fits in u32");
        // Uniform in (0, 1): 0 never passes `< 0.0`, and `< 1.0` always holds.
        (f64::from(top) + 0.5) / 4_294_967_296.0 < p
    }

    /// A fair coin.
    pub(crate) fn coin(&mut self) -> bool {
        self.next_u64() >> 63 == 1
    }
}
