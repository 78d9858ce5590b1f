//! Protocol evolution, proved: pairs of protocol versions, each labelled compatible or
//! breaking for old clients against the new server and for new clients against an old
//! server (a rollout), with sample frames that show it.
//!
//! Every version is a real declaration (`#[message]`, `#[data]`, `protocol!`), so its
//! manifest comes from `Protocol::manifest()` and its receivers are the real serde and
//! `Validate` code. A [`Probe`] is a frame (or an RPC call) one version sends; [`Case::run`]
//! first checks that the sender could produce it, then lets the other version receive it the
//! way twinwire peers do:
//! - a server reads client frames strictly, as the runtime does: unknown wire type →
//!   rejected (`UNIMPLEMENTED`), a payload where none is declared or none where one is →
//!   rejected, then serde (unknown fields rejected where the type says so) and `Validate`;
//! - a client reads server frames tolerantly, as issue 13 asks of both clients: an unknown
//!   wire type is ignored (accepted), unknown fields are dropped before serde reads the rest,
//!   then `Validate`; an unknown enum variant is still an error.
//!
//! [`Case::verify`] holds each label to its probes: a role labelled breaking needs a probe in
//! that role that is rejected, a role labelled compatible needs probes in that role and all
//! of them accepted. The integration test then holds `twinwire breaking`'s verdicts (and the
//! rules it names) to the labels.

use std::fmt;

use serde_json::Value;
use twinwire::{Direction, Manifest, Message, Protocol};

#[allow(missing_docs)] // Test data: each case documents itself in its `about` line.
pub mod cases;

#[doc(hidden)]
pub use serde_json::Value as __Value;
#[doc(hidden)]
pub use twinwire_runtime as __runtime;

/// Which of the two versions of a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The version deployed before the change.
    Old,
    /// The version after it.
    New,
}

impl Side {
    /// The other version.
    pub const fn other(self) -> Self {
        match self {
            Self::Old => Self::New,
            Self::New => Self::Old,
        }
    }
}

/// A pairing of versions in a mixed deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Clients of the old version against the new server.
    OldClientsNewServer,
    /// Clients of the new version against a server still on the old version.
    NewClientsOldServer,
}

impl Role {
    /// Both roles.
    pub const ALL: [Self; 2] = [Self::OldClientsNewServer, Self::NewClientsOldServer];

    /// The role of a conversation whose client runs `client`.
    pub const fn of_client(client: Side) -> Self {
        match client {
            Side::Old => Self::OldClientsNewServer,
            Side::New => Self::NewClientsOldServer,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::OldClientsNewServer => "old clients / new server",
            Self::NewClientsOldServer => "new clients / old server",
        })
    }
}

/// What a case claims for one role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Label {
    /// Every frame one side can send, the other accepts.
    Compatible,
    /// Some frame one side can send, the other rejects.
    Breaking,
}

/// Shorthand for [`Label::Breaking`].
pub const BREAKS: Label = Label::Breaking;
/// Shorthand for [`Label::Compatible`].
pub const OK: Label = Label::Compatible;

/// How a receiver reads a payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    /// As the server reads client frames (and as a sender checks its own frames).
    Strict,
    /// As a tolerant client reads server frames: unknown fields are ignored.
    Tolerant,
}

/// Decodes a payload of one version's message by wire type: `None` when the version has no
/// such message, else the decoded message serialized again (`None` for a message without
/// payload) or why it was rejected. Written by [`decoder!`].
pub type Decoder = fn(&str, Option<&Value>, Read) -> Option<Result<Option<Value>, String>>;

/// Builds a router serving one version: every plain client message of `manifest` is
/// accepted (after the runtime's own decoding and validation) and does nothing. Written by
/// [`decoder!`].
pub type Routes = fn(&Manifest) -> twinwire_runtime::Router<()>;

/// Sends a server message of one version on a connection, by wire type, from its JSON
/// payload: `None` when the version has no such message. Written by [`decoder!`].
pub type Emitter =
    fn(&twinwire_runtime::Context<()>, &str, Option<&Value>) -> Option<Result<(), String>>;

