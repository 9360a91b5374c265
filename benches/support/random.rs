//! A small deterministic random source (xorshift64*), so that every run of a bench sees
//! the same inputs. Included by the benches that compose their inputs, with `#[path]`.

pub struct Random(pub u64);

impl Random {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `low..high`.
    pub fn range(&mut self, low: f32, high: f32) -> f32 {
        low + (high - low) * (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Roughly normal, mean 0, deviation 1.
    pub fn normal(&mut self) -> f32 {
        (0..4).map(|_| self.range(-1.0, 1.0)).sum::<f32>() * 0.866
    }
}
