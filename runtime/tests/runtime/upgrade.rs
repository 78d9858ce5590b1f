//! The upgrade: authenticate (token from header, subprotocol or query; 401/403), subprotocol
//! echo, the Origin allow-list, the connection limit, and mounting in an axum app with path
//! parameters.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use twinwire::rpc;
use twinwire_runtime::{
    Client, ClientError, RefusalMode, Rejection, Router, RpcContext, Server, ServerConfig,
    UpgradeRequest,
};

use crate::common::{Done, PATIENCE, Raw, start, test_config, test_router};

/// Who am I, according to the server?
#[rpc("WHOAMI", response = Done)]
pub struct Whoami;

struct User {
    name: String,
    peer_known: bool,
}

async fn authenticate(request: UpgradeRequest) -> Result<User, Rejection> {
    match request.token().as_deref() {
        Some("good") => Ok(User {
            name: request.path_param("room").unwrap_or("lobby").to_owned(),
            peer_known: request.remote_addr().is_some(),
        }),
        Some("banned") => Err(Rejection::forbidden("this account is banned")),
        _ => Err(Rejection::unauthenticated("a valid token is required")),
    }
}

fn auth_router() -> Router<User> {
    Router::new().authenticate(authenticate).rpc(
        |ctx: RpcContext<User, Whoami>, _: Whoami| async move {
            let note = ctx.data(|u| format!("{} {}", u.name, u.peer_known));
            Ok(Done { note })
        },
    )
}

async fn whoami(client: &Client) -> String {
    client.request(&Whoami, PATIENCE).await.unwrap().note
}