/// One version of a protocol: its manifest and its receivers.
pub struct Version {
    /// What `Protocol::manifest()` gives.
    pub manifest: Manifest,
    decode: Decoder,
    routes: Routes,
    emit: Emitter,
}

impl Version {
    /// The version declared by protocol `P`, read by `decode`.
    ///
    /// # Panics
    /// When `P`'s manifest cannot be built: the case's declaration is wrong.
    pub fn of<P: Protocol>(decode: Decoder, routes: Routes, emit: Emitter) -> Self {
        let manifest =
            P::manifest().unwrap_or_else(|e| panic!("protocol `{}` has no manifest: {e}", P::NAME));
        Self {
            manifest,
            decode,
            routes,
            emit,
        }
    }

    /// A twinwire-runtime router serving this version: client messages are decoded and
    /// validated by the runtime (strictly, as any twinwire server) and then dropped.
    pub fn router(&self) -> twinwire_runtime::Router<()> {
        (self.routes)(&self.manifest)
    }

    /// [`router`](Self::router), which also sends `frames` (wire type, payload) to every
    /// connection as soon as it opens: the server → client frames an end-to-end test
    /// checks a client against.
    pub fn router_sending(
        &self,
        frames: Vec<(String, Option<Value>)>,
    ) -> twinwire_runtime::Router<()> {
        let emit = self.emit;
        self.router().on_open(move |ctx| {
            let frames = frames.clone();
            async move {
                for (kind, payload) in &frames {
                    if let Err(error) = emit(&ctx, kind, payload.as_ref())
                        .unwrap_or_else(|| Err(format!("no message `{kind}`")))
                    {
                        // A frame the test expects that never comes fails the test; this
                        // says why.
                        eprintln!("evolution server: cannot send {kind}: {error}");
                    }
                }
            }
        })
    }

    /// Sends server message `kind` with `payload` on `ctx`'s connection.
    ///
    /// # Errors
    /// When this version has no such message, the payload does not decode as it, or the
    /// connection is gone.
    pub fn emit(
        &self,
        ctx: &twinwire_runtime::Context<()>,
        kind: &str,
        payload: Option<&Value>,
    ) -> Result<(), String> {
        (self.emit)(ctx, kind, payload)
            .unwrap_or_else(|| Err(format!("this version has no message `{kind}`")))
    }

    fn decode(
        &self,
        kind: &str,
        payload: Option<&Value>,
        read: Read,
    ) -> Result<Option<Value>, String> {
        (self.decode)(kind, payload, read).unwrap_or_else(|| {
            Err(format!(
                "the case's decoder does not know `{kind}`; list it in `decoder!`"
            ))
        })
    }

    fn direction(&self, kind: &str) -> Option<Direction> {
        self.manifest.message(kind).map(|m| m.direction)
    }

    /// Whether this version's server can send exactly `payload` as message `kind`.
    fn server_can_send(&self, kind: &str, payload: Option<&Value>) -> Result<(), String> {
        if self.direction(kind) != Some(Direction::Server) {
            return Err(format!("`{kind}` is not a server message of this version"));
        }
        let written = self.decode(kind, payload, Read::Strict)?;
        if written.as_ref() != payload {
            return Err(format!(
                "the server would write {} rather than {}",
                show(written.as_ref()),
                show(payload)
            ));
        }
        Ok(())
    }

    /// Whether a client of this version can send `payload` as message `kind`: its own
    /// server accepts it.
    fn client_can_send(&self, kind: &str, payload: Option<&Value>) -> Result<(), String> {
        if self.direction(kind) != Some(Direction::Client) {
            return Err(format!("`{kind}` is not a client message of this version"));
        }
        self.decode(kind, payload, Read::Strict).map(drop)
    }

    /// A server of this version receiving a client frame.
    fn server_receives(&self, kind: &str, payload: Option<&Value>) -> Result<(), String> {
        if self.direction(kind) != Some(Direction::Client) {
            return Err(format!(
                "UNIMPLEMENTED: `{kind}` is not a client message here"
            ));
        }
        self.decode(kind, payload, Read::Strict).map(drop)
    }

