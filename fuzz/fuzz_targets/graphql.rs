//! `POST /graphql` as the server answers it: the real router over a real data directory
//! (a catalog of two interests and three products, an admin, a Prime member and a post),
//! with the projections running; any body gets an answer (any status), never a panic.
//!
//! The input is the body, sent signed out; an input whose first line is `admin`, `member`
//! or `bogus` sends the rest with that caller's bearer token (`bogus`: one that does not
//! verify).
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, header};
use libfuzzer_sys::fuzz_target;
use sparkfeed_api::{Api, Limits, Tokens};
use sparkfeed_domain::events::MediaKind;
use sparkfeed_domain::{
    Asin, Caller, Command, Context, Currency, Domain, Handle, InterestSlug, KeyStore, MediaInput,
    Money, PostId, Role, TagInput, UserId,
};
use sparkfeed_eventlog::{Config, EventLog};
use sparkfeed_projections::Projections;

struct World {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    admin: String,
    member: String,
}

static WORLD: OnceLock<World> = OnceLock::new();

const DIR_PREFIX: &str = "sparkfeed-fuzz-graphql-";

/// This process's data directory. The world lives until the process exits, and nothing
/// runs at exit, so each start removes the directories of runs that are gone.
fn data_dir() -> PathBuf {
    let tmp = std::env::temp_dir();
    if let Ok(entries) = std::fs::read_dir(&tmp) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(DIR_PREFIX)) else {
                continue;
            };
            if !Path::new("/proc").join(pid).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let dir = tmp.join(format!("{DIR_PREFIX}{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("data dir");
    dir
}

async fn run(domain: &Domain, caller: Caller, command: Command) {
    domain
        .execute(&Context::new(caller), &command)
        .await
        .unwrap_or_else(|e| panic!("bootstrap {command:?}: {e}"));
}

fn world() -> &'static World {
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let dir = data_dir();
        let (api, admin, member) = runtime.block_on(bootstrap(&dir));
        runtime.block_on(async {
            // Mutations wait for the projections (read-your-writes): run them live.
            drop(api.projections.spawn());
        });
        World {
            router: sparkfeed_api::router(api),
            runtime,
            admin,
            member,
        }
    })
}

async fn bootstrap(dir: &Path) -> (Arc<Api>, String, String) {
    let log = EventLog::open(Config::new(dir)).expect("open log");
    let keys = KeyStore::open(&dir.join("keys")).expect("key store");
    let domain = Domain::new(log.clone(), Arc::new(keys));
    let system = || Caller::System("fuzz".into());
    let slug = |s: &str| InterestSlug::parse(s).expect("slug");
    for (interest, name) in [("coffee", "Coffee"), ("fitness", "Fitness")] {
        let command = Command::AddInterest {
            interest: slug(interest),
            name: name.into(),
            rebuy_window_days: Some(30),
        };
        run(&domain, system(), command).await;
    }
    for (asin, title, cents, interest) in [
        ("B0COFFEE01", "Burr Grinder", 12_999, "coffee"),
        ("B0COFFEE02", "Pour-Over Kettle", 4_500, "coffee"),
        ("B0FITNES01", "Yoga Mat", 2_999, "fitness"),
    ] {
        let command = Command::ListProduct {
            asin: Asin::parse(asin).expect("asin"),
            title: title.into(),
            price: Money::new(cents, Currency::USD),
            image_url: format!("https://img.example/{asin}.jpg"),
            interests: vec![slug(interest)],
            consumable: interest == "coffee",
        };
        run(&domain, system(), command).await;
    }
    let admin = UserId::parse("uadmin").expect("id");
    let member = UserId::parse("umember").expect("id");
    for (user, handle) in [(&admin, "the_admin"), (&member, "a_member")] {
        let command = Command::RegisterMember {
            user: user.clone(),
            handle: Handle::parse(handle).expect("handle"),
            display_name: handle.into(),
        };
        run(&domain, system(), command).await;
    }
    let grant = Command::GrantRole {
        user: admin.clone(),
        role: Role::Admin,
    };
    run(&domain, system(), grant).await;
    let prime = Command::StartPrime {
        user: member.clone(),
    };
    run(&domain, system(), prime).await;
    let as_member = || Caller::User(member.clone());
    let choose = Command::ChooseInterests {
        interests: vec![slug("coffee"), slug("fitness")],
    };
    run(&domain, as_member(), choose).await;
    let post = Command::PublishPost {
        post: PostId::parse("pfuzz").expect("id"),
        caption: "Morning pour-over".into(),
        media: vec![MediaInput {
            kind: MediaKind::Image,
            url: "https://img.example/p.jpg".into(),
            width: 1080,
            height: 1350,
            alt: "a kettle".into(),
        }],
        interests: vec![slug("coffee")],
        tags: vec![TagInput {
            asin: Asin::parse("B0COFFEE02").expect("asin"),
            media_index: 0,
            x: 0.5,
            y: 0.5,
        }],
        contract: None,
    };
    run(&domain, as_member(), post).await;

    let projections =
        Projections::open_with_cache(&dir.join("projections"), log, 16 << 20).expect("projections");
    let tokens = Tokens::new(b"the fuzzers' secret, 32 bytes or more").expect("secret");
    let ttl = Duration::from_secs(30 * 86_400);
    let (admin, member) = (tokens.mint(&admin, ttl), tokens.mint(&member, ttl));
    let limits = Limits {
        read_your_writes: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        ..Limits::default()
    };
    let key = sparkfeed_treehead::HeadKey::generate().expect("signing key");
    let api = Api::new(domain, projections, tokens, key, limits);
    api.projections.catch_up().await.expect("catch up");
    (api, admin, member)
}

fuzz_target!(|data: &[u8]| {
    let world = world();
    let (token, body) = match data.iter().position(|&b| b == b'\n') {
        Some(end) => match &data[..end] {
            b"admin" => (Some(world.admin.as_str()), &data[end + 1..]),
            b"member" => (Some(world.member.as_str()), &data[end + 1..]),
            b"bogus" => (Some("not.a.token"), &data[end + 1..]),
            _ => (None, data),
        },
        None => (None, data),
    };
    let mut request = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let request = request.body(Body::from(body.to_vec())).expect("a request");
    world.runtime.block_on(async {
        let response = tower::ServiceExt::oneshot(world.router.clone(), request)
            .await
            .expect("the router is infallible");
        let status = response.status();
        let answer = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("the answer is read");
        assert!(
            status.is_client_error() || status.is_success() || status.as_u16() == 503,
            "{status}: {}",
            String::from_utf8_lossy(&answer)
        );
    });
});
