//! The manifest's definitions as the TypeScript output names them.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::Error;
use crate::schema::Definitions;
use crate::ts::names::identifier;

/// The manifest's definitions, parsed, with their TypeScript names.
#[derive(Debug)]
pub(crate) struct Defs {
    schema: Definitions,
    idents: BTreeMap<String, String>,
}

impl Defs {
    /// Parses every definition and names it.
    ///
    /// # Errors
    /// [`Error::Schema`] for a definition that is not a readable schema, [`Error::Names`]
    /// when two definitions get the same TypeScript name.
    pub(crate) fn new(defs: &BTreeMap<String, Value>) -> Result<Self, Error> {
        let schema = Definitions::parse(defs)?;
        let mut idents = BTreeMap::new();
        let mut taken: BTreeMap<String, &String> = BTreeMap::new();
        for (name, _) in schema.iter() {
            let ident = identifier(name);
            if let Some(first) = taken.insert(ident.clone(), name) {
                return Err(Error::Names(format!(
                    "the schema definitions `{first}` and `{name}` both become the TypeScript name `{ident}`; \
                     rename one with `#[serde(rename = \"...\")]`"
                )));
            }
            idents.insert(name.clone(), ident);
        }
        Ok(Self { schema, idents })
    }

    /// The TypeScript name of definition `name`.
    pub(crate) fn ident(&self, name: &str) -> Option<&str> {
        self.idents.get(name).map(String::as_str)
    }

    /// The parsed definitions.
    pub(crate) fn schema(&self) -> &Definitions {
        &self.schema
    }
}
