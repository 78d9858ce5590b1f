//! The chat protocol end to end, through the router the code generator emits for it
//! (`examples/chat/generated/router.rs`: a handler trait with one method per client message
//! and RPC, and a function that builds the runtime router from an implementation).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chat_protocol::{
    AuthSuccess, Authenticate, Calculate, CalculateResult, ChatMessage, GetMessages, JoinRoom,
    LeaveRoom, Messages, Operation, RoomInfo, RoomList, SendMessage, TypingStart, TypingStop,
    UserJoined, UserLeft, UserTyping,
};
use tokio::sync::mpsc;
use twinwire::{ErrorCode, ErrorPayload};
use twinwire_runtime::{
    Client, CloseInfo, Context, PublishOptions, RequestError, RpcContext, ServerConfig,
};

use crate::common::{PATIENCE, start};

// ---- The router the code generator emits for the chat protocol (its `router.rs`). ----
// Included, not copied, so this test breaks when the generated shape and the runtime drift.

include!("../../../examples/chat/generated/router.rs");

// ---- The app: a chat server implementing the trait. ----

#[derive(Default)]
struct Session {
    user: Option<(String, String)>,
    room: Option<String>,
}

#[derive(Default)]
struct ChatServer {
    history: Mutex<HashMap<String, Vec<ChatMessage>>>,
    next_id: AtomicU64,
}

const ROOMS: [&str; 2] = ["general", "random"];

fn topic(room: &str) -> String {
    format!("room:{room}")
}

fn user_of(ctx: &Context<Session>) -> Result<(String, String), ErrorPayload> {
    ctx.data(|s| s.user.clone())
        .ok_or_else(|| ErrorPayload::new(ErrorCode::Unauthenticated, "authenticate first"))
}

fn room_of(ctx: &Context<Session>) -> Result<String, ErrorPayload> {
    ctx.data(|s| s.room.clone())
        .ok_or_else(|| ErrorPayload::new(ErrorCode::FailedPrecondition, "join a room first"))
}

impl ChatHandlers<Session> for ChatServer {
    async fn authenticate(
        &self,
        ctx: Context<Session>,
        p: Authenticate,
    ) -> Result<(), ErrorPayload> {
        let name = p
            .token
            .strip_prefix("token-")
            .ok_or_else(|| ErrorPayload::new(ErrorCode::Unauthenticated, "bad token"))?
            .to_owned();
        let id = format!("u-{name}");
        ctx.data_mut(|s| s.user = Some((id.clone(), name.clone())));
        ctx.send(&AuthSuccess {
            user_id: id,
            user_name: name,
        })?;
        Ok(())
    }

    async fn join_room(&self, ctx: Context<Session>, p: JoinRoom) -> Result<(), ErrorPayload> {
        let (user_id, user_name) = user_of(&ctx)?;
        if !ROOMS.contains(&p.room_id.as_str()) {
            return Err(ErrorPayload::new(ErrorCode::NotFound, "no such room"));
        }
        ctx.subscribe(&topic(&p.room_id)).await?;
        ctx.data_mut(|s| s.room = Some(p.room_id.clone()));
        let joined = UserJoined {
            room_id: p.room_id.clone(),
            user_id,
            user_name,
        };
        ctx.publish(&topic(&p.room_id), &joined).await?;
        Ok(())
    }

    async fn leave_room(&self, ctx: Context<Session>, p: LeaveRoom) -> Result<(), ErrorPayload> {
        let (user_id, _) = user_of(&ctx)?;
        ctx.unsubscribe(&topic(&p.room_id)).await?;
        ctx.publish(
            &topic(&p.room_id),
            &UserLeft {
                room_id: p.room_id,
                user_id,
            },
        )
        .await?;
        Ok(())
    }

    async fn send_message(
        &self,
        ctx: Context<Session>,
        p: SendMessage,
    ) -> Result<(), ErrorPayload> {
        let (user_id, user_name) = user_of(&ctx)?;
        if room_of(&ctx)? != p.room_id {
            return Err(ErrorPayload::new(
                ErrorCode::PermissionDenied,
                "not in that room",
            ));
        }
        let message = ChatMessage {
            id: self.next_id.fetch_add(1, Ordering::Relaxed).to_string(),
            room_id: p.room_id.clone(),
            user_id,
            user_name,
            text: p.text,
            attachment: p.attachment,
            timestamp: 1,
        };
        self.history
            .lock()
            .unwrap()
            .entry(p.room_id.clone())
            .or_default()
            .push(message.clone());
        ctx.publish(&topic(&p.room_id), &message).await?;
        Ok(())
    }

