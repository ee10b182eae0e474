//! A small seeded PRNG (SplitMix64). Every random choice in the model draws from
//! one of these, so a scenario and a seed fix the output byte for byte.

#[derive(Clone, Debug)]
pub struct Rng(u64);

const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// A derived, independent stream (for per-node or per-purpose randomness).
    pub fn fork(&mut self, salt: u64) -> Rng {
        Rng(self.next_u64() ^ salt.wrapping_mul(0xD6E8_FEB8_6659_FD93))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform integer in [lo, hi] (inclusive).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + (self.next_u64() % (hi - lo + 1) as u64) as i64
    }

    /// Exponentially distributed with the given mean.
    pub fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.f64()).max(1e-12).ln()
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// `n` characters from `[0-9A-Za-z]`.
    pub fn alnum(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| ALNUM[(self.next_u64() % 62) as usize] as char)
            .collect()
    }

    /// A server public nkey look-alike: `N` + 55 base32 characters.
    pub fn server_id(&mut self) -> String {
        const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut s = String::with_capacity(56);
        s.push('N');
        for _ in 0..55 {
            s.push(B32[(self.next_u64() % 32) as usize] as char);
        }
        s
    }
}