    /// A tolerant client of this version receiving a server frame.
    fn client_receives(&self, kind: &str, payload: Option<&Value>) -> Result<(), String> {
        if self.direction(kind) != Some(Direction::Server) {
            return Ok(()); // an unknown wire type is ignored
        }
        self.decode(kind, payload, Read::Tolerant).map(drop)
    }
}

fn show(payload: Option<&Value>) -> String {
    payload.map_or_else(|| "no payload".to_owned(), Value::to_string)
}

/// A sample exchange between the two versions of a case.
#[derive(Clone, Debug)]
pub enum Probe {
    /// Message `kind` sent by the peer of version `from` that sends it (a client for a
    /// client message, the server for a server message).
    Frame {
        /// The sender's version.
        from: Side,
        /// The wire type.
        kind: &'static str,
        /// The payload, or `None` for a message without one.
        payload: Option<Value>,
    },
    /// A client of version `client` calls RPC `kind`; the server of the other version answers
    /// with `response` (as its own response message).
    Call {
        /// The calling client's version.
        client: Side,
        /// The request's wire type.
        kind: &'static str,
        /// The request payload.
        request: Option<Value>,
        /// The payload of the server's response.
        response: Option<Value>,
    },
}

impl Probe {
    fn describe(&self) -> String {
        match self {
            Self::Frame {
                from,
                kind,
                payload,
            } => format!("{from:?} sends {kind} {}", show(payload.as_ref())),
            Self::Call {
                client,
                kind,
                request,
                response,
            } => format!(
                "{client:?} client calls {kind} {} (answer {})",
                show(request.as_ref()),
                show(response.as_ref())
            ),
        }
    }
}

/// What happened to a probe.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The pairing of versions it exercised.
    pub role: Role,
    /// `Ok` when the receiver accepted it, else why not.
    pub accepted: Result<(), String>,
}

/// A protocol change: two versions, a label per role, the rules the check should name and
/// the probes that show the labels.
pub struct Case {
    /// A stable name, `area/what-changed`.
    pub name: &'static str,
    /// One line on what changed.
    pub about: &'static str,
    /// The version before.
    pub old: Version,
    /// The version after.
    pub new: Version,
    /// The label for old clients against the new server.
    pub old_clients_new_server: Label,
    /// The label for new clients against an old server.
    pub new_clients_old_server: Label,
    /// Names of the rules `twinwire breaking` must report, sorted, without repeats.
    pub rules: Vec<&'static str>,
    /// Sample exchanges.
    pub probes: Vec<Probe>,
}

impl Case {
    /// A case without labels (both compatible until said otherwise), rules or probes.
    pub fn new(name: &'static str, about: &'static str, old: Version, new: Version) -> Self {
        Self {
            name,
            about,
            old,
            new,
            old_clients_new_server: Label::Compatible,
            new_clients_old_server: Label::Compatible,
            rules: Vec::new(),
            probes: Vec::new(),
        }
    }

    /// Sets the labels: old clients against the new server, new clients against an old one.
    #[must_use]
    pub fn labels(mut self, old_clients_new_server: Label, new_clients_old_server: Label) -> Self {
        self.old_clients_new_server = old_clients_new_server;
        self.new_clients_old_server = new_clients_old_server;
        self
    }

