//! The GraphQL API end to end: a real server on 127.0.0.1 port 0 over a real data
//! directory, spoken to by a real HTTP/1.1 client and a real graphql-transport-ws client.
//!
//! The catalog and the first admin are bootstrapped through the domain as a system caller
//! (as the seeder and an operator do); everything else goes through the API.

mod analytics;
mod app;
mod browser;
mod creators;
mod direct;
mod export;
mod forget;
mod foryou;
mod hostile;
mod ledger;
mod merkle;
mod operations;
mod over_http;
mod rebuilds;
mod refusals;
mod reports;
mod retries;
mod story;
mod subscriptions;

use std::sync::Arc;

use serde_json::{Value, json};
use sparkfeed_api::{Api, Limits, RunningServer, Tokens};
use sparkfeed_domain::{Caller, Command, Context, Domain, KeyStore, Role};
use sparkfeed_eventlog::{Config, EventLog, LogHead};
use sparkfeed_projections::Projections;
use sparkfeed_testkit::client::{Answer, Client};
use sparkfeed_testkit::ids;

pub(crate) const SECRET: &[u8] = b"an end-to-end test secret of 32+ bytes";
pub(crate) const COFFEE_GRINDER: &str = "B0COFFEE01";
pub(crate) const KETTLE: &str = "B0COFFEE02";
pub(crate) const YOGA_MAT: &str = "B0FITNES01";

/// A running server over its own temp data directory.
pub(crate) struct Harness {
    pub server: Option<RunningServer>,
    /// The server of [`Harness::start_without_projectors`], which runs no projections.
    stalled: Option<tokio::task::JoinHandle<()>>,
    addr: std::net::SocketAddr,
    pub api: Arc<Api>,
    pub admin: String,
    _dir: tempfile::TempDir,
}

async fn system(domain: &Domain, command: Command) {
    domain
        .execute(&Context::new(Caller::System("e2e".into())), &command)
        .await
        .unwrap_or_else(|e| panic!("bootstrap {command:?}: {e}"));
}

impl Harness {
    /// A server with the default limits.
    pub async fn start() -> Self {
        Self::start_with(Limits::default()).await
    }

    /// A server with `limits`, a catalog of two interests and three products, and an admin.
    pub async fn start_with(limits: Limits) -> Self {
        let (api, admin, dir, listener) = Self::bootstrap(limits).await;
        let server = sparkfeed_api::serve(Arc::clone(&api), listener)
            .await
            .expect("serve");
        Self {
            addr: server.addr,
            server: Some(server),
            stalled: None,
            api,
            admin,
            _dir: dir,
        }
    }

    /// Like [`Harness::start_with`], but no projection runs after the bootstrap: every
    /// write stays unprojected, so a mutation waits out `Limits::read_your_writes`.
    pub async fn start_without_projectors(limits: Limits) -> Self {
        let (api, admin, dir, listener) = Self::bootstrap(limits).await;
        let addr = listener.local_addr().expect("addr");
        let router = sparkfeed_api::router(Arc::clone(&api));
        let stalled = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self {
            server: None,
            stalled: Some(stalled),
            addr,
            api,
            admin,
            _dir: dir,
        }
    }

    /// The data directory, the catalog and the admin's token, projected up to the head, and
    /// a listener on 127.0.0.1 port 0.
    async fn bootstrap(
        limits: Limits,
    ) -> (Arc<Api>, String, tempfile::TempDir, tokio::net::TcpListener) {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = EventLog::open(Config::new(dir.path())).expect("open log");
        let keys = KeyStore::open(&dir.path().join("keys")).expect("key store");
        let domain = Domain::new(log.clone(), Arc::new(keys));
        for (slug, name) in [("coffee", "Coffee"), ("fitness", "Fitness")] {
            system(
                &domain,
                Command::AddInterest {
                    interest: ids::interest(slug),
                    name: name.into(),
                    rebuy_window_days: Some(30),
                },
            )
            .await;
        }
        for (asin, title, cents, interest) in [
            (COFFEE_GRINDER, "Burr Grinder", 12_999, "coffee"),
            (KETTLE, "Pour-Over Kettle", 4_500, "coffee"),
            (YOGA_MAT, "Yoga Mat", 2_999, "fitness"),
        ] {
            system(
                &domain,
                Command::ListProduct {
                    asin: ids::asin(asin),
                    title: title.into(),
                    price: ids::usd(cents),
                    image_url: format!("https://img.example/{asin}.jpg"),
                    interests: vec![ids::interest(interest)],
                    consumable: false,
                },
            )
            .await;
        }
        let admin = ids::user("uadmin");
        system(
            &domain,
            Command::RegisterMember {
                user: admin.clone(),
                handle: ids::handle("the_admin"),
                display_name: "The Admin".into(),
            },
        )
        .await;
        system(
            &domain,
            Command::GrantRole {
                user: admin.clone(),
                role: Role::Admin,
            },
        )
        .await;
        let projections =
            Projections::open_with_cache(&dir.path().join("projections"), log, 64 << 20)
                .expect("projections");
        let tokens = Tokens::new(SECRET).expect("secret");
        let admin = tokens.mint(&admin, std::time::Duration::from_secs(3600));
        let key = sparkfeed_treehead::HeadKey::load_or_create(dir.path()).expect("signing key");
        let api = Api::new(domain, projections, tokens, key, limits);
        api.projections.catch_up().await.expect("catch up");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        (api, admin, dir, listener)
    }

