//! The server the wire targets talk to: the chat protocol's client messages and RPCs, plus
//! one payload-less message the chat lacks, with handlers that answer every frame with
//! exactly one frame the oracle can predict.

use chat_protocol::{
    Authenticate, Calculate, CalculateResult, GetMessages, JoinRoom, LeaveRoom, Messages,
    Operation, SendMessage, TypingStart, TypingStop,
};
use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use twinwire::{ErrorCode, ErrorPayload, Message, ServerMessage, Validate, Validator, message};
use twinwire_runtime::{Context, Router, RpcContext};

/// A message without payload, so that the payload-presence rules of both kinds of message
/// are exercised. Echoed like the chat's client messages.
#[message("POKE")]
#[derive(Clone, Debug, PartialEq)]
pub struct Poke;

/// The prefix of the topic a `JOIN_ROOM` subscribes to, followed by the room id.
pub const ROOM_TOPIC_PREFIX: &str = "room:";

/// The code a `JOIN_ROOM` whose room id makes an invalid topic is answered with.
pub const BAD_ROOM_CODE: ErrorCode = ErrorCode::FailedPrecondition;

/// The code a `CALCULATE` whose result is not a finite number is answered with (JSON has
/// no infinity), as the chat server does.
pub const NOT_FINITE_CODE: ErrorCode = ErrorCode::InvalidArgument;

/// `a <operation> b`, as the `CALCULATE` handler computes it.
pub fn calculate(request: &Calculate) -> f64 {
    match request.operation {
        Operation::Add => request.a + request.b,
        Operation::Multiply => request.a * request.b,
    }
}

/// A client message on its way back: the same wire type and payload, declared
/// server→client. The oracle predicts an echo of every client message, and the server may
/// send only server→client messages.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
struct Echo<M>(M);

impl<M: Validate> Validate for Echo<M> {
    fn validate_into(&self, v: &mut Validator) {
        self.0.validate_into(v);
    }
}

impl<M: schemars::JsonSchema> schemars::JsonSchema for Echo<M> {
    fn schema_name() -> Cow<'static, str> {
        M::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        M::json_schema(generator)
    }
}

impl<M: Message> Message for Echo<M> {
    const WIRE_TYPE: &'static str = M::WIRE_TYPE;
    const HAS_PAYLOAD: bool = M::HAS_PAYLOAD;
    const DOC: &'static str = M::DOC;
    const RUST_NAME: &'static str = M::RUST_NAME;
    const RUST_PATH: &'static str = M::RUST_PATH;
    type Meta = M::Meta;
}

impl<M: Message> ServerMessage for Echo<M> {}

/// Sends the message back with the meta keys it came with.
async fn echo<M: Message>(ctx: Context<()>, msg: M) -> Result<(), ErrorPayload> {
    ctx.send_with_meta(&Echo(msg), &ctx.meta().extra)?;
    Ok(())
}

/// The fuzz server's routes:
///
/// - `AUTHENTICATE`, `LEAVE_ROOM`, `SEND_MESSAGE`, `TYPING_START`, `TYPING_STOP`, `POKE`:
///   echoed with their meta keys.
/// - `JOIN_ROOM`: leaves every topic, subscribes to `room:<id>` and publishes the request
///   there, so the connection receives it through pub/sub (without meta). A room id that
///   makes an invalid topic is answered [`BAD_ROOM_CODE`].
/// - `GET_MESSAGES`: an empty `MESSAGES` for the room.
/// - `CALCULATE`: the result, or [`NOT_FINITE_CODE`] when it is not finite.
pub fn router() -> Router<()> {
    Router::<()>::new()
        .on(echo::<Authenticate>)
        .on(echo::<LeaveRoom>)
        .on(echo::<SendMessage>)
        .on(echo::<TypingStart>)
        .on(echo::<TypingStop>)
        .on(echo::<Poke>)
        .on(|ctx: Context<()>, join: JoinRoom| async move {
            for topic in ctx.topics() {
                ctx.unsubscribe(&topic).await?;
            }
            let topic = format!("{ROOM_TOPIC_PREFIX}{}", join.room_id);
            ctx.subscribe(&topic)
                .await
                .map_err(|err| ErrorPayload::new(BAD_ROOM_CODE, err.to_string()))?;
            ctx.publish(&topic, &Echo(join)).await?;
            Ok(())
        })
        .rpc(
            |_ctx: RpcContext<(), GetMessages>, request: GetMessages| async move {
                Ok(Messages {
                    room_id: request.room_id,
                    messages: Vec::new(),
                })
            },
        )
        .rpc(
            |_ctx: RpcContext<(), Calculate>, request: Calculate| async move {
                let result = calculate(&request);
                if result.is_finite() {
                    Ok(CalculateResult { result })
                } else {
                    Err(ErrorPayload::new(
                        NOT_FINITE_CODE,
                        "the result is not a finite number",
                    ))
                }
            },
        )
}
