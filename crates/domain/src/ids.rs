//! Domain newtypes, parsed once at the edge and trusted inside.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Refusal;

/// An id made from a seed (a client's key) rather than at random, in the same form as a
/// generated one.
pub trait DerivedId {
    /// The id of `seed`: the same seed always gives the same id.
    fn derived(seed: &[u8; 32]) -> Self;
}

/// Equality of two ids' text, the cheapest test first.
///
/// Ids of one kind share their length and mostly their prefix, and differ near the end
/// (`p` and 16 random hex digits): their last bytes tell most unequal pairs apart without a
/// call to `memcmp`. Comparing a post against a member's last hundred this way was 39% of
/// the `foryou` rebuild's applying thread before (`BENCHMARKS.md`). The same relation as
/// `str`'s equality, so [`Hash`] (implemented beside it, as `str` hashes) stays consistent.
#[inline]
fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.last() == b.last() && a == b
}

/// Equality, hashing and cloning of a newtype over `String` through [`same_text`] (the
/// clone reuses the target's buffer, `clone_from`, as a rebuild reassigns ids in rows it
/// keeps decoded), and its serialization as its text.
macro_rules! text_id_traits {
    ($name:ident) => {
        impl PartialEq for $name {
            #[inline]
            fn eq(&self, other: &Self) -> bool {
                same_text(&self.0, &other.0)
            }
        }

        impl std::hash::Hash for $name {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.0.hash(state);
            }
        }

        impl Clone for $name {
            fn clone(&self) -> Self {
                Self(self.0.clone())
            }

            fn clone_from(&mut self, source: &Self) {
                self.0.clone_from(&source.0);
            }
        }

        /// Written as its text: the bytes serde's `into = "String"` wrote, without the
        /// copy it made of every id (a member's signals row holds hundreds).
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }
    };
}