    /// Sets the rules the check must report.
    #[must_use]
    pub fn rules(mut self, rules: &[&'static str]) -> Self {
        let mut rules = rules.to_vec();
        rules.sort_unstable();
        rules.dedup();
        self.rules = rules;
        self
    }

    /// Adds a frame sent by version `from`.
    #[must_use]
    pub fn frame(mut self, from: Side, kind: &'static str, payload: Value) -> Self {
        self.probes.push(Probe::Frame {
            from,
            kind,
            payload: Some(payload),
        });
        self
    }

    /// Adds a frame without payload sent by version `from`.
    #[must_use]
    pub fn bare(mut self, from: Side, kind: &'static str) -> Self {
        self.probes.push(Probe::Frame {
            from,
            kind,
            payload: None,
        });
        self
    }

    /// Adds an RPC call by a client of version `client`, answered by the other version.
    #[must_use]
    pub fn call(
        mut self,
        client: Side,
        kind: &'static str,
        request: Value,
        response: Value,
    ) -> Self {
        self.probes.push(Probe::Call {
            client,
            kind,
            request: Some(request),
            response: Some(response),
        });
        self
    }

    /// The label for `role`.
    pub const fn label(&self, role: Role) -> Label {
        match role {
            Role::OldClientsNewServer => self.old_clients_new_server,
            Role::NewClientsOldServer => self.new_clients_old_server,
        }
    }

    /// A version of the case.
    pub const fn version(&self, side: Side) -> &Version {
        match side {
            Side::Old => &self.old,
            Side::New => &self.new,
        }
    }

    /// Runs one probe.
    ///
    /// # Errors
    /// When the probe is not something its sender can send (a mistake in the case).
    pub fn run(&self, probe: &Probe) -> Result<Outcome, String> {
        match probe {
            Probe::Frame {
                from,
                kind,
                payload,
            } => {
                let (sender, receiver) = (self.version(*from), self.version(from.other()));
                let payload = payload.as_ref();
                match sender.direction(kind) {
                    Some(Direction::Client) => {
                        sender.client_can_send(kind, payload)?;
                        Ok(Outcome {
                            role: Role::of_client(*from),
                            accepted: receiver.server_receives(kind, payload),
                        })
                    }
                    Some(Direction::Server) => {
                        sender.server_can_send(kind, payload)?;
                        Ok(Outcome {
                            role: Role::of_client(from.other()),
                            accepted: receiver.client_receives(kind, payload),
                        })
                    }
                    None => Err(format!("{from:?} has no message `{kind}`")),
                }
            }
            Probe::Call {
                client,
                kind,
                request,
                response,
            } => {
                let (caller, server) = (self.version(*client), self.version(client.other()));
                let expected = caller
                    .manifest
                    .rpc_for_request(kind)
                    .ok_or_else(|| format!("`{kind}` is not an RPC of the {client:?} version"))?
                    .response
                    .clone();
                caller.client_can_send(kind, request.as_ref())?;
                let accepted = server
                    .server_receives(kind, request.as_ref())
                    .and_then(|()| {
                        server.manifest.rpc_for_request(kind).ok_or_else(|| {
                            format!("the server handles `{kind}` but never answers it")
                        })
                    })
                    .and_then(|rpc| {
                        let answer = rpc.response.as_str();
                        server
                            .server_can_send(answer, response.as_ref())
                            .map_err(|e| {
                                format!("the probe's response is not what this server sends: {e}")
                            })?;
                        if answer != expected {
                            return Err(format!(
                                "answered with `{answer}`, the client waits for `{expected}`"
                            ));
                        }
                        caller.client_receives(answer, response.as_ref())
                    });
                Ok(Outcome {
                    role: Role::of_client(*client),
                    accepted,
                })
            }
        }
    }

    /// Checks every label against the probes; one line per problem.
    pub fn verify(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut outcomes = Vec::new();
        for probe in &self.probes {
            match self.run(probe) {
                Ok(outcome) => outcomes.push((probe, outcome)),
                Err(e) => problems.push(format!("invalid probe ({}): {e}", probe.describe())),
            }
        }
        for role in Role::ALL {
            let mine: Vec<_> = outcomes.iter().filter(|(_, o)| o.role == role).collect();
            if mine.is_empty() {
                problems.push(format!("no probe for {role}"));
                continue;
            }
            match self.label(role) {
                Label::Breaking => {
                    if mine.iter().all(|(_, o)| o.accepted.is_ok()) {
                        problems.push(format!(
                            "{role} is labelled breaking but every probe was accepted"
                        ));
                    }
                }
                Label::Compatible => {
                    for (probe, outcome) in &mine {
                        if let Err(e) = &outcome.accepted {
                            problems.push(format!(
                                "{role} is labelled compatible but {} was rejected: {e}",
                                probe.describe()
                            ));
                        }
                    }
                }
            }
        }
        problems
    }
}

/// Decodes a payload as message `M`, the way a strict or tolerant receiver does, and
/// returns it serialized again.
///
/// # Errors
/// Why the receiver rejects it.
pub fn decode_as<M: Message>(payload: Option<&Value>, read: Read) -> Result<Option<Value>, String> {
    let message: M = match (M::HAS_PAYLOAD, payload) {
        (true, None) => return Err(format!("`{}` needs a payload", M::WIRE_TYPE)),
        (true, Some(value)) if !value.is_object() => {
            return Err("a payload must be a JSON object".to_owned());
        }
        (true, Some(value)) => match read {
            Read::Strict => serde_json::from_value(value.clone()).map_err(|e| e.to_string())?,
            Read::Tolerant => tolerant::<M>(value)?,
        },
        (false, Some(_)) if read == Read::Strict => {
            return Err(format!("`{}` carries no payload", M::WIRE_TYPE));
        }
        (false, _) => serde_json::from_value(Value::Null).map_err(|e| e.to_string())?,
    };
    message.validate().map_err(|e| format!("invalid: {e}"))?;
    if M::HAS_PAYLOAD {
        serde_json::to_value(&message)
            .map(Some)
            .map_err(|e| e.to_string())
    } else {
        Ok(None)
    }
}

/// Reads `value` as `T`, dropping each field serde reports as unknown and trying again: a
/// tolerant reader built on the real, strict types.
fn tolerant<T: serde::de::DeserializeOwned>(value: &Value) -> Result<T, String> {
    let mut value = value.clone();
    // Each round removes one field, so a payload cannot keep the loop going for long.
    for _ in 0..256 {
        let error = match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(read) => return Ok(read),
            Err(error) => error,
        };
        let unknown = error.inner().to_string().starts_with("unknown field");
        if !unknown || !remove_at(&mut value, error.path()) {
            return Err(format!("{} at {}", error.inner(), error.path()));
        }
    }
    Err("too many unknown fields".to_owned())
}