    async fn typing_start(
        &self,
        ctx: Context<Session>,
        p: TypingStart,
    ) -> Result<(), ErrorPayload> {
        typing(&ctx, p.room_id, true).await
    }

    async fn typing_stop(&self, ctx: Context<Session>, p: TypingStop) -> Result<(), ErrorPayload> {
        typing(&ctx, p.room_id, false).await
    }

    async fn get_messages(
        &self,
        _: RpcContext<Session, GetMessages>,
        r: GetMessages,
    ) -> Result<Messages, ErrorPayload> {
        let history = self.history.lock().unwrap();
        let all = history.get(&r.room_id).cloned().unwrap_or_default();
        let skip = all.len().saturating_sub(r.limit as usize);
        Ok(Messages {
            room_id: r.room_id,
            messages: all[skip..].to_vec(),
        })
    }

    async fn calculate(
        &self,
        _: RpcContext<Session, Calculate>,
        r: Calculate,
    ) -> Result<CalculateResult, ErrorPayload> {
        let result = match r.operation {
            Operation::Add => r.a + r.b,
            Operation::Multiply => r.a * r.b,
        };
        Ok(CalculateResult { result })
    }

    async fn on_open(&self, ctx: Context<Session>) {
        let rooms = ROOMS
            .iter()
            .map(|r| RoomInfo {
                id: (*r).into(),
                name: r.to_uppercase(),
                user_count: 0,
            })
            .collect();
        let _ = ctx.send(&RoomList { rooms });
    }

    async fn on_close(&self, ctx: Context<Session>, _: CloseInfo) {
        let (Some((user_id, _)), Some(room_id)) = ctx.data(|s| (s.user.clone(), s.room.clone()))
        else {
            return;
        };
        let _ = ctx
            .publish(
                &topic(&room_id),
                &UserLeft {
                    room_id: room_id.clone(),
                    user_id,
                },
            )
            .await;
    }
}

async fn typing(ctx: &Context<Session>, room_id: String, typing: bool) -> Result<(), ErrorPayload> {
    let (user_id, user_name) = user_of(ctx)?;
    let event = UserTyping {
        room_id: room_id.clone(),
        user_id,
        user_name,
        typing,
    };
    ctx.publish_with(
        &topic(&room_id),
        &event,
        PublishOptions::new().exclude_self(),
    )
    .await?;
    Ok(())
}

/// A connected chat user with a channel per server message it cares about.
struct User {
    client: Client,
    rooms: mpsc::UnboundedReceiver<RoomList>,
    auth: mpsc::UnboundedReceiver<AuthSuccess>,
    joined: mpsc::UnboundedReceiver<UserJoined>,
    left: mpsc::UnboundedReceiver<UserLeft>,
    messages: mpsc::UnboundedReceiver<ChatMessage>,
    typing: mpsc::UnboundedReceiver<UserTyping>,
    errors: mpsc::UnboundedReceiver<ErrorPayload>,
}

fn channel<M: twinwire::Message>(client: &Client) -> mpsc::UnboundedReceiver<M> {
    let (tx, rx) = mpsc::unbounded_channel();
    client.on(move |m: M, _| {
        let _ = tx.send(m);
    });
    rx
}

async fn next<T>(rx: &mut mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(PATIENCE, rx.recv())
        .await
        .unwrap()
        .unwrap()
}

impl User {
    async fn connect(url: &str, name: &str) -> Self {
        let client = Client::connect(url).await.unwrap();
        let (etx, errors) = mpsc::unbounded_channel();
        client.on_error(move |e, _| {
            let _ = etx.send(e);
        });
        let mut user = User {
            rooms: channel(&client),
            auth: channel(&client),
            joined: channel(&client),
            left: channel(&client),
            messages: channel(&client),
            typing: channel(&client),
            errors,
            client,
        };
        user.client
            .send(&Authenticate {
                token: format!("token-{name}"),
            })
            .await
            .unwrap();
        assert_eq!(next(&mut user.auth).await.user_name, name);
        user
    }
}

