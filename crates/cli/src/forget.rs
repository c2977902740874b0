//! `sparkfeed forget USER`: forgets a member (GDPR Art. 17) in a data directory no process
//! holds, as an operator (`system:cli`), or through the server holding it, with an admin's
//! or the member's own token.

use std::path::Path;

use anyhow::Context as _;
use serde_json::json;
use sparkfeed_domain::{Caller, Command, CommandError, Context, UserId};

/// Forgets `user`; answers what was done, in words. A refusal (`UNKNOWN_USER`,
/// `ALREADY_FORGOTTEN`, ...) is an error naming its code, and writes nothing.
pub fn forget(data_dir: &Path, user: &str, token: Option<&str>) -> anyhow::Result<String> {
    let user = UserId::parse(user).map_err(|e| anyhow::anyhow!("{user:?}: {e}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let domain = match crate::demo::open_domain(data_dir) {
        Ok(domain) => domain,
        Err(e) if crate::remote::is_locked(&e) => {
            return runtime.block_on(remote(data_dir, &user, token));
        }
        Err(e) => return Err(e),
    };
    let ctx = Context::new(Caller::System("cli".into()));
    let command = Command::ForgetMember { user: user.clone() };
    match runtime.block_on(domain.execute(&ctx, &command)) {
        Ok(done) => Ok(format!(
            "forgot {user}: MemberForgotten at position {}, and the member's key destroyed",
            done.position
        )),
        Err(CommandError::Refused(refusal)) => {
            anyhow::bail!("refused ({}): {refusal}", refusal.code())
        }
        Err(e) => Err(e).context("forgetting"),
    }
}

/// Forgets `user` through the server holding `data_dir`.
async fn remote(data_dir: &Path, user: &UserId, token: Option<&str>) -> anyhow::Result<String> {
    let (server, token) =
        crate::remote::server_and_token(data_dir, token, "an admin or the member", "forget")?;
    let mutation = "mutation($u: ID!) { forgetMember(userId: $u) { position } }";
    let data =
        crate::http::graphql(&server, token, mutation, json!({ "u": user.as_str() })).await?;
    Ok(format!(
        "forgot {user} through the server at {server}: MemberForgotten at position {}, and the \
         member's key destroyed",
        data["forgetMember"]["position"]
    ))
}
