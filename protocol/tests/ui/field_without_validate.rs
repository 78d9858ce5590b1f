#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Foreign {
    pub x: u8,
}

#[twinwire::message("USES_FOREIGN")]
pub struct UsesForeign {
    pub foreign: Foreign,
}

fn main() {}
