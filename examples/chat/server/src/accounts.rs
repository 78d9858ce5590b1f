//! [`Accounts`]: the chat's users and the signed tokens that let them in at the upgrade.
//!
//! A model of token authentication small enough to read in one sitting: an in-memory user
//! table (name and password), a sign-in endpoint that checks a password and issues a token,
//! and the `authenticate` hook that verifies the token before any WebSocket frame is read.
//! Tokens are `v1.<hex name>.<expiry, unix seconds>.<hex HMAC-SHA256>`: any instance holding
//! the same secret verifies them, without a shared session store.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How long a token is valid by default.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// The demo accounts a server starts with unless told otherwise: `(name, password)`.
pub const DEMO_USERS: [(&str, &str); 4] = [
    ("alice", "wonderland"),
    ("bob", "builder"),
    ("carol", "singer"),
    ("dave", "diver"),
];

/// The users and the token secret.
#[derive(Clone)]
pub struct Accounts {
    secret: Vec<u8>,
    /// Password digests by user name: HMAC(secret, password), so the table never holds a
    /// password and a comparison runs in constant time.
    users: HashMap<String, Vec<u8>>,
    lifetime: Duration,
}

impl fmt::Debug for Accounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&String> = self.users.keys().collect();
        names.sort();
        f.debug_struct("Accounts")
            .field("users", &names)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

/// Why a token was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token of this server: malformed, or signed with another secret.
    Invalid,
    /// It was valid, but its lifetime is over.
    Expired,
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Invalid => "invalid token: sign in again",
            Self::Expired => "the token has expired: sign in again",
        })
    }
}

impl std::error::Error for TokenError {}

impl Accounts {
    /// No users, tokens signed with `secret` (share it between instances).
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        Self {
            secret: secret.into(),
            users: HashMap::new(),
            lifetime: TOKEN_LIFETIME,
        }
    }

    /// No users, tokens signed with a random secret: they are valid on this process only.
    ///
    /// # Errors
    /// When the operating system has no randomness to give.
    pub fn random() -> Result<Self, getrandom::Error> {
        let mut secret = vec![0; 32];
        getrandom::fill(&mut secret)?;
        Ok(Self::new(secret))
    }

    /// Adds the [`DEMO_USERS`].
    #[must_use]
    pub fn with_demo_users(mut self) -> Self {
        for (name, password) in DEMO_USERS {
            self.add_user(name, password);
        }
        self
    }

    /// Adds (or replaces) user `name` with `password`.
    pub fn add_user(&mut self, name: &str, password: &str) {
        let digest = self.mac(b"password\0", password.as_bytes()).finalize();
        self.users
            .insert(name.to_owned(), digest.into_bytes().to_vec());
    }

    /// Sets how long issued tokens are valid (default [`TOKEN_LIFETIME`]).
    #[must_use]
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// A token for `name` if `password` is theirs.
    pub fn sign_in(&self, name: &str, password: &str) -> Option<String> {
        let digest = self.users.get(name)?;
        self.mac(b"password\0", password.as_bytes())
            .verify_slice(digest)
            .ok()?;
        Some(self.issue(name))
    }

    /// A token for `name`, without a password: for code that authenticated the user
    /// another way (and for tests).
    pub fn issue(&self, name: &str) -> String {
        let expiry = unix_now().saturating_add(self.lifetime.as_secs());
        let body = format!("v1.{}.{expiry}", hex(name.as_bytes()));
        let signature = self.mac(b"token\0", body.as_bytes()).finalize();
        format!("{body}.{}", hex(&signature.into_bytes()))
    }

    /// The user name a token was issued to.
    ///
    /// # Errors
    /// [`TokenError`] for a token this server did not issue, or one that has expired.
    pub fn verify(&self, token: &str) -> Result<String, TokenError> {
        let (body, signature) = token.rsplit_once('.').ok_or(TokenError::Invalid)?;
        let signature = unhex(signature).ok_or(TokenError::Invalid)?;
        self.mac(b"token\0", body.as_bytes())
            .verify_slice(&signature)
            .map_err(|_| TokenError::Invalid)?;
        let mut parts = body.split('.');
        let (Some("v1"), Some(name), Some(expiry), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Invalid);
        };
        let expiry: u64 = expiry.parse().map_err(|_| TokenError::Invalid)?;
        if expiry <= unix_now() {
            return Err(TokenError::Expired);
        }
        let name = unhex(name).ok_or(TokenError::Invalid)?;
        String::from_utf8(name).map_err(|_| TokenError::Invalid)
    }

    /// A MAC keyed with the secret, over `domain` then `data`: the domain keeps password
    /// digests and token signatures from ever standing in for each other.
    fn mac(&self, domain: &[u8], data: &[u8]) -> HmacSha256 {
        // HMAC takes keys of any length.
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(domain);
        mac.update(data);
        mac
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_checked_and_tokens_verified() {
        let accounts = Accounts::new(*b"secret").with_demo_users();
        assert_eq!(accounts.sign_in("alice", "wrong"), None);
        assert_eq!(accounts.sign_in("mallory", "wonderland"), None);
        let token = accounts.sign_in("alice", "wonderland").unwrap();
        assert_eq!(accounts.verify(&token), Ok("alice".to_owned()));
        // Another secret, a changed name or a cut token: not ours.
        let other = Accounts::new(*b"other");
        assert_eq!(other.verify(&token), Err(TokenError::Invalid));
        let forged = token.replacen(&hex(b"alice"), &hex(b"admin"), 1);
        assert_eq!(accounts.verify(&forged), Err(TokenError::Invalid));
        assert_eq!(accounts.verify("alice"), Err(TokenError::Invalid));
        assert_eq!(accounts.verify(""), Err(TokenError::Invalid));
    }

    #[test]
    fn tokens_expire() {
        let accounts = Accounts::new(*b"secret").lifetime(Duration::ZERO);
        assert_eq!(
            accounts.verify(&accounts.issue("bob")),
            Err(TokenError::Expired)
        );
    }
}
