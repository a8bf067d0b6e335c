//! The account PIN as the simulator keeps it: a salted PBKDF2-HMAC-SHA256 hash in the PHC
//! string format (`$pbkdf2-sha256$i=1000,l=32$<salt>$<hash>`), never the PIN itself, so that a
//! user trying the CLI with their real PIN does not leave it in clear in the state file.
//!
//! The cost is deliberately modest: a PIN has 4 to 8 digits, so no cost would make an offline
//! search of a stolen hash infeasible; the state file's `0600` mode is the protection against
//! other users. The hash keeps the PIN out of sight (a state file shown in a bug report, an
//! `/admin/state` dump), while a check takes well under a millisecond in release builds and about
//! ten in debug ones (tests), since it runs under the state lock.

use std::fmt;

use pbkdf2::Pbkdf2;
use pbkdf2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use pims_types::{REDACTED, Secret};

/// The PBKDF2 rounds of the hashes the simulator makes.
pub(crate) const ROUNDS: u32 = 1000;

/// The most rounds a `pinHash` given in a scenario may ask for: each check runs under the state
/// lock, and a PHC string without `i` means 600,000 rounds.
pub const MAX_PIN_HASH_ROUNDS: u32 = 100_000;

/// Salt bytes (the PHC recommendation).
const SALT_BYTES: usize = 16;

/// Hash bytes.
const OUTPUT_BYTES: usize = 32;

/// The algorithm identifier of the PHC string.
const ALGORITHM: &str = "pbkdf2-sha256";

/// Why a `pinHash` text is refused (never quoting it).
pub(crate) const EXPECTED: &str = "expected a PHC string $pbkdf2-sha256$i=<rounds>,l=32$<salt>$<hash> \
     (rounds 1 to 100000)";

/// A salted hash of an account's PIN (PHC string format). `Debug` never shows it: for a PIN of
/// 4 to 8 digits a hash is little harder to read than the PIN.
///
/// ```
/// use pims_sim::PinHash;
/// use pims_types::Secret;
/// let hash = PinHash::of(&Secret::new("1234"));
/// assert!(hash.as_str().starts_with("$pbkdf2-sha256$i="));
/// assert!(hash.verify(&Secret::new("1234")) && !hash.verify(&Secret::new("4321")));
/// assert_eq!(PinHash::parse(hash.as_str()).unwrap(), hash);
/// assert!(PinHash::parse("1234").is_none());
/// assert_eq!(format!("{hash:?}"), "PinHash([REDACTED])");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct PinHash(String);

impl PinHash {
    /// Hashes a PIN with a fresh random salt.
    pub fn of(pin: &Secret) -> PinHash {
        let mut salt = [0u8; SALT_BYTES];
        rand::rng().fill_bytes(&mut salt);
        let params = pbkdf2::Params {
            rounds: ROUNDS,
            output_length: OUTPUT_BYTES,
        };
        let hashed = SaltString::encode_b64(&salt).and_then(|salt| {
            Pbkdf2
                .hash_password_customized(
                    pin.expose().as_bytes(),
                    Some(pbkdf2::Algorithm::Pbkdf2Sha256.ident()),
                    None,
                    params,
                    &salt,
                )
                .map(|h| h.to_string())
        });
        match hashed {
            Ok(text) => PinHash(text),
            // Unreachable with these constants (a 16-byte salt and a 32-byte output are within
            // the PHC limits); a hash nothing verifies is the safe answer should it ever happen.
            Err(e) => {
                tracing::error!(error = %e, "PIN hash failed");
                PinHash(String::new())
            }
        }
    }

    /// Reads a hash written by [`PinHash::of`] (or an equivalent PBKDF2-HMAC-SHA256 PHC string
    /// of at most [`MAX_PIN_HASH_ROUNDS`] rounds); `None` for anything else.
    pub fn parse(text: &str) -> Option<PinHash> {
        let parsed = PasswordHash::new(text).ok()?;
        if parsed.algorithm.as_str() != ALGORITHM || parsed.salt.is_none() {
            return None;
        }
        let output = parsed.hash?;
        let params = pbkdf2::Params::try_from(&parsed).ok()?;
        let rounds_ok = (1..=MAX_PIN_HASH_ROUNDS).contains(&params.rounds);
        (rounds_ok && output.len() >= 16).then(|| PinHash(text.to_owned()))
    }

    /// Whether `pin` is the PIN this hash was made from (constant-time comparison).
    pub fn verify(&self, pin: &Secret) -> bool {
        PasswordHash::new(&self.0)
            .is_ok_and(|h| Pbkdf2.verify_password(pin.expose().as_bytes(), &h).is_ok())
    }

    /// The PHC string (what the state file and `GET /admin/state` hold).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PinHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PinHash({REDACTED})")
    }
}

impl Serialize for PinHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PinHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<PinHash, D::Error> {
        // Read as a JSON value so that a wrong type never quotes the value either.
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) => {
                PinHash::parse(&s).ok_or_else(|| serde::de::Error::custom(EXPECTED))
            }
            _ => Err(serde::de::Error::custom(EXPECTED)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salted_so_two_hashes_of_one_pin_differ_and_both_verify() {
        let pin = Secret::new("00001234");
        let (a, b) = (PinHash::of(&pin), PinHash::of(&pin));
        assert_ne!(a, b);
        assert!(a.verify(&pin) && b.verify(&pin));
        assert!(!a.verify(&Secret::new("1234")));
        assert!(!a.as_str().contains("00001234"));
    }

    #[test]
    fn only_bounded_pbkdf2_sha256_strings_are_read() {
        let good = PinHash::of(&Secret::new("1234"));
        let text = good.as_str();
        let rounds = format!("i={ROUNDS}");
        assert!(text.contains(&rounds) && PinHash::parse(text).is_some());
        for bad in [
            String::new(),
            "1234".to_owned(),
            text.replacen("pbkdf2-sha256", "pbkdf2-sha512", 1),
            text.replacen(&rounds, "i=4000000", 1),
            text.replacen(&rounds, "i=0", 1),
            // Without `i`, PBKDF2's default is 600,000 rounds: over the bound.
            text.replacen(&format!("{rounds},"), "", 1),
            text.rsplit_once('$').unwrap().0.to_owned(),
        ] {
            assert!(PinHash::parse(&bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn an_empty_hash_verifies_nothing() {
        assert!(!PinHash(String::new()).verify(&Secret::new("1234")));
    }
}