/// Removes the field a serde path ends at; `false` when the path does not lead to one.
fn remove_at(value: &mut Value, path: &serde_path_to_error::Path) -> bool {
    use serde_path_to_error::Segment;
    let segments: Vec<&Segment> = path.iter().collect();
    let Some((Segment::Map { key }, parents)) = segments.split_last() else {
        return false;
    };
    let mut here = value;
    for segment in parents {
        here = match segment {
            Segment::Seq { index } => match here.get_mut(*index) {
                Some(next) => next,
                None => return false,
            },
            Segment::Map { key } => match here.get_mut(key.as_str()) {
                Some(next) => next,
                None => return false,
            },
            // An externally tagged variant nests its content under its name; internal and
            // adjacent tags do not add a level.
            Segment::Enum { variant } => {
                if here.get(variant.as_str()).is_some() {
                    match here.get_mut(variant.as_str()) {
                        Some(next) => next,
                        None => return false,
                    }
                } else {
                    here
                }
            }
            Segment::Unknown => return false,
        };
    }
    here.as_object_mut()
        .is_some_and(|object| object.remove(key.as_str()).is_some())
}

/// Writes a version's `decode` function, a [`Decoder`], for the messages listed.
#[macro_export]
macro_rules! decoder {
    ($($message:ty),* $(,)?) => {
        /// Decodes a payload of this version's message `kind` (see `twinwire_evolution::Decoder`).
        pub fn decode(
            kind: &str,
            payload: Option<&$crate::__Value>,
            read: $crate::Read,
        ) -> Option<Result<Option<$crate::__Value>, String>> {
            $(
                if kind == <$message as ::twinwire::Message>::WIRE_TYPE {
                    return Some($crate::decode_as::<$message>(payload, read));
                }
            )*
            None
        }

        /// A router serving this version (see `twinwire_evolution::Routes`).
        pub fn routes(
            manifest: &::twinwire::Manifest,
        ) -> $crate::__runtime::Router<()> {
            #[allow(unused_mut)]
            let mut router = $crate::__runtime::Router::new();
            $(
                let kind = <$message as ::twinwire::Message>::WIRE_TYPE;
                let plain_client = manifest
                    .message(kind)
                    .is_some_and(|m| m.direction == ::twinwire::Direction::Client)
                    && manifest.rpc_for_request(kind).is_none();
                if plain_client {
                    router = router.on(
                        |_ctx: $crate::__runtime::Context<()>, _message: $message| async {
                            Ok(())
                        },
                    );
                }
            )*
            router
        }

        /// Sends a server message of this version (see `twinwire_evolution::Emitter`).
        pub fn emit(
            ctx: &$crate::__runtime::Context<()>,
            kind: &str,
            payload: Option<&$crate::__Value>,
        ) -> Option<Result<(), String>> {
            $(
                if kind == <$message as ::twinwire::Message>::WIRE_TYPE {
                    #[allow(unused_imports)]
                    use $crate::{EmitClientMessage as _, EmitServerMessage as _};
                    return Some((&&$crate::EmitAs::<$message>::new()).emit(ctx, payload));
                }
            )*
            let _ = (ctx, payload);
            None
        }
    };
}