macro_rules! opaque_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        ///
        /// Invariant: 1 to 40 lowercase ASCII letters or digits, so it is safe inside stream
        /// names and carries no personal data.
        #[derive(Eq, PartialOrd, Ord, Debug, Deserialize)]
        #[serde(try_from = "String")]
        pub struct $name(String);

        text_id_traits!($name);

        impl $name {
            /// Parses an id.
            pub fn parse(text: &str) -> Result<Self, Refusal> {
                Self::check(text)?;
                Ok(Self(text.to_owned()))
            }

            fn check(text: &str) -> Result<(), Refusal> {
                if !text.is_empty()
                    && text.len() <= 40
                    && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                {
                    Ok(())
                } else {
                    Err(Refusal::validation(stringify!($name), "expected 1 to 40 lowercase letters or digits"))
                }
            }

            /// A fresh random id.
            pub fn generate() -> Self {
                let mut bytes = [0u8; 8];
                // The OS random source failing is not recoverable here; fall back to time.
                if getrandom::fill(&mut bytes).is_err() {
                    bytes = sparkfeed_events::Timestamp::now().0.to_le_bytes();
                }
                Self(format!(concat!($prefix, "{:016x}"), u64::from_le_bytes(bytes)))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl DerivedId for $name {
            fn derived(seed: &[u8; 32]) -> Self {
                let digest = Sha256::new()
                    .chain_update(concat!("sparkfeed/id/", $prefix, "\0"))
                    .chain_update(seed)
                    .finalize();
                let mut bytes = [0u8; 8];
                bytes.copy_from_slice(&digest[..8]);
                Self(format!(concat!($prefix, "{:016x}"), u64::from_le_bytes(bytes)))
            }
        }

        /// Checked and kept, not copied: how a decoded id is made.
        impl TryFrom<String> for $name {
            type Error = Refusal;
            fn try_from(value: String) -> Result<Self, Refusal> {
                Self::check(&value)?;
                Ok(Self(value))
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

opaque_id!(
    /// A member or brand account.
    UserId, "u"
);
opaque_id!(
    /// A post.
    PostId, "p"
);
opaque_id!(
    /// A comment.
    CommentId, "c"
);
opaque_id!(
    /// A sponsorship contract.
    ContractId, "k"
);
opaque_id!(
    /// A member's report of a post: one per member and post ([`ReportId::of`]), named by
    /// a hash of both, so the id does not say who reported.
    ReportId, "r"
);

impl ReportId {
    /// The report `reporter` files on `post`: the same pair always gives the same id.
    pub fn of(post: &PostId, reporter: &UserId) -> Self {
        let digest = Sha256::new()
            .chain_update(post.as_str())
            .chain_update([0u8])
            .chain_update(reporter.as_str())
            .finalize();
        let mut seed = [0u8; 32];
        seed.copy_from_slice(&digest);
        Self::derived(&seed)
    }
}

/// An Amazon Standard Identification Number: 10 uppercase letters or digits.
#[derive(Eq, PartialOrd, Ord, Debug, Deserialize)]
#[serde(try_from = "String")]
pub struct Asin(String);

text_id_traits!(Asin);

impl Asin {
    /// Parses an ASIN.
    pub fn parse(text: &str) -> Result<Self, Refusal> {
        Self::check(text)?;
        Ok(Self(text.to_owned()))
    }

    fn check(text: &str) -> Result<(), Refusal> {
        if text.len() == 10
            && text
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            Ok(())
        } else {
            Err(Refusal::validation(
                "asin",
                "expected 10 uppercase letters or digits",
            ))
        }
    }

    /// The ASIN as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checked and kept, not copied: how a decoded ASIN is made.
impl TryFrom<String> for Asin {
    type Error = Refusal;
    fn try_from(value: String) -> Result<Self, Refusal> {
        Self::check(&value)?;
        Ok(Self(value))
    }
}

impl From<Asin> for String {
    fn from(value: Asin) -> String {
        value.0
    }
}

impl fmt::Display for Asin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An interest of the catalog, by slug: `fitness`, `home-diy`: 1 to 32 lowercase letters,
/// digits or `-`, starting with a letter.
#[derive(Eq, PartialOrd, Ord, Debug, Deserialize)]
#[serde(try_from = "String")]
pub struct InterestSlug(String);

text_id_traits!(InterestSlug);

impl InterestSlug {
    /// Parses a slug.
    pub fn parse(text: &str) -> Result<Self, Refusal> {
        Self::check(text)?;
        Ok(Self(text.to_owned()))
    }

    fn check(text: &str) -> Result<(), Refusal> {
        let ok = !text.is_empty()
            && text.len() <= 32
            && text.starts_with(|c: char| c.is_ascii_lowercase())
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(())
        } else {
            Err(Refusal::validation(
                "interest",
                "expected a lowercase slug like home-diy",
            ))
        }
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checked and kept, not copied: how a decoded slug is made.
impl TryFrom<String> for InterestSlug {
    type Error = Refusal;
    fn try_from(value: String) -> Result<Self, Refusal> {
        Self::check(&value)?;
        Ok(Self(value))
    }
}

impl From<InterestSlug> for String {
    fn from(value: InterestSlug) -> String {
        value.0
    }
}

impl fmt::Display for InterestSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A member's public handle: 3 to 30 letters, digits, `_` or `.`, compared without case.
///
/// Serialisable only for a keyed command's fingerprint, which is hashed; every event
/// carries a handle sealed.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize)]
pub struct Handle(String);

impl Handle {
    /// Parses and normalises (lowercases) a handle.
    pub fn parse(text: &str) -> Result<Self, Refusal> {
        let ok = (3..=30).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
        if ok {
            Ok(Self(text.to_ascii_lowercase()))
        } else {
            Err(Refusal::validation(
                "handle",
                "expected 3 to 30 letters, digits, _ or .",
            ))
        }
    }

    /// The normalised handle.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An amount of money in the smallest unit of its currency.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Money {
    /// Cents (or the currency's minor unit).
    pub cents: u64,
    /// ISO 4217 code, such as `USD`.
    pub currency: Currency,
}

impl Money {
    /// The largest price or fee the rules accept, in minor units
    /// ([`crate::limits::MAX_PRICE_CENTS`]).
    pub const MAX_PRICE_CENTS: u64 = crate::limits::MAX_PRICE_CENTS;

    /// `cents` of `currency`.
    pub fn new(cents: u64, currency: Currency) -> Self {
        Self { cents, currency }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:02} {}",
            self.cents / 100,
            self.cents % 100,
            self.currency
        )
    }
}

/// An ISO 4217 currency code: three uppercase ASCII letters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    /// US dollars.
    pub const USD: Currency = Currency(*b"USD");

    /// Parses a currency code.
    pub fn parse(text: &str) -> Result<Self, Refusal> {
        match text.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|x| x.is_ascii_uppercase()) => Ok(Self([*a, *b, *c])),
            _ => Err(Refusal::validation("currency", "expected a code like USD")),
        }
    }
}

impl TryFrom<String> for Currency {
    type Error = Refusal;
    fn try_from(value: String) -> Result<Self, Refusal> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> String {
        value.to_string()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(std::str::from_utf8(&self.0).unwrap_or("???"))
    }
}

