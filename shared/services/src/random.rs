//! Randomness from the OS source: auth codes, generated passwords and key material,
//! tickets.

use crate::ServiceError;

fn random_bytes<const N: usize>() -> Result<[u8; N], ServiceError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(ServiceError::Random)?;
    Ok(buf)
}

/// A uniformly drawn 6-digit code in 100000..=999999 (rejection sampling, no modulo bias).
pub fn random_auth_code() -> Result<u32, ServiceError> {
    const SPAN: u32 = 900_000;
    const LIMIT: u32 = u32::MAX - (u32::MAX % SPAN);
    loop {
        let n = u32::from_le_bytes(random_bytes::<4>()?);
        if n < LIMIT {
            return Ok(100_000 + n % SPAN);
        }
    }
}

/// Random text from an alphabet without look-alike characters (no 0/O, 1/l/I).
pub fn random_token_string(len: usize) -> Result<String, ServiceError> {
    const ALPHABET: &[u8] = b"23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";
    let limit = 256 - (256 % ALPHABET.len());
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for byte in random_bytes::<32>()? {
            if (byte as usize) < limit && out.len() < len {
                out.push(ALPHABET[byte as usize % ALPHABET.len()] as char);
            }
        }
    }
    Ok(out)
}

/// 32 random bytes (a webhook signing secret's key).
pub fn random_key() -> Result<[u8; 32], ServiceError> {
    random_bytes::<32>()
}