/// What [`decoder!`]'s `emit` calls for a message `M` of its list, which mixes both
/// directions while the runtime sends only server → client messages. Method resolution picks
/// [`EmitServerMessage`] when `M` is a [`twinwire::ServerMessage`] (it is implemented for
/// `&EmitAs<M>`, one reference closer to the `&&EmitAs<M>` receiver) and falls back to
/// [`EmitClientMessage`] otherwise.
#[doc(hidden)]
pub struct EmitAs<M>(std::marker::PhantomData<M>);

impl<M> EmitAs<M> {
    /// The selector for `M`.
    pub fn new() -> Self {
        Self(std::marker::PhantomData)
    }
}

impl<M> Default for EmitAs<M> {
    fn default() -> Self {
        Self::new()
    }
}

/// Sends a server → client message (see [`EmitAs`]).
#[doc(hidden)]
pub trait EmitServerMessage {
    /// Decodes `payload` and sends it.
    ///
    /// # Errors
    /// As [`emit_as`].
    fn emit(
        &self,
        ctx: &twinwire_runtime::Context<()>,
        payload: Option<&Value>,
    ) -> Result<(), String>;
}

impl<M: twinwire::ServerMessage> EmitServerMessage for &EmitAs<M> {
    fn emit(
        &self,
        ctx: &twinwire_runtime::Context<()>,
        payload: Option<&Value>,
    ) -> Result<(), String> {
        emit_as::<M>(ctx, payload)
    }
}

/// Refuses to send a client → server message (see [`EmitAs`]).
#[doc(hidden)]
pub trait EmitClientMessage {
    /// Always fails: the server does not send client messages.
    ///
    /// # Errors
    /// Always.
    fn emit(
        &self,
        ctx: &twinwire_runtime::Context<()>,
        payload: Option<&Value>,
    ) -> Result<(), String>;
}

impl<M: Message> EmitClientMessage for EmitAs<M> {
    fn emit(&self, _: &twinwire_runtime::Context<()>, _: Option<&Value>) -> Result<(), String> {
        Err(format!(
            "`{}` is a client → server message; the server does not send it",
            M::WIRE_TYPE
        ))
    }
}

/// Decodes `payload` strictly as `M` and sends it on `ctx`'s connection.
///
/// # Errors
/// When it does not decode or cannot be sent.
pub fn emit_as<M: twinwire::ServerMessage>(
    ctx: &twinwire_runtime::Context<()>,
    payload: Option<&Value>,
) -> Result<(), String> {
    let value = if M::HAS_PAYLOAD {
        payload.cloned().unwrap_or(Value::Null)
    } else {
        Value::Null
    };
    let message: M = serde_json::from_value(value).map_err(|e| e.to_string())?;
    ctx.send(&message).map_err(|e| e.to_string())
}
