//! The chat's rules, each through real WebSocket connections.
//!
//! "Did not receive" checks follow a causally later frame on the same path (e.g. the
//! room's next message), so a frame that should not exist would have arrived first.

use chat_protocol::{
    Authenticate, Calculate, ChatMessage, GetMessages, JoinRoom, LeaveRoom, Operation, RoomList,
    SendMessage, TypingStart, TypingStop, UserJoined, UserLeft, UserTyping,
};
use serde_json::json;
use twinwire::{ErrorCode, ErrorPayload};
use twinwire_runtime::RequestError;

use crate::common::{PATIENCE, Peer, count, start, start_with};

fn rpc_error<T: std::fmt::Debug>(result: Result<T, RequestError>) -> ErrorPayload {
    match result {
        Err(RequestError::Rpc(err)) => err,
        other => panic!("expected an RPC_ERROR, got {other:?}"),
    }
}

fn history(room: &str, limit: u32) -> GetMessages {
    GetMessages {
        room_id: room.into(),
        limit,
    }
}

#[tokio::test]
async fn a_guest_gets_the_room_list_on_connect_and_a_name_when_signing_in() {
    let server = start().await;
    let mut guest = Peer::connect(&server).await;
    let list: RoomList = guest.next().await;
    let ids: Vec<&str> = list.rooms.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["general", "random", "tech"]);
    assert!(list.rooms.iter().all(|r| r.user_count == 0), "{list:?}");

    // A token names its user; the display name is trimmed.
    guest
        .send(&Authenticate {
            token: server.accounts().issue("  alice "),
        })
        .await;
    let alice: chat_protocol::AuthSuccess = guest.next().await;
    assert_eq!(alice.user_name, "alice");

    // A token without visible text keeps the guest name; ids differ per connection.
    let mut other = Peer::connect(&server).await;
    other
        .send(&Authenticate {
            token: server.accounts().issue(" "),
        })
        .await;
    let anonymous: chat_protocol::AuthSuccess = other.next().await;
    assert!(anonymous.user_name.starts_with("Guest "), "{anonymous:?}");
    assert_ne!(anonymous.user_id, alice.user_id);

    // A token the server did not sign is refused, and signs nobody in.
    let forged = server
        .accounts()
        .issue("alice")
        .replace("616c696365", "6d616c6c6f7279");
    other.send(&Authenticate { token: forged }).await;
    assert_eq!(other.next_error().await.code, ErrorCode::Unauthenticated);

    // An empty token breaks the protocol's constraint: refused before the handler runs.
    other
        .client
        .send_text(r#"{"type":"AUTHENTICATE","payload":{"token":""}}"#)
        .await
        .unwrap();
    let err = other.next_error().await;
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    assert_eq!(err.details.unwrap()["issues"][0]["path"], json!("/token"));
}

#[tokio::test]
async fn joining_needs_a_signed_in_user_and_an_existing_room() {
    let server = start().await;
    let mut peer = Peer::connect(&server).await;
    peer.send(&JoinRoom {
        room_id: "general".into(),
    })
    .await;
    assert_eq!(peer.next_error().await.code, ErrorCode::Unauthenticated);

    peer.send(&Authenticate {
        token: server.accounts().issue("alice"),
    })
    .await;
    let auth: chat_protocol::AuthSuccess = peer.next().await;
    peer.send(&JoinRoom {
        room_id: "nowhere".into(),
    })
    .await;
    let err = peer.next_error().await;
    assert_eq!(err.code, ErrorCode::NotFound);
    assert_eq!(err.details, Some(json!({ "roomId": "nowhere" })));

    let joined = peer.join("general").await;
    assert_eq!(
        joined,
        UserJoined {
            room_id: "general".into(),
            user_id: auth.user_id,
            user_name: "alice".into(),
        }
    );
    // No error was sent for the successful join.
    peer.sync().await;
    assert!(peer.received_frames("ERROR").is_empty());
}