    /// The data directory the server holds.
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// A signed-out client.
    pub fn client(&self) -> Client {
        Client::new(self.addr())
    }

    /// A client signed in with `token`.
    pub fn client_with(&self, token: &str) -> Client {
        let mut client = self.client();
        client.set_token(Some(token.to_owned()));
        client
    }

    /// The log head now.
    pub fn head(&self) -> LogHead {
        self.api.domain.log().head()
    }

    /// A token for an existing user id (what `sparkfeed token` does).
    pub fn token_for(&self, user: &str) -> String {
        self.api
            .tokens
            .mint(&ids::user(user), std::time::Duration::from_secs(3600))
    }

    /// Registers a member through the API, makes them Prime (as admin), and answers their
    /// id and token.
    pub async fn prime_member(&self, handle: &str) -> (String, String) {
        let answer = ok(self
            .client()
            .graphql(
                "mutation($h: String!, $n: String!) { registerUser(handle: $h, displayName: $n) { token user { id } } }",
                json!({ "h": handle, "n": handle }),
            )
            .await
            .expect("register"));
        let id = answer["registerUser"]["user"]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let token = answer["registerUser"]["token"]
            .as_str()
            .expect("token")
            .to_owned();
        ok(self
            .client_with(&self.admin)
            .graphql(
                "mutation($u: ID!) { startPrime(userId: $u) { user { prime } } }",
                json!({ "u": id }),
            )
            .await
            .expect("prime"));
        (id, token)
    }

    /// Grants `role` (a GraphQL enum value) to `user`, as admin.
    pub async fn grant(&self, user: &str, role: &str) {
        let answer = ok(self
            .client_with(&self.admin)
            .graphql(
                &format!("mutation($u: ID!) {{ grantRole(userId: $u, role: {role}) {{ user {{ roles }} }} }}"),
                json!({ "u": user }),
            )
            .await
            .expect("grant"));
        assert!(
            answer["grantRole"]["user"]["roles"]
                .as_array()
                .expect("roles")
                .contains(&json!(role)),
            "{answer}"
        );
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(stalled) = self.stalled.take() {
            stalled.abort();
        }
        if let Some(server) = self.server.take() {
            // Stop on a runtime of its own: Drop may run after the test's runtime is gone.
            std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    let _ = rt.block_on(server.stop());
                }
            })
            .join()
            .ok();
        }
    }
}

/// `sparkfeed COMMAND --data-dir <the harness's directory> ARGS` with no token in the
/// environment, off the runtime (a server it goes through runs on this runtime).
pub(crate) async fn cli_on(h: &Harness, command: &[&str], args: &[&str]) -> std::process::Output {
    let mut cli = std::process::Command::new(env!("CARGO_BIN_EXE_sparkfeed-cli"));
    cli.args(command)
        .arg("--data-dir")
        .arg(h.data_dir())
        .args(args)
        .env_remove("SPARKFEED_TOKEN");
    tokio::task::spawn_blocking(move || cli.output().expect("runs"))
        .await
        .expect("joins")
}

/// The `data` of a successful answer; panics with the answer otherwise.
pub(crate) fn ok(answer: Answer) -> Value {
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(
        answer.body.get("errors").is_none(),
        "unexpected errors: {}",
        answer.text
    );
    answer.body["data"].clone()
}

/// Asserts `answer` is refused with `code` (and HTTP `status`).
pub(crate) fn refused(answer: &Answer, status: u16, code: &str) {
    assert_eq!(answer.status, status, "{}", answer.text);
    assert_eq!(answer.error_code(), Some(code), "{}", answer.text);
    let message = answer.body["errors"][0]["message"].as_str().unwrap_or("");
    assert!(!message.is_empty(), "a refusal says why: {}", answer.text);
}

pub(crate) const PUBLISH: &str = "mutation($input: PublishPostInput!) {
  publishPost(input: $input) {
    position
    post { id caption sponsored disclosure { label brandName contractId } tags { asin verifiedPurchaser product { title price { cents formatted } } } }
  }
}";

/// A post input with one image, in `interest`, tagging `asins`.
pub(crate) fn post_input(caption: &str, interest: &str, asins: &[&str]) -> Value {
    json!({
        "caption": caption,
        "media": [{ "url": "https://img.example/p.jpg", "width": 1080, "height": 1350, "alt": "a photo" }],
        "interests": [interest],
        "tags": asins.iter().map(|a| json!({ "asin": a, "x": 0.5, "y": 0.5 })).collect::<Vec<_>>(),
    })
}

/// Publishes a post as `token`; answers its id and position.
pub(crate) async fn publish(h: &Harness, token: &str, input: Value) -> (String, u64) {
    let data = ok(h
        .client_with(token)
        .graphql(PUBLISH, json!({ "input": input }))
        .await
        .expect("publish"));
    (
        data["publishPost"]["post"]["id"]
            .as_str()
            .expect("post id")
            .to_owned(),
        data["publishPost"]["position"].as_u64().expect("position"),
    )
}
