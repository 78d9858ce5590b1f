// The server sends only messages declared server→client: sending, publishing or answering
// with a client→server message does not compile. `Joined` is a `server:` entry and compiles
// everywhere below.
use twinwire::{message, protocol};
use twinwire_runtime::{Router, Server};

#[message("JOIN")]
pub struct Join {
    pub room: String,
}

#[message("JOINED")]
pub struct Joined {
    pub room: String,
}

protocol! {
    pub Rooms {
        client: [Join],
        server: [Joined],
    }
}

fn main() {
    let router = Router::<()>::new().on(|ctx, join: Join| async move {
        ctx.send(&join)?;
        ctx.publish("room", &join).await?;
        ctx.reply_correlated(&join)?;
        let joined = Joined { room: join.room };
        ctx.send(&joined)?;
        ctx.publish("room", &joined).await?;
        ctx.reply_correlated(&joined)?;
        Ok(())
    });
    let server = Server::builder(router).build().expect("server");
    let _ = async move {
        let join = Join { room: "r".into() };
        server.publish("room", &join).await
    };
}