#[tokio::test]
async fn a_join_is_announced_to_the_room_and_switching_rooms_leaves_the_previous_one() {
    let server = start().await;
    let (mut alice, _) = Peer::in_room(&server, "alice", "general").await;
    let (mut bob, bob_auth) = Peer::in_room(&server, "bob", "general").await;

    let announced: UserJoined = alice.next().await;
    assert_eq!(announced.user_name, "bob");
    assert_eq!(announced.user_id, bob_auth.user_id);

    // Re-joining the current room confirms again without a second announcement.
    bob.join("general").await;

    bob.join("random").await;
    let left: UserLeft = alice.next().await;
    assert_eq!(
        left,
        UserLeft {
            room_id: "general".into(),
            user_id: bob_auth.user_id.clone(),
        }
    );
    assert!(
        alice.received::<UserJoined>().is_empty(),
        "the re-join was announced again"
    );

    // Bob no longer hears general, and hears random.
    alice.post("general", "bob is gone").await;
    let echo = bob.post("random", "hello random").await;
    assert_eq!(echo.room_id, "random");
    assert!(
        bob.received::<ChatMessage>().is_empty(),
        "bob still receives general: {:?}",
        bob.received::<ChatMessage>()
    );

    // A newcomer's room list shows where everybody is.
    let mut newcomer = Peer::connect(&server).await;
    let list: RoomList = newcomer.next().await;
    assert_eq!(count(&list, "general"), 1);
    assert_eq!(count(&list, "random"), 1);
    assert_eq!(count(&list, "tech"), 0);
}

#[tokio::test]
async fn member_counts_reach_every_connection_as_they_change() {
    let server = start().await;
    let mut watcher = Peer::connect(&server).await;
    let initial: RoomList = watcher.next().await;
    assert_eq!(count(&initial, "tech"), 0);

    let (mut alice, _) = Peer::in_room(&server, "alice", "tech").await;
    let after_join: RoomList = watcher.next().await;
    assert_eq!(count(&after_join, "tech"), 1);

    alice
        .send(&LeaveRoom {
            room_id: "tech".into(),
        })
        .await;
    let _: UserLeft = alice.next().await;
    let after_leave: RoomList = watcher.next().await;
    assert_eq!(count(&after_leave, "tech"), 0);
}

#[tokio::test]
async fn messages_are_posted_from_inside_a_room_to_its_members_only() {
    let server = start().await;
    let mut stranger = Peer::connect(&server).await;
    let post = |room: &str| SendMessage {
        room_id: room.into(),
        text: "hi".into(),
        attachment: None,
    };
    stranger.send(&post("general")).await;
    assert_eq!(stranger.next_error().await.code, ErrorCode::Unauthenticated);

    let (mut alice, alice_auth) = Peer::signed_in(&server, "alice").await;
    alice.send(&post("general")).await;
    let outside = alice.next_error().await;
    assert_eq!(outside.code, ErrorCode::PermissionDenied);
    assert!(outside.message.contains("general"), "{outside:?}");

    alice.join("general").await;
    let (mut bob, _) = Peer::in_room(&server, "bob", "general").await;
    let (mut carol, _) = Peer::in_room(&server, "carol", "random").await;
    alice.send(&post("random")).await;
    assert_eq!(alice.next_error().await.code, ErrorCode::PermissionDenied);

    let first = alice.post("general", "<b>hello</b> & welcome").await;
    let seen: ChatMessage = bob.next().await;
    assert_eq!(seen, first);
    assert_eq!(seen.user_id, alice_auth.user_id);
    assert_eq!(seen.user_name, "alice");
    assert_eq!(
        seen.text, "<b>hello</b> & welcome",
        "text is passed on verbatim"
    );
    assert!(seen.timestamp > 0);

    let second = alice.post("general", "again").await;
    assert!(
        second.id.parse::<u64>().unwrap() > first.id.parse::<u64>().unwrap(),
        "{first:?} then {second:?}"
    );

    // Carol, in another room, got nothing; her own post proves her stream is current.
    carol.post("random", "anyone?").await;
    assert!(carol.received::<ChatMessage>().is_empty());
}

