//! CRC-16/IBM (also called CRC-16/ARC): polynomial 0x8005 reflected (0xA001), initial value 0,
//! no final XOR. Teltonika computes it over a data frame from the codec id to the second record
//! count.
//!
//! Slicing-by-16: sixteen 256-entry tables built at compile time let the loop fold sixteen
//! bytes per step instead of one, and only the first two lookups of a step wait for the CRC
//! so far. The tables are 8 KiB and stay in the first-level cache.

const POLY: u16 = 0xA001;

const fn byte_table() -> [u16; 256] {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u16;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ POLY
            } else {
                crc >> 1
            };
            bit += 1;
        }
        t[i] = crc;
        i += 1;
    }
    t
}

/// `TABLES[k][b]`: the CRC contribution of byte `b` followed by `k` zero bytes.
const TABLES: [[u16; 256]; 16] = {
    let t0 = byte_table();
    let mut t = [[0u16; 256]; 16];
    t[0] = t0;
    let mut k = 1;
    while k < 16 {
        let mut b = 0;
        while b < 256 {
            let prev = t[k - 1][b];
            t[k][b] = (prev >> 8) ^ t0[(prev & 0xff) as usize];
            b += 1;
        }
        k += 1;
    }
    t
};

/// CRC-16/IBM of `data`.
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    let (chunks, rest) = data.as_chunks::<16>();
    for c in chunks {
        let [lo, hi] = crc.to_le_bytes();
        // Independent of `crc`: computed ahead while the previous step finishes.
        let mut x = 0u16;
        for (i, &b) in c.iter().enumerate().skip(2) {
            x ^= TABLES[15 - i][usize::from(b)];
        }
        crc = x ^ TABLES[15][usize::from(c[0] ^ lo)] ^ TABLES[14][usize::from(c[1] ^ hi)];
    }
    // The tail of k < 16 bytes in one step too: with k >= 2 the 16-bit CRC so far is folded
    // entirely into the first two bytes, so the same tables apply, shifted by 16 - k.
    match rest {
        [] => {}
        [b] => crc = (crc >> 8) ^ TABLES[0][usize::from((crc as u8) ^ b)],
        [b0, b1, tail @ ..] => {
            let [lo, hi] = crc.to_le_bytes();
            let k = tail.len() + 2;
            let mut x = 0u16;
            for (i, &b) in tail.iter().enumerate() {
                x ^= TABLES[k - 3 - i][usize::from(b)];
            }
            crc = x ^ TABLES[k - 1][usize::from(b0 ^ lo)] ^ TABLES[k - 2][usize::from(b1 ^ hi)];
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bitwise(data: &[u8]) -> u16 {
        let mut crc = 0u16;
        for &b in data {
            crc ^= u16::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ POLY
                } else {
                    crc >> 1
                };
            }
        }
        crc
    }

    #[test]
    fn check_value_of_the_catalogue() {
        // The CRC catalogue's check value for CRC-16/ARC over "123456789".
        assert_eq!(crc16(b"123456789"), 0xBB3D);
    }

    #[test]
    fn slicing_equals_bitwise_for_every_length() {
        let data: Vec<u8> = (0..300u32)
            .map(|i| (i.wrapping_mul(167) ^ (i >> 3)) as u8)
            .collect();
        for n in 0..data.len() {
            assert_eq!(crc16(&data[..n]), bitwise(&data[..n]), "length {n}");
        }
    }
}