#[tokio::test]
async fn the_chat_protocol_runs_on_a_router_of_the_generated_shape() {
    let router = chat_router(ChatServer::default()).initial_data(Session::default);
    let server = start(
        router,
        ServerConfig::default().close_timeout(Duration::from_millis(200)),
    )
    .await;
    let url = server.url();

    let mut alice = User::connect(&url, "alice").await;
    let mut bob = User::connect(&url, "bob").await;
    // The room list arrived on open, before anything was asked.
    assert_eq!(next(&mut alice.rooms).await.rooms.len(), 2);

    alice
        .client
        .send(&JoinRoom {
            room_id: "general".into(),
        })
        .await
        .unwrap();
    assert_eq!(next(&mut alice.joined).await.user_name, "alice");
    bob.client
        .send(&JoinRoom {
            room_id: "general".into(),
        })
        .await
        .unwrap();
    assert_eq!(next(&mut alice.joined).await.user_name, "bob");
    assert_eq!(next(&mut bob.joined).await.user_name, "bob");

    alice
        .client
        .send(&SendMessage {
            room_id: "general".into(),
            text: "hello".into(),
            attachment: None,
        })
        .await
        .unwrap();
    for user in [&mut alice, &mut bob] {
        let message = next(&mut user.messages).await;
        assert_eq!(
            (message.user_name.as_str(), message.text.as_str()),
            ("alice", "hello")
        );
    }

    // Typing indicators exclude the typist.
    bob.client
        .send(&TypingStart {
            room_id: "general".into(),
        })
        .await
        .unwrap();
    let typing = next(&mut alice.typing).await;
    assert!(typing.typing && typing.user_name == "bob");

    // The client refuses an invalid payload with the paths the server would report…
    let refused = bob
        .client
        .send(&SendMessage {
            room_id: String::new(),
            text: String::new(),
            attachment: None,
        })
        .await;
    match refused {
        Err(twinwire_runtime::ClientError::Invalid(invalid)) => {
            let paths: Vec<_> = invalid.issues.iter().map(|i| i.path.as_str()).collect();
            assert_eq!(paths, ["/roomId", "/text"]);
        }
        other => panic!("expected the client to refuse the payload, got {other:?}"),
    }
    // …and the server validates before the handler, with every failing path.
    bob.client
        .send_text(r#"{"type":"SEND_MESSAGE","payload":{"roomId":"","text":""}}"#)
        .await
        .unwrap();
    let error = next(&mut bob.errors).await;
    assert_eq!(error.code, ErrorCode::InvalidArgument);
    let paths: Vec<_> = error.details.unwrap()["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(paths, ["/roomId", "/text"]);
    assert!(
        bob.typing.try_recv().is_err(),
        "the typist got its own indicator"
    );

    let history = bob
        .client
        .request(
            &GetMessages {
                room_id: "general".into(),
                limit: 10,
            },
            PATIENCE,
        )
        .await
        .unwrap();
    assert_eq!(history.messages.len(), 1);
    let product = alice
        .client
        .request(
            &Calculate {
                operation: Operation::Multiply,
                a: 6.0,
                b: 7.0,
            },
            PATIENCE,
        )
        .await
        .unwrap();
    assert_eq!(product.result, 42.0);
    match alice
        .client
        .request(
            &GetMessages {
                room_id: "general".into(),
                limit: 0,
            },
            PATIENCE,
        )
        .await
    {
        // Refused by the client as the server would refuse it (`INVALID_ARGUMENT` at
        // `/limit`); nothing is sent.
        Err(RequestError::Invalid(invalid)) => {
            assert_eq!(invalid.issues[0].path, "/limit");
            assert_eq!(invalid.issues[0].code, "too_small");
        }
        other => panic!("limit 0 is out of range: {other:?}"),
    }

    // Leaving by disconnecting is announced by the close hook.
    drop(alice);
    assert_eq!(next(&mut bob.left).await.user_id, "u-alice");
    drop(bob);
    server.shutdown().await.unwrap();
}