#[tokio::test]
async fn typing_reaches_the_others_in_the_room_but_not_the_typist() {
    let server = start().await;
    let (mut alice, alice_auth) = Peer::in_room(&server, "alice", "general").await;
    let (mut bob, _) = Peer::in_room(&server, "bob", "general").await;

    alice
        .send(&TypingStart {
            room_id: "general".into(),
        })
        .await;
    let started: UserTyping = bob.next().await;
    assert_eq!(
        started,
        UserTyping {
            room_id: "general".into(),
            user_id: alice_auth.user_id.clone(),
            user_name: "alice".into(),
            typing: true,
        }
    );
    alice
        .send(&TypingStop {
            room_id: "general".into(),
        })
        .await;
    let stopped: UserTyping = bob.next().await;
    assert!(!stopped.typing);

    // Bob's message is published after both typing events; alice has it, and no typing.
    bob.post("general", "you typed?").await;
    let _: ChatMessage = alice.next().await;
    assert!(alice.received::<UserTyping>().is_empty());

    // Typing in a room you are not in is refused.
    alice
        .send(&TypingStart {
            room_id: "random".into(),
        })
        .await;
    assert_eq!(alice.next_error().await.code, ErrorCode::PermissionDenied);
}

#[tokio::test]
async fn leaving_and_disconnecting_announce_user_left() {
    let server = start().await;
    let (mut alice, _) = Peer::in_room(&server, "alice", "general").await;
    let (mut bob, bob_auth) = Peer::in_room(&server, "bob", "general").await;
    let _: UserJoined = alice.next().await;

    let leave = LeaveRoom {
        room_id: "general".into(),
    };
    bob.send(&leave).await;
    let confirmed: UserLeft = bob.next().await;
    let announced: UserLeft = alice.next().await;
    assert_eq!(confirmed, announced);
    assert_eq!(announced.user_id, bob_auth.user_id);

    bob.send(&leave).await;
    assert_eq!(bob.next_error().await.code, ErrorCode::FailedPrecondition);
    bob.send(&LeaveRoom {
        room_id: "nowhere".into(),
    })
    .await;
    assert_eq!(bob.next_error().await.code, ErrorCode::NotFound);

    bob.join("general").await;
    let _: UserJoined = alice.next().await;
    bob.client.close(1000, "bye").await.unwrap();
    let gone: UserLeft = alice.next().await;
    assert_eq!(gone.user_id, bob_auth.user_id);

    let mut newcomer = Peer::connect(&server).await;
    let list: RoomList = newcomer.next().await;
    assert_eq!(count(&list, "general"), 1, "only alice is left");
}

