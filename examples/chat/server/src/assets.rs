//! The web page: files of the built frontend folder over plain HTTP `GET`.
//!
//! Only paths made of plain names (`[A-Za-z0-9._-]`, not starting with a dot) are served,
//! so a request can never leave the folder or reach hidden files; anything else is a 404.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use twinwire_runtime::axum::body::Body;
use twinwire_runtime::axum::http::{HeaderValue, Method, Response, StatusCode, Uri, header};

/// The page's content security policy: scripts, styles and connections only from this
/// server, so injected markup could not run or load anything even if it reached the DOM.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// Serves files of `dir` (`index.html` for a path ending in `/`).
#[derive(Clone, Debug)]
pub(crate) struct Assets {
    dir: Arc<Path>,
}

impl Assets {
    pub(crate) fn new(dir: PathBuf) -> Self {
        Self {
            dir: Arc::from(dir),
        }
    }

    /// Whether the page has been built into the folder.
    pub(crate) fn has_index(&self) -> bool {
        self.dir.join("index.html").is_file()
    }

    pub(crate) async fn respond(&self, method: &Method, uri: &Uri) -> Response<Body> {
        if method != Method::GET && method != Method::HEAD {
            return text(
                StatusCode::METHOD_NOT_ALLOWED,
                "only GET and HEAD are served\n",
            );
        }
        let Some(relative) = relative_path(uri.path()) else {
            return not_found(uri.path());
        };
        let path = self.dir.join(&relative);
        match tokio::fs::read(&path).await {
            Ok(bytes) => {
                let mut response = Response::new(if method == Method::HEAD {
                    Body::empty()
                } else {
                    Body::from(bytes)
                });
                let headers = response.headers_mut();
                let kind = content_type(&relative);
                headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
                // The bundle is rebuilt in place; always revalidate so a reload picks it up.
                headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
                headers.insert(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                );
                if kind.starts_with("text/html") {
                    headers.insert(
                        header::CONTENT_SECURITY_POLICY,
                        HeaderValue::from_static(PAGE_CSP),
                    );
                }
                response
            }
            Err(err) if is_missing(&err) => {
                if relative == Path::new("index.html") {
                    text(
                        StatusCode::NOT_FOUND,
                        "The chat page is not built. Build it with `bash examples/chat/run.sh` \
                         (or `node examples/chat/web/build.mjs`) from the repository root.\n",
                    )
                } else {
                    not_found(uri.path())
                }
            }
            Err(err) => text(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("could not read {}: {err}\n", relative.display()),
            ),
        }
    }
}

fn is_missing(err: &io::Error) -> bool {
    // A directory where a file was asked for reads as "is a directory" on Linux.
    matches!(
        err.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::IsADirectory | io::ErrorKind::NotADirectory
    )
}

/// The file a URL path names inside the folder, or `None` if it names anything else.
fn relative_path(url_path: &str) -> Option<PathBuf> {
    let trimmed = url_path.strip_prefix('/')?;
    let mut path = PathBuf::new();
    let mut segments = trimmed.split('/').peekable();
    while let Some(segment) = segments.next() {
        if segment.is_empty() && segments.peek().is_none() {
            path.push("index.html");
            return Some(path);
        }
        let plain = !segment.is_empty()
            && !segment.starts_with('.')
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !plain {
            return None;
        }
        path.push(segment);
    }
    Some(path)
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|ext| ext.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn not_found(path: &str) -> Response<Body> {
    text(StatusCode::NOT_FOUND, &format!("{path} is not here\n"))
}

fn text(status: StatusCode, body: &str) -> Response<Body> {
    let mut response = Response::new(Body::from(body.to_owned()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_map_into_the_folder() {
        let cases = [
            ("/", "index.html"),
            ("/app.js", "app.js"),
            ("/assets/app.js.map", "assets/app.js.map"),
            ("/sub/", "sub/index.html"),
        ];
        for (url, file) in cases {
            assert_eq!(relative_path(url), Some(PathBuf::from(file)), "{url}");
        }
    }

    #[test]
    fn paths_that_could_leave_the_folder_or_reach_hidden_files_are_refused() {
        for url in [
            "/../Cargo.toml",
            "/a/../../b",
            "/.git/config",
            "/%2e%2e/secret",
            "//etc/passwd",
            "/a//b",
            "/a\\b",
            "relative",
            "/.",
        ] {
            assert_eq!(relative_path(url), None, "{url}");
        }
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(
            content_type(Path::new("index.html")),
            "text/html; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("app.js")),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("README")),
            "application/octet-stream"
        );
    }
}
