//! HMAC-SHA256 keyed by one of our secrets: the one constructor that tokens, signed links,
//! idempotent task ids and webhook signatures share.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub type HmacSha256 = Hmac<Sha256>;

/// A MAC keyed by `secret`. HMAC takes keys of any length (longer ones are hashed, shorter ones
/// padded), so the constructor's `InvalidLength` error cannot happen; the fallback (an empty
/// key, equally infallible) exists only to avoid a panic path in shipped code.
pub fn keyed(secret: &[u8]) -> HmacSha256 {
    match HmacSha256::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => keyed(&[]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_any_length_give_the_rfc_4231_macs() {
        // RFC 4231, test case 2: key "Jefe".
        let mut mac = keyed(b"Jefe");
        mac.update(b"what do ya want for nothing?");
        let expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        assert_eq!(hex::encode(mac.finalize().into_bytes()), expected);
        // A key longer than the block (131 bytes of 0xaa, test case 6) is accepted too.
        let mut long = keyed(&[0xaa; 131]);
        long.update(b"Test Using Larger Than Block-Size Key - Hash Key First");
        assert_eq!(hex::encode(long.finalize().into_bytes()), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    }
}