/// What a member may do beyond the basics; granted and revoked by admins, kept in the log.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
pub enum Role {
    /// Posts as a product enthusiast; may be sponsored and earns associate commission.
    Enthusiast,
    /// Removes posts and comments.
    Moderator,
    /// Reads the whole log.
    Analyst,
    /// Traces sponsorships.
    Auditor,
    /// Manages the catalog and roles.
    Admin,
}

impl Role {
    /// Parses a role name (`enthusiast`, `moderator`, ...).
    pub fn parse(text: &str) -> Result<Self, Refusal> {
        match text {
            "enthusiast" => Ok(Role::Enthusiast),
            "moderator" => Ok(Role::Moderator),
            "analyst" => Ok(Role::Analyst),
            "auditor" => Ok(Role::Auditor),
            "admin" => Ok(Role::Admin),
            _ => Err(Refusal::validation(
                "role",
                "expected enthusiast, moderator, analyst, auditor or admin",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_codes_are_checked_at_the_edge() {
        assert!(UserId::parse("u0123abc").is_ok());
        assert!(UserId::parse("U01").is_err());
        assert!(UserId::parse("").is_err());
        assert!(UserId::generate().as_str().starts_with('u'));
        assert!(Asin::parse("B08N5WRWNW").is_ok());
        assert!(Asin::parse("b08n5wrwnw").is_err());
        assert!(InterestSlug::parse("home-diy").is_ok());
        assert!(InterestSlug::parse("Home").is_err());
        assert_eq!(
            Handle::parse("Ana.Lopez_1").map(|h| h.0),
            Ok("ana.lopez_1".to_owned())
        );
        assert!(Handle::parse("ab").is_err());
        assert_eq!(Money::new(1999, Currency::USD).to_string(), "19.99 USD");
        assert!(Currency::parse("usd").is_err());
    }

    fn encoded<T: Serialize>(value: &T) -> Vec<u8> {
        sparkfeed_events::codec::encode_payload(value).expect("encodes")
    }

    #[test]
    fn ids_are_written_as_their_text_and_checked_again_when_read() {
        use sparkfeed_events::codec::decode_payload;
        let text = |t: &str| encoded(&t.to_owned());
        assert_eq!(
            encoded(&UserId::parse("u0123abc").expect("id")),
            text("u0123abc")
        );
        assert_eq!(encoded(&PostId::parse("p42").expect("id")), text("p42"));
        assert_eq!(
            encoded(&Asin::parse("B08N5WRWNW").expect("asin")),
            text("B08N5WRWNW")
        );
        assert_eq!(
            encoded(&InterestSlug::parse("home-diy").expect("slug")),
            text("home-diy")
        );
        assert_eq!(
            decode_payload::<PostId>(&text("p42"))
                .map(|p| p.as_str().to_owned())
                .ok(),
            Some("p42".to_owned())
        );
        assert!(decode_payload::<PostId>(&text("P42")).is_err());
        assert!(decode_payload::<UserId>(&text("")).is_err());
        assert!(decode_payload::<Asin>(&text("b08n5wrwnw")).is_err());
        assert!(decode_payload::<InterestSlug>(&text("Home")).is_err());
        assert!(decode_payload::<ContractId>(&text(&"k".repeat(41))).is_err());
    }

    proptest::proptest! {
        /// The fast equality is the text's equality, and equal ids hash alike.
        #[test]
        fn ids_are_equal_exactly_when_their_text_is(
            a in "[a-z0-9]{1,3}",
            b in "[a-z0-9]{1,3}",
            c in "[A-Z0-9]{10}",
            d in "[A-Z0-9]{10}",
            prefix in "p[0-9a-f]{0,15}",
        ) {
            use std::hash::BuildHasher;
            let (x, y) = (format!("{prefix}{a}"), format!("{prefix}{b}"));
            let (px, py) = (PostId::parse(&x).expect("an id"), PostId::parse(&y).expect("an id"));
            proptest::prop_assert_eq!(px == py, x == y);
            proptest::prop_assert_eq!(px == px.clone(), true);
            let (ac, ad) = (Asin::parse(&c).expect("an asin"), Asin::parse(&d).expect("an asin"));
            proptest::prop_assert_eq!(ac == ad, c == d);
            let state = std::collections::hash_map::RandomState::new();
            proptest::prop_assert_eq!(state.hash_one(&px), state.hash_one(x.as_str()));
            let mut reused = py.clone();
            reused.clone_from(&px);
            proptest::prop_assert_eq!(reused.as_str(), x.as_str());
        }
    }
}
