//! Who a connection is, decided at the upgrade from its bearer token.

use twinwire_runtime::Rejection;

/// An accepted token is this prefix followed by the user's name (`valid.alice`).
pub const TOKEN_PREFIX: &str = "valid.";

/// The longest accepted user name, in bytes.
const MAX_NAME_LEN: usize = 32;

/// The user a token names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// `user-<name>`.
    pub id: String,
    /// The name from the token.
    pub name: String,
}

/// Accepts `valid.<name>` (name: 1 to 32 ASCII letters, digits, `-` or `_`); anything else,
/// or no token at all, is refused as unauthenticated (close 4401 by default, see
/// `docs/wire-protocol.md`, Authentication).
pub fn user_for_token(token: Option<&str>) -> Result<User, Rejection> {
    let token = token.ok_or_else(|| {
        Rejection::unauthenticated(
            "no access token: pass `access_token`, a `bearer.<token>` subprotocol or an \
             `Authorization: Bearer` header",
        )
    })?;
    let name = token
        .strip_prefix(TOKEN_PREFIX)
        .filter(|name| is_valid_name(name))
        .ok_or_else(|| Rejection::unauthenticated("unknown access token"))?;
    Ok(User {
        id: format!("user-{name}"),
        name: name.to_owned(),
    })
}

/// The token that [`user_for_token`] maps to `user`.
pub fn token_of(user: &User) -> String {
    format!("{TOKEN_PREFIX}{}", user.name)
}

fn is_valid_name(name: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_tokens_and_names_the_user() {
        let user = user_for_token(Some("valid.alice_2")).expect("accepted");
        assert_eq!(user.id, "user-alice_2");
        assert_eq!(user.name, "alice_2");
        assert_eq!(token_of(&user), "valid.alice_2");
    }

    #[test]
    fn refuses_missing_unknown_and_malformed_tokens_with_401() {
        let long = format!("valid.{}", "a".repeat(33));
        for token in [
            None,
            Some("alice"),
            Some("valid."),
            Some("valid.a b"),
            Some(long.as_str()),
        ] {
            let rejection = user_for_token(token).expect_err("refused");
            assert_eq!(rejection.status().as_u16(), 401, "{token:?}");
        }
    }
}