#[tokio::test]
async fn the_token_may_come_from_a_header_a_subprotocol_or_the_query() {
    let server = start(auth_router(), test_config()).await;
    let url = server.url();

    let by_header = Client::builder(&url)
        .bearer_token("good")
        .connect()
        .await
        .unwrap();
    assert_eq!(whoami(&by_header).await, "lobby true");
    assert_eq!(by_header.protocol(), None);

    // A browser can only pass it as a subprotocol, which must then be echoed.
    let by_protocol = Client::builder(&url)
        .subprotocol("bearer.good")
        .connect()
        .await
        .unwrap();
    assert_eq!(by_protocol.protocol(), Some("bearer.good"));
    assert_eq!(whoami(&by_protocol).await, "lobby true");

    let by_query = Client::connect(format!("{url}?access_token=good"))
        .await
        .unwrap();
    assert_eq!(whoami(&by_query).await, "lobby true");

    drop((by_header, by_protocol, by_query));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn rejections_are_http_errors_before_any_websocket() {
    let config = test_config().refusal(RefusalMode::Http);
    let server = start(auth_router(), config).await;
    let url = server.url();
    for (builder, status, code) in [
        (Client::builder(&url), 401, "UNAUTHENTICATED"),
        (
            Client::builder(&url).bearer_token("wrong"),
            401,
            "UNAUTHENTICATED",
        ),
        (
            Client::builder(&url).bearer_token("banned"),
            403,
            "PERMISSION_DENIED",
        ),
    ] {
        match builder.connect().await {
            Err(ClientError::Rejected { status: got, body }) => {
                assert_eq!(got, status);
                let body: serde_json::Value = serde_json::from_str(&body.unwrap()).unwrap();
                assert_eq!(body["code"], code);
            }
            other => panic!("expected HTTP {status}, got {other:?}"),
        }
    }
    assert_eq!(server.server().connection_count(), 0);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn by_default_rejections_are_close_codes_a_browser_can_see() {
    let server = start(auth_router(), test_config()).await;
    let url = server.url();
    for (builder, code, reason) in [
        (Client::builder(&url), 4401, "a valid token is required"),
        (
            Client::builder(&url).bearer_token("banned"),
            4403,
            "this account is banned",
        ),
    ] {
        let client = builder.connect().await.unwrap();
        let info = tokio::time::timeout(PATIENCE, client.closed())
            .await
            .unwrap();
        assert_eq!((info.code, info.reason.as_str()), (code, reason));
    }
    let custom = Rejection::with_status(
        axum::http::StatusCode::TOO_MANY_REQUESTS,
        twinwire::ErrorPayload::new(twinwire::ErrorCode::ResourceExhausted, "slow down"),
    );
    assert_eq!(custom.close_code(), 4429);
    // The refused socket's slot is given back once it has closed.
    tokio::time::timeout(PATIENCE, async {
        while server.server().connection_count() != 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap();
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_offered_subprotocol_is_echoed() {
    let server = start(test_router(), test_config()).await;
    let client = Client::builder(server.url())
        .subprotocol("bearer.abc")
        .subprotocol("chat.v1")
        .connect()
        .await
        .unwrap();
    assert_eq!(client.protocol(), Some("chat.v1"));
    drop(client);
    server.shutdown().await.unwrap();

    // With a configured list, the client's first offer the server speaks wins...
    let config = test_config().subprotocols(["chat.v2", "chat.v1"]);
    let server = start(test_router(), config).await;
    let client = Client::builder(server.url())
        .subprotocol("chat.v1")
        .subprotocol("chat.v2")
        .connect()
        .await
        .unwrap();
    assert_eq!(client.protocol(), Some("chat.v1"));
    // ...and an offer it does not speak gets no echo, which WebSocket clients refuse.
    let refused = Client::builder(server.url())
        .subprotocol("chat.v3")
        .connect()
        .await;
    assert!(
        matches!(refused, Err(ClientError::Connect(_))),
        "{refused:?}"
    );
    drop(client);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn origins_outside_the_allow_list_are_forbidden() {
    let config = test_config().allowed_origins(["https://chat.example.com"]);
    let server = start(test_router(), config).await;
    let url = server.url();
    match Client::builder(&url)
        .origin("https://evil.example.com")
        .connect()
        .await
    {
        Err(ClientError::Rejected { status: 403, .. }) => {}
        other => panic!("expected 403, got {other:?}"),
    }
    let allowed = Client::builder(&url)
        .origin("https://Chat.Example.com")
        .connect()
        .await
        .unwrap();
    // Non-browser clients send no Origin and are not affected.
    let native = Client::connect(&url).await.unwrap();
    drop((allowed, native));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_connection_limit_answers_503_until_a_place_frees_up() {
    let server = start(test_router(), test_config().max_connections(2)).await;
    let url = server.url();
    let first = Raw::connect(&url).await;
    let second = Client::connect(&url).await.unwrap();
    match Client::connect(&url).await {
        Err(ClientError::Rejected { status: 503, .. }) => {}
        other => panic!("expected 503, got {other:?}"),
    }
    assert_eq!(server.server().connection_count(), 2);
    drop(first);
    let third = tokio::time::timeout(PATIENCE, async {
        loop {
            if let Ok(client) = Client::connect(&url).await {
                return client;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("a place frees up once a connection ends");
    drop((second, third));
    server.shutdown().await.unwrap();
}

/// A plain HTTP/1.1 GET; returns the status line.
async fn http_get(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn mounted_in_an_axum_app_with_path_parameters() {
    let server = Server::builder(auth_router())
        .config(ServerConfig::default())
        .build()
        .unwrap();
    let app = axum::Router::new()
        .route("/rooms/{room}/ws", server.route())
        .route("/health", axum::routing::get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let http = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });

    let client = Client::builder(format!("ws://{addr}/rooms/room%2042/ws"))
        .bearer_token("good")
        .connect()
        .await
        .unwrap();
    // Path parameters are decoded; without connect info the peer address is unknown.
    assert_eq!(whoami(&client).await, "room 42 false");
    assert!(http_get(addr, "/health").await.contains("200"));
    // A plain GET on the WebSocket route is told to upgrade.
    assert!(http_get(addr, "/rooms/x/ws").await.contains("426"));

    drop(client);
    server.shutdown().await;
    stop.send(()).unwrap();
    http.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_panicking_authenticate_hook_is_a_500_not_a_dead_server() {
    let events = crate::common::Events::default();
    let router = Router::<User>::new()
        .authenticate(|request: UpgradeRequest| async move {
            if request.query("explode").is_some() {
                panic!("hook exploded");
            }
            Ok(User {
                name: "ok".into(),
                peer_known: true,
            })
        })
        .on_error(events.hook())
        .rpc(|ctx: RpcContext<User, Whoami>, _: Whoami| async move {
            Ok(Done {
                note: ctx.data(|u| u.name.clone()),
            })
        });
    let server = start(router, test_config()).await;
    match Client::connect(format!("{}?explode=1", server.url())).await {
        Err(ClientError::Rejected { status: 500, .. }) => {}
        other => panic!("expected HTTP 500, got {other:?}"),
    }
    let event = events
        .wait_for(|e| e.kind == twinwire_runtime::ErrorKind::Panic)
        .await;
    assert_eq!(event.cause.as_deref(), Some("hook exploded"));
    let client = Client::connect(server.url()).await.unwrap();
    assert_eq!(whoami(&client).await, "ok");
    assert_eq!(server.server().connection_count(), 1);
    drop(client);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn authenticate_sees_the_client_fingerprint_and_can_refuse_old_versions() {
    const RETIRED: &str = "00000000000000000000000000000001";
    let router = Router::<User>::new()
        .authenticate(|request: UpgradeRequest| async move {
            if request.fingerprint().as_deref() == Some(RETIRED) {
                return Err(Rejection::with_status(
                    axum::http::StatusCode::CONFLICT,
                    twinwire::ErrorPayload::new(
                        twinwire::ErrorCode::FailedPrecondition,
                        "this app is too old for the server: reload the page",
                    ),
                ));
            }
            Ok(User {
                name: request.fingerprint().unwrap_or_default().into_owned(),
                peer_known: true,
            })
        })
        .rpc(|ctx: RpcContext<User, Whoami>, _: Whoami| async move {
            Ok(Done {
                note: ctx.data(|u| u.name.clone()),
            })
        });
    let server = start(router, test_config()).await;
    let current = Client::builder(server.url())
        .fingerprint("abc123")
        .connect()
        .await
        .unwrap();
    assert_eq!(whoami(&current).await, "abc123");
    let anonymous = Client::connect(server.url()).await.unwrap();
    assert_eq!(whoami(&anonymous).await, "");
    // Refused the way a browser tab can see it: close code 4000 + 409, with the message.
    let retired = Client::builder(server.url())
        .fingerprint(RETIRED)
        .connect()
        .await
        .unwrap();
    let info = tokio::time::timeout(PATIENCE, retired.closed())
        .await
        .unwrap();
    assert_eq!(info.code, 4409);
    assert!(info.reason.contains("too old"), "{info:?}");
    drop((current, anonymous));
    server.shutdown().await.unwrap();
}