#[tokio::test]
async fn history_returns_the_newest_messages_oldest_first_bounded_per_room() {
    let server = start_with(|config| config.history_limit = 3).await;
    let (mut alice, _) = Peer::in_room(&server, "alice", "general").await;
    for text in ["one", "two", "three", "four", "five"] {
        alice.post("general", text).await;
    }
    let texts = |messages: &[ChatMessage]| -> Vec<String> {
        messages.iter().map(|m| m.text.clone()).collect()
    };

    let (late, _) = Peer::in_room(&server, "late", "general").await;
    let all = late
        .client
        .request(&history("general", 50), PATIENCE)
        .await
        .unwrap();
    assert_eq!(all.room_id, "general");
    assert_eq!(texts(&all.messages), ["three", "four", "five"]);
    let newest = late
        .client
        .request(&history("general", 2), PATIENCE)
        .await
        .unwrap();
    assert_eq!(texts(&newest.messages), ["four", "five"]);

    // Rooms keep separate histories.
    let (other, _) = Peer::in_room(&server, "other", "random").await;
    let empty = other
        .client
        .request(&history("random", 50), PATIENCE)
        .await
        .unwrap();
    assert!(empty.messages.is_empty());

    // Only members read a room's history.
    let err = rpc_error(
        other
            .client
            .request(&history("general", 50), PATIENCE)
            .await,
    );
    assert_eq!(err.code, ErrorCode::PermissionDenied);
    let err = rpc_error(
        other
            .client
            .request(&history("nowhere", 50), PATIENCE)
            .await,
    );
    assert_eq!(err.code, ErrorCode::NotFound);
    let stranger = Peer::connect(&server).await;
    let err = rpc_error(
        stranger
            .client
            .request(&history("general", 50), PATIENCE)
            .await,
    );
    assert_eq!(err.code, ErrorCode::Unauthenticated);

    // The protocol's bounds on `limit` are enforced before the handler runs: the Rust client
    // refuses to send such a request, with the server's path…
    match other.client.request(&history("random", 0), PATIENCE).await {
        Err(RequestError::Invalid(invalid)) => assert_eq!(invalid.issues[0].path, "/limit"),
        result => panic!("expected the client to refuse `limit: 0`, got {result:?}"),
    }
    // …and the server refuses it from a client that sends it anyway.
    let (tx, mut refusals) = tokio::sync::mpsc::unbounded_channel();
    other.client.on_type("RPC_ERROR", move |_meta, payload| {
        let _ = tx.send(payload.map(|raw| raw.get().to_owned()));
    });
    other
        .client
        .send_text(r#"{"type":"GET_MESSAGES","meta":{"correlationId":"raw-1"},"payload":{"roomId":"random","limit":0}}"#)
        .await
        .unwrap();
    let refusal = tokio::time::timeout(PATIENCE, refusals.recv())
        .await
        .unwrap()
        .flatten()
        .unwrap();
    let err: ErrorPayload = serde_json::from_str(&refusal).unwrap();
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    assert_eq!(err.details.unwrap()["issues"][0]["path"], json!("/limit"));
    other.sync().await;
}

#[tokio::test]
async fn calculate_adds_and_multiplies_and_refuses_results_json_cannot_carry() {
    let server = start().await;
    let peer = Peer::connect(&server).await;
    let calc = |operation, a, b| Calculate { operation, a, b };
    let sum = peer
        .client
        .request(&calc(Operation::Add, 2.0, 3.5), PATIENCE)
        .await
        .unwrap();
    assert_eq!(sum.result, 5.5);
    let product = peer
        .client
        .request(&calc(Operation::Multiply, 4.0, -2.5), PATIENCE)
        .await
        .unwrap();
    assert_eq!(product.result, -10.0);
    let err = rpc_error(
        peer.client
            .request(&calc(Operation::Multiply, 1e308, 10.0), PATIENCE)
            .await,
    );
    assert_eq!(err.code, ErrorCode::InvalidArgument);
}

#[tokio::test]
async fn a_message_over_1000_characters_is_refused_with_its_path_and_one_of_1000_is_posted() {
    let server = start().await;
    let (mut alice, _) = Peer::in_room(&server, "alice", "general").await;
    let frame = |text: &str| {
        json!({ "type": "SEND_MESSAGE", "payload": { "roomId": "general", "text": text } })
            .to_string()
    };
    alice
        .client
        .send_text(frame(&"é".repeat(1001)))
        .await
        .unwrap();
    let err = alice.next_error().await;
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    let issues = &err.details.unwrap()["issues"];
    assert_eq!(issues.as_array().unwrap().len(), 1, "{issues}");
    assert_eq!(issues[0]["path"], json!("/text"));
    assert_eq!(issues[0]["code"], json!("too_long"));

    // Characters are counted, not bytes: 1000 two-byte characters are fine.
    alice
        .client
        .send_text(frame(&"é".repeat(1000)))
        .await
        .unwrap();
    let posted: ChatMessage = alice.next().await;
    assert_eq!(posted.text.chars().count(), 1000);
}

#[tokio::test]
async fn a_token_at_the_upgrade_signs_in_and_a_bad_one_is_refused_with_4401() {
    let server = start().await;
    let token = server
        .accounts()
        .sign_in("bob", "builder")
        .expect("demo user");
    let client =
        twinwire_runtime::Client::connect(format!("{}?access_token={token}", server.ws_url()))
            .await
            .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    client.on(move |joined: chat_protocol::UserJoined, _| {
        let _ = tx.send(joined.user_name);
    });
    // No AUTHENTICATE: the upgrade signed the connection in.
    client
        .send(&JoinRoom {
            room_id: "general".into(),
        })
        .await
        .unwrap();
    let name = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
        .await
        .unwrap();
    assert_eq!(name.as_deref(), Some("bob"));

    let refused =
        twinwire_runtime::Client::connect(format!("{}?access_token=forged", server.ws_url()))
            .await
            .unwrap();
    let close = tokio::time::timeout(std::time::Duration::from_secs(10), refused.closed())
        .await
        .unwrap();
    assert_eq!(close.code, twinwire_runtime::close::UNAUTHENTICATED);
    assert_eq!(close.reason, "invalid token: sign in again");
}
