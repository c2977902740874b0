//! Identity: HS256 bearer tokens carrying the user id.
//!
//! A token says who the caller is, nothing more: roles, Prime and brand status are read
//! from the log on every request that needs them, so a revoked role is revoked at once.
//!
//! Invariant: the acting user of every command is the token's subject; no operation takes
//! a user to act as.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sparkfeed_domain::UserId;

use crate::error::ApiError;

/// The `iss` of every token this server mints and the only one it accepts.
const ISSUER: &str = "sparkfeed";
/// The shortest secret accepted: HS256 wants at least the hash's 32 bytes.
pub const MIN_SECRET_BYTES: usize = 32;
/// How long a token lasts unless told otherwise.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

#[derive(Serialize, Deserialize)]
struct Claims {
    sub: String,
    iss: String,
    iat: u64,
    exp: u64,
}

/// Mints and checks tokens with one secret.
#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens(HS256, secret withheld)")
    }
}

/// The secret is too short to sign with.
#[derive(Debug, thiserror::Error)]
#[error("the token secret must be at least {MIN_SECRET_BYTES} bytes, got {0}")]
pub struct WeakSecret(pub usize);

impl Tokens {
    /// Tokens signed with `secret` (at least [`MIN_SECRET_BYTES`]).
    pub fn new(secret: &[u8]) -> Result<Self, WeakSecret> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(WeakSecret(secret.len()));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 30;
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        })
    }

    /// A token for `user`, valid for `ttl`.
    pub fn mint(&self, user: &UserId, ttl: Duration) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let claims = Claims {
            sub: user.as_str().to_owned(),
            iss: ISSUER.to_owned(),
            iat: now,
            exp: now.saturating_add(ttl.as_secs()),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .unwrap_or_else(|_| unreachable!("HS256 over a serialisable struct cannot fail"))
    }

    /// The user a token was minted for, if its signature, issuer and expiry check out.
    pub fn verify(&self, token: &str) -> Result<UserId, ApiError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| ApiError::InvalidToken(e.to_string()))?;
        UserId::parse(&data.claims.sub)
            .map_err(|_| ApiError::InvalidToken("the subject is not a user id".into()))
    }

    /// The user of an `Authorization` header value (`Bearer <token>`).
    pub fn verify_header(&self, value: &str) -> Result<UserId, ApiError> {
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| ApiError::InvalidToken("expected `Bearer <token>`".into()))?;
        self.verify(token.trim())
    }
}

/// Who is asking, as the request proved it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The signed-in user, or `None` for public reads.
    pub user: Option<UserId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn a_token_names_its_user_and_nothing_else_verifies() {
        let tokens = Tokens::new(SECRET).expect("secret");
        let user = UserId::parse("u0001").expect("id");
        let token = tokens.mint(&user, DEFAULT_TOKEN_TTL);
        assert_eq!(tokens.verify(&token).expect("valid"), user);
        assert_eq!(
            tokens
                .verify_header(&format!("Bearer {token}"))
                .expect("valid"),
            user
        );

        let other = Tokens::new(b"another secret, also 32 bytes long!").expect("secret");
        assert_eq!(
            other.verify(&token).map_err(|e| e.code()),
            Err("UNAUTHENTICATED")
        );
        let mut tampered = token.clone();
        tampered.pop();
        assert!(tokens.verify(&tampered).is_err());
        assert!(tokens.verify_header(&token).is_err(), "no Bearer prefix");
        let expired = tokens.mint(&user, Duration::ZERO);
        // Leeway is 30 s; an expired token minted with a past expiry must fail.
        let past = Claims {
            sub: "u0001".into(),
            iss: ISSUER.into(),
            iat: 0,
            exp: 1,
        };
        let old = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &past, &tokens.encoding)
            .expect("encode");
        assert!(tokens.verify(&old).is_err());
        assert!(tokens.verify(&expired).is_ok(), "within the leeway");
        assert!(Tokens::new(b"short").is_err());
    }
}
