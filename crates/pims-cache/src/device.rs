//! The device id: created once per cache, the device's identity with the backend.

use std::fmt;

use crate::error::CacheError;
use crate::record;

/// Longest device id accepted.
pub const MAX_DEVICE_ID_LEN: usize = 128;

/// A device id: 1 to 128 characters of `[A-Za-z0-9._:-]` (safe in an HTTP header and a path).
/// [`StepCache::device_id`](crate::StepCache::device_id) creates one (a random UUID v4) the
/// first time and returns the same one forever after.
///
/// ```
/// use pims_cache::DeviceId;
/// let d = DeviceId::parse("phone-1").unwrap();
/// assert_eq!(d.as_str(), "phone-1");
/// assert!(DeviceId::parse("no spaces").is_err());
/// assert_eq!(DeviceId::generate().as_str().len(), 36);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId(String);

impl DeviceId {
    /// Validates a device id.
    ///
    /// ```
    /// assert!(pims_cache::DeviceId::parse("").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<DeviceId, CacheError> {
        if s.is_empty() || s.len() > MAX_DEVICE_ID_LEN {
            return Err(CacheError::invalid(
                "device id",
                format!("expected 1 to {MAX_DEVICE_ID_LEN} characters"),
            ));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
        {
            return Err(CacheError::invalid(
                "device id",
                "expected only A-Z, a-z, 0-9, '.', '_', ':' and '-'",
            ));
        }
        Ok(DeviceId(s.to_owned()))
    }

    /// A new random device id (UUID v4 text, from the operating system's random source).
    ///
    /// ```
    /// assert_ne!(pims_cache::DeviceId::generate(), pims_cache::DeviceId::generate());
    /// ```
    pub fn generate() -> DeviceId {
        let mut b: [u8; 16] = rand::random();
        b[6] = (b[6] & 0x0f) | 0x40; // version 4
        b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        DeviceId(format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        ))
    }

    /// The record of the cache's device id entry (format 1 text, which every version reads).
    pub(crate) fn to_record(&self) -> Result<Vec<u8>, CacheError> {
        record::encode_text(self.as_str())
    }

    /// The device id of a device id entry; why not, when it is unreadable.
    pub(crate) fn from_record(bytes: &[u8]) -> Result<DeviceId, String> {
        record::decode_text(bytes).and_then(|t| DeviceId::parse(&t).map_err(|e| e.to_string()))
    }

    /// The id.
    ///
    /// ```
    /// assert_eq!(pims_cache::DeviceId::parse("d1").unwrap().as_str(), "d1");
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_and_look_like_uuids() {
        for _ in 0..100 {
            let d = DeviceId::generate();
            assert_eq!(DeviceId::parse(d.as_str()).unwrap(), d);
            let parts: Vec<_> = d.as_str().split('-').map(str::len).collect();
            assert_eq!(parts, [8, 4, 4, 4, 12]);
            assert_eq!(&d.as_str()[14..15], "4");
        }
    }

    #[test]
    fn refuses_long_or_odd_ids() {
        assert!(DeviceId::parse(&"a".repeat(129)).is_err());
        assert!(DeviceId::parse(&"a".repeat(128)).is_ok());
        assert!(DeviceId::parse("a/b").is_err());
        assert!(DeviceId::parse("é").is_err());
    }
}
