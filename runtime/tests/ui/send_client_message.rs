// The server sends only messages declared server→client: sending, publishing or answering
// with a client→server message (here `JoinRoom`, under `client:` in the chat protocol) does
// not compile. `UserLeft` is declared under `server:` and compiles everywhere below.
use chat_protocol::{JoinRoom, UserLeft};
use twinwire_runtime::{Router, Server};

fn main() {
    let router = Router::<()>::new().on(|ctx, join: JoinRoom| async move {
        ctx.send(&join)?;
        ctx.publish("room:general", &join).await?;
        ctx.reply_correlated(&join)?;
        let left = UserLeft {
            room_id: join.room_id,
            user_id: "u1".into(),
        };
        ctx.send(&left)?;
        ctx.publish("room:general", &left).await?;
        Ok(())
    });
    let server = Server::builder(router).build().expect("server");
    let _ = async move {
        let join = JoinRoom {
            room_id: "general".into(),
        };
        server.publish("room:general", &join).await
    };
}
