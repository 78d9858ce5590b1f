//! serde's `rename_all` rules, reproduced so validation paths use the same wire names serde
//! does (the rules and their edge cases follow serde_derive's `case.rs`).

/// One of serde's case conventions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RenameRule {
    Lower,
    Upper,
    Pascal,
    Camel,
    Snake,
    ScreamingSnake,
    Kebab,
    ScreamingKebab,
}

impl RenameRule {
    pub const NAMES: &'static [&'static str] = &[
        "lowercase",
        "UPPERCASE",
        "PascalCase",
        "camelCase",
        "snake_case",
        "SCREAMING_SNAKE_CASE",
        "kebab-case",
        "SCREAMING-KEBAB-CASE",
    ];

    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "lowercase" => Self::Lower,
            "UPPERCASE" => Self::Upper,
            "PascalCase" => Self::Pascal,
            "camelCase" => Self::Camel,
            "snake_case" => Self::Snake,
            "SCREAMING_SNAKE_CASE" => Self::ScreamingSnake,
            "kebab-case" => Self::Kebab,
            "SCREAMING-KEBAB-CASE" => Self::ScreamingKebab,
            _ => return None,
        })
    }

    /// Renames a variant, written in PascalCase in Rust.
    pub fn apply_to_variant(self, variant: &str) -> String {
        match self {
            Self::Pascal => variant.to_owned(),
            Self::Lower => variant.to_ascii_lowercase(),
            Self::Upper => variant.to_ascii_uppercase(),
            Self::Camel => {
                let mut chars = variant.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                    None => String::new(),
                }
            }
            Self::Snake => {
                let mut snake = String::new();
                for (i, ch) in variant.char_indices() {
                    if i > 0 && ch.is_uppercase() {
                        snake.push('_');
                    }
                    snake.push(ch.to_ascii_lowercase());
                }
                snake
            }
            Self::ScreamingSnake => Self::Snake.apply_to_variant(variant).to_ascii_uppercase(),
            Self::Kebab => Self::Snake.apply_to_variant(variant).replace('_', "-"),
            Self::ScreamingKebab => Self::ScreamingSnake
                .apply_to_variant(variant)
                .replace('_', "-"),
        }
    }

    /// Renames a field, written in snake_case in Rust.
    pub fn apply_to_field(self, field: &str) -> String {
        match self {
            Self::Lower | Self::Snake => field.to_owned(),
            Self::Upper | Self::ScreamingSnake => field.to_ascii_uppercase(),
            Self::Pascal => {
                let mut pascal = String::new();
                let mut capitalize = true;
                for ch in field.chars() {
                    if ch == '_' {
                        capitalize = true;
                    } else if capitalize {
                        pascal.push(ch.to_ascii_uppercase());
                        capitalize = false;
                    } else {
                        pascal.push(ch);
                    }
                }
                pascal
            }
            Self::Camel => {
                let pascal = Self::Pascal.apply_to_field(field);
                let mut chars = pascal.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                    None => String::new(),
                }
            }
            Self::Kebab => field.replace('_', "-"),
            Self::ScreamingKebab => field.to_ascii_uppercase().replace('_', "-"),
        }
    }
}

/// `SendMessage` → `SEND_MESSAGE`, `GetHTTPStatus` → `GET_HTTP_STATUS`: the default wire
/// type of a message named without an explicit `type`.
pub fn screaming_snake_from_type_name(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if i > 0 && c.is_uppercase() {
            let prev = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_uppercase() && next_is_lower)
            {
                out.push('_');
            }
        }
        out.extend(c.to_uppercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_variants_follow_serde() {
        let cases = [
            (
                RenameRule::Camel,
                "room_id",
                "roomId",
                "VeryTasty",
                "veryTasty",
            ),
            (
                RenameRule::Pascal,
                "room_id",
                "RoomId",
                "VeryTasty",
                "VeryTasty",
            ),
            (
                RenameRule::Snake,
                "room_id",
                "room_id",
                "VeryTasty",
                "very_tasty",
            ),
            (
                RenameRule::Lower,
                "room_id",
                "room_id",
                "VeryTasty",
                "verytasty",
            ),
            (
                RenameRule::Upper,
                "room_id",
                "ROOM_ID",
                "VeryTasty",
                "VERYTASTY",
            ),
            (
                RenameRule::ScreamingSnake,
                "room_id",
                "ROOM_ID",
                "VeryTasty",
                "VERY_TASTY",
            ),
            (
                RenameRule::Kebab,
                "room_id",
                "room-id",
                "VeryTasty",
                "very-tasty",
            ),
            (
                RenameRule::ScreamingKebab,
                "room_id",
                "ROOM-ID",
                "VeryTasty",
                "VERY-TASTY",
            ),
        ];
        for (rule, field, field_out, variant, variant_out) in cases {
            assert_eq!(rule.apply_to_field(field), field_out, "{rule:?}");
            assert_eq!(rule.apply_to_variant(variant), variant_out, "{rule:?}");
        }
    }

    #[test]
    fn default_wire_types() {
        assert_eq!(
            screaming_snake_from_type_name("SendMessage"),
            "SEND_MESSAGE"
        );
        assert_eq!(
            screaming_snake_from_type_name("GetHTTPStatus"),
            "GET_HTTP_STATUS"
        );
        assert_eq!(screaming_snake_from_type_name("Ping"), "PING");
        assert_eq!(screaming_snake_from_type_name("V2Update"), "V2_UPDATE");
    }
}
