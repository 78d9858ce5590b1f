//! The page and its script come from the same port as the WebSocket endpoint.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{PATIENCE, start_with};

/// Status line, headers (lower-cased names) and body of one HTTP/1.1 exchange.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

async fn http(addr: std::net::SocketAddr, method: &str, path: &str) -> Reply {
    http_with_body(addr, method, path, "").await
}

async fn http_with_body(addr: std::net::SocketAddr, method: &str, path: &str, body: &str) -> Reply {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let length = body.len();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n{body}"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut raw))
        .await
        .unwrap()
        .unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Reply {
        status: status.parse().unwrap(),
        headers,
        body: body.to_owned(),
    }
}

fn page_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<!doctype html><p>chat</p>").unwrap();
    std::fs::write(dir.path().join("app.js"), "console.log('chat')").unwrap();
    std::fs::create_dir(dir.path().join("nested")).unwrap();
    std::fs::write(dir.path().join(".secret"), "hidden").unwrap();
    dir
}

#[tokio::test]
async fn the_page_and_its_script_are_served_next_to_the_websocket() {
    let dir = page_dir();
    let static_dir = dir.path().to_owned();
    let server = start_with(move |config| config.static_dir = static_dir).await;
    assert!(server.page_built());
    let addr = server.local_addr();

    let page = http(addr, "GET", "/").await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.body, "<!doctype html><p>chat</p>");
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");

    let script = http(addr, "GET", "/app.js").await;
    assert_eq!(script.status, 200);
    assert_eq!(
        script.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(script.header("cache-control"), Some("no-cache"));
    assert_eq!(script.body, "console.log('chat')");

    let head = http(addr, "HEAD", "/app.js").await;
    assert_eq!(head.status, 200);
    assert_eq!(head.body, "");

    // The WebSocket endpoint shares the port: a plain GET there is not a file.
    assert_ne!(http(addr, "GET", "/ws").await.status, 200);
}

#[tokio::test]
async fn nothing_outside_the_page_folder_or_hidden_is_served() {
    let dir = page_dir();
    let static_dir = dir.path().join("nested");
    std::fs::write(static_dir.join("index.html"), "inner").unwrap();
    let server = start_with(move |config| config.static_dir = static_dir).await;
    let addr = server.local_addr();

    for path in [
        "/../app.js",
        "/%2e%2e/app.js",
        "/..%2fapp.js",
        "/.secret",
        "/missing.js",
        "/nested",
    ] {
        let reply = http(addr, "GET", path).await;
        assert_eq!(reply.status, 404, "{path}: {}", reply.body);
        assert!(!reply.body.contains("console.log"), "{path}");
    }
    assert_eq!(http(addr, "POST", "/").await.status, 405);
}

#[tokio::test]
async fn an_unbuilt_page_says_how_to_build_it() {
    let empty = tempfile::tempdir().unwrap();
    let static_dir = empty.path().to_owned();
    let server = start_with(move |config| config.static_dir = static_dir).await;
    assert!(!server.page_built());
    let reply = http(server.local_addr(), "GET", "/").await;
    assert_eq!(reply.status, 404);
    assert!(
        reply.body.contains("examples/chat/run.sh"),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn sign_in_checks_the_password_and_issues_a_token_the_server_accepts() {
    let server = start_with(|_| {}).await;
    let addr = server.local_addr();
    let path = chat_server::SIGN_IN_PATH;

    let wrong = http_with_body(addr, "POST", path, r#"{"name":"alice","password":"nope"}"#).await;
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    assert!(wrong.body.contains("UNAUTHENTICATED"), "{}", wrong.body);
    let malformed = http_with_body(addr, "POST", path, "alice").await;
    assert_eq!(malformed.status, 400, "{}", malformed.body);

    let right = http_with_body(
        addr,
        "POST",
        path,
        r#"{"name":"alice","password":"wonderland"}"#,
    )
    .await;
    assert_eq!(right.status, 200, "{}", right.body);
    assert_eq!(right.header("content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_str(&right.body).unwrap();
    let token = body["token"].as_str().unwrap();
    assert_eq!(server.accounts().verify(token).as_deref(), Ok("alice"));
}
