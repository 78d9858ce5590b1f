// A wire type derived from the type's name is held to the same rules as an explicit one.
#[twinwire::message]
pub struct Error {
    pub text: String,
}

#[twinwire::rpc(response = Done)]
pub struct RpcError {}

#[twinwire::message]
pub struct Done;

fn main() {}
