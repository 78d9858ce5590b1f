// A payload field whose type is not marked `#[twinwire::data]`: the first error is
// twinwire's, at the field's type, and names the fix.
pub struct Attachment {
    pub url: String,
}

#[twinwire::message("SEND_MESSAGE")]
pub struct SendMessage {
    pub text: String,
    pub attachment: Option<Attachment>,
}

fn main() {}
