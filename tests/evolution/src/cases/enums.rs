use super::prelude::*;

pub fn cases() -> Vec<Case> {
    vec![]
}
