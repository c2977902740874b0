//! Loads a demo world through the domain's commands: the same handlers the API uses, so a
//! seeded world obeys every rule, and never writes an event behind their back.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use sparkfeed_domain::events::{MediaKind, ShareChannel};
use sparkfeed_domain::{
    Asin, Caller, Command, CommentId, Context, ContractId, Currency, Domain, Handle, InterestSlug,
    MediaInput, Money, PostId, Refusal, Role, TagInput, UserId,
};
use sparkfeed_events::{EventId, Timestamp};

use crate::SeedError;
use crate::model::*;

const DAY_MICROS: i64 = 86_400_000_000;

/// What a seeding run did.
#[derive(Clone, Copy, Debug)]
pub struct SeedReport {
    /// Commands carried out.
    pub commands: u64,
    /// Commands that were repeats of earlier ones (retried clicks) and wrote nothing.
    pub repeats: u64,
    /// Events appended.
    pub events: u64,
    /// How long it took.
    pub elapsed: Duration,
}

/// One command to run, with where it came from.
pub(crate) struct Step {
    pub(crate) file: &'static str,
    pub(crate) line: usize,
    pub(crate) caller: Caller,
    pub(crate) command: Command,
}

impl Step {
    /// The context of the `n`th step of a world. Command ids derive from the line, so a
    /// step is the same command however often the file is loaded.
    pub(crate) fn context(&self, n: usize, now: Timestamp) -> Context {
        let digest = Sha256::new()
            .chain_update(self.file)
            .chain_update(u64::try_from(self.line).unwrap_or(0).to_le_bytes())
            .chain_update(u64::try_from(n).unwrap_or(0).to_le_bytes())
            .finalize();
        let mut id = [0u8; 16];
        id.copy_from_slice(&digest[..16]);
        Context {
            caller: self.caller.clone(),
            command_id: EventId::from_bytes(id),
            now,
            from_client_key: false,
        }
    }

    /// What a refusal of this step is reported as.
    pub(crate) fn refused(&self, e: &sparkfeed_domain::CommandError) -> SeedError {
        SeedError::Refused {
            file: self.file,
            line: self.line,
            code: e.code(),
            reason: e.to_string(),
        }
    }
}

fn read_lines<T: serde::de::DeserializeOwned>(
    dir: &Path,
    file: &'static str,
) -> Result<Vec<(usize, T)>, SeedError> {
    let path: PathBuf = dir.join(file);
    let text = std::fs::read_to_string(&path).map_err(|e| SeedError::io(&path, e))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            serde_json::from_str(l)
                .map(|v| (n + 1, v))
                .map_err(|e| SeedError::Line {
                    file,
                    line: n + 1,
                    reason: e.to_string(),
                })
        })
        .collect()
}

/// `days` days after `now` (microseconds), or a bad line when that is out of range.
fn days_from(now: i64, days: i64, file: &'static str, line: usize) -> Result<i64, SeedError> {
    days.checked_mul(DAY_MICROS)
        .and_then(|d| now.checked_add(d))
        .ok_or_else(|| SeedError::Line {
            file,
            line,
            reason: format!("{days} days from now is out of range"),
        })
}

fn bad(file: &'static str, line: usize) -> impl Fn(Refusal) -> SeedError {
    move |r| SeedError::Line {
        file,
        line,
        reason: r.to_string(),
    }
}

fn interests(
    list: &[String],
    file: &'static str,
    line: usize,
) -> Result<Vec<InterestSlug>, SeedError> {
    list.iter()
        .map(|s| InterestSlug::parse(s).map_err(bad(file, line)))
        .collect()
}

/// Reads every file of the world in `dir` into commands, in loading order.
pub(crate) fn plan(dir: &Path, now: Timestamp) -> Result<Vec<Step>, SeedError> {
    let mut steps = Vec::new();
    interest_steps(dir, &mut steps)?;
    product_steps(dir, &mut steps)?;
    user_steps(dir, &mut steps)?;
    contract_steps(dir, now, &mut steps)?;
    post_steps(dir, &mut steps)?;
    activity_steps(dir, &mut steps)?;
    Ok(steps)
}

/// The seeder's own commands: the catalog, brands, Prime and roles.
fn seed_caller() -> Caller {
    Caller::System("seed".into())
}

/// `interests.jsonl`: one interest a line.
fn interest_steps(dir: &Path, steps: &mut Vec<Step>) -> Result<(), SeedError> {
    for (line, i) in read_lines::<InterestLine>(dir, "interests.jsonl")? {
        let b = bad("interests.jsonl", line);
        steps.push(Step {
            file: "interests.jsonl",
            line,
            caller: seed_caller(),
            command: Command::AddInterest {
                interest: InterestSlug::parse(&i.slug).map_err(&b)?,
                name: i.name,
                rebuy_window_days: i.rebuy_window_days,
            },
        });
    }
    Ok(())
}

/// `products.jsonl`: one product a line.
fn product_steps(dir: &Path, steps: &mut Vec<Step>) -> Result<(), SeedError> {
    for (line, p) in read_lines::<ProductLine>(dir, "products.jsonl")? {
        let b = bad("products.jsonl", line);
        steps.push(Step {
            file: "products.jsonl",
            line,
            caller: seed_caller(),
            command: Command::ListProduct {
                asin: Asin::parse(&p.asin).map_err(&b)?,
                title: p.title,
                price: Money::new(p.price_cents, Currency::parse(&p.currency).map_err(&b)?),
                image_url: p.image_url,
                interests: interests(&p.interests, "products.jsonl", line)?,
                consumable: p.consumable,
            },
        });
    }
    Ok(())
}

/// `users.jsonl`: each account's registration, then its Prime, roles and interests.
fn user_steps(dir: &Path, steps: &mut Vec<Step>) -> Result<(), SeedError> {
    for (line, u) in read_lines::<UserLine>(dir, "users.jsonl")? {
        let file = "users.jsonl";
        let b = bad(file, line);
        let user = UserId::parse(&u.id).map_err(&b)?;
        let handle = Handle::parse(&u.handle).map_err(&b)?;
        let register = match u.kind.as_str() {
            "member" => Command::RegisterMember {
                user: user.clone(),
                handle,
                display_name: u.display_name,
            },
            "brand" => Command::RegisterBrand {
                user: user.clone(),
                handle,
                brand_name: u.display_name,
            },
            other => {
                return Err(SeedError::Line {
                    file,
                    line,
                    reason: format!("kind {other:?} is not member or brand"),
                });
            }
        };
        let caller = if u.kind == "brand" {
            seed_caller()
        } else {
            Caller::Anonymous
        };
        steps.push(Step {
            file,
            line,
            caller,
            command: register,
        });
        if u.prime {
            steps.push(Step {
                file,
                line,
                caller: seed_caller(),
                command: Command::StartPrime { user: user.clone() },
            });
        }
        for role in &u.roles {
            let role = Role::parse(role).map_err(&b)?;
            steps.push(Step {
                file,
                line,
                caller: seed_caller(),
                command: Command::GrantRole {
                    user: user.clone(),
                    role,
                },
            });
        }
        if !u.interests.is_empty() {
            steps.push(Step {
                file,
                line,
                caller: Caller::User(user.clone()),
                command: Command::ChooseInterests {
                    interests: interests(&u.interests, file, line)?,
                },
            });
        }
    }
    Ok(())
}

/// `contracts.jsonl`: one sponsorship contract a line, its dates counted from `now`.
fn contract_steps(dir: &Path, now: Timestamp, steps: &mut Vec<Step>) -> Result<(), SeedError> {
    for (line, c) in read_lines::<ContractLine>(dir, "contracts.jsonl")? {
        let file = "contracts.jsonl";
        let b = bad(file, line);
        steps.push(Step {
            file,
            line,
            caller: Caller::User(UserId::parse(&c.brand).map_err(&b)?),
            command: Command::OpenContract {
                contract: ContractId::parse(&c.id).map_err(&b)?,
                enthusiast: UserId::parse(&c.enthusiast).map_err(&b)?,
                flat_fee: c.flat_fee_cents.map(|f| Money::new(f, Currency::USD)),
                commission_bp: c.commission_bp,
                starts_at: days_from(now.0, c.starts_in_days, file, line)?,
                ends_at: days_from(now.0, c.ends_in_days, file, line)?,
            },
        });
    }
    Ok(())
}

/// `posts.jsonl`: one post a line.
fn post_steps(dir: &Path, steps: &mut Vec<Step>) -> Result<(), SeedError> {
    for (line, p) in read_lines::<PostLine>(dir, "posts.jsonl")? {
        let file = "posts.jsonl";
        let b = bad(file, line);
        let media = media(p.media, file, line)?;
        let tags = p
            .tags
            .into_iter()
            .map(|t| {
                Ok(TagInput {
                    asin: Asin::parse(&t.asin).map_err(&b)?,
                    media_index: t.media_index,
                    x: t.x,
                    y: t.y,
                })
            })
            .collect::<Result<Vec<_>, SeedError>>()?;
        steps.push(Step {
            file,
            line,
            caller: Caller::User(UserId::parse(&p.author).map_err(&b)?),
            command: Command::PublishPost {
                post: PostId::parse(&p.id).map_err(&b)?,
                caption: p.caption,
                media,
                interests: interests(&p.interests, file, line)?,
                tags,
                contract: p
                    .contract
                    .as_deref()
                    .map(ContractId::parse)
                    .transpose()
                    .map_err(&b)?,
            },
        });
    }
    Ok(())
}

/// The media of a post line.
fn media(
    media: Vec<MediaLine>,
    file: &'static str,
    line: usize,
) -> Result<Vec<MediaInput>, SeedError> {
    media
        .into_iter()
        .map(|m| {
            let kind = match m.kind.as_str() {
                "image" => MediaKind::Image,
                "video" => MediaKind::Video,
                other => {
                    return Err(SeedError::Line {
                        file,
                        line,
                        reason: format!("media kind {other:?}"),
                    });
                }
            };
            Ok(MediaInput {
                kind,
                url: m.url,
                width: m.width,
                height: m.height,
                alt: m.alt,
            })
        })
        .collect()
}

/// `activity.jsonl`: what members did, one command a line, in order.
fn activity_steps(dir: &Path, steps: &mut Vec<Step>) -> Result<(), SeedError> {
    for (line, a) in read_lines::<ActivityLine>(dir, "activity.jsonl")? {
        let file = "activity.jsonl";
        let (caller, command) = activity_command(a, file, line)?;
        steps.push(Step {
            file,
            line,
            caller,
            command,
        });
    }
    Ok(())
}

/// The caller and command of one activity line.
fn activity_command(
    a: ActivityLine,
    file: &'static str,
    line: usize,
) -> Result<(Caller, Command), SeedError> {
    let b = bad(file, line);
    let member = |id: &str| UserId::parse(id).map(Caller::User).map_err(&b);
    let post = |id: &str| PostId::parse(id).map_err(&b);
    Ok(match a {
        ActivityLine::Smile { member: m, post: p } => {
            (member(&m)?, Command::Smile { post: post(&p)? })
        }
        ActivityLine::Unsmile { member: m, post: p } => {
            (member(&m)?, Command::Unsmile { post: post(&p)? })
        }
        ActivityLine::Save { member: m, post: p } => {
            (member(&m)?, Command::SavePost { post: post(&p)? })
        }
        ActivityLine::Share {
            member: m,
            post: p,
            channel,
        } => {
            let channel = share_channel(&channel, file, line)?;
            (
                member(&m)?,
                Command::SharePost {
                    post: post(&p)?,
                    channel,
                },
            )
        }
        ActivityLine::Comment {
            id,
            member: m,
            post: p,
            text,
        } => (
            member(&m)?,
            Command::Comment {
                comment: CommentId::parse(&id).map_err(&b)?,
                post: post(&p)?,
                text,
            },
        ),
        ActivityLine::Buy {
            member: m,
            post: p,
            asin,
            quantity,
            key,
            gift,
        } => (
            member(&m)?,
            Command::Buy {
                post: post(&p)?,
                asin: Asin::parse(&asin).map_err(&b)?,
                quantity,
                idempotency_key: key,
                gift,
            },
        ),
        ActivityLine::Reprice { asin, price_cents } => (
            seed_caller(),
            Command::RepriceProduct {
                asin: Asin::parse(&asin).map_err(&b)?,
                price: Money::new(price_cents, Currency::USD),
            },
        ),
        ActivityLine::RemovePost {
            by,
            post: p,
            reason,
        } => (
            member(&by)?,
            Command::RemovePost {
                post: post(&p)?,
                reason,
            },
        ),
        ActivityLine::EndContract { brand, contract } => (
            member(&brand)?,
            Command::EndContract {
                contract: ContractId::parse(&contract).map_err(&b)?,
                reason: "ended early".into(),
            },
        ),
    })
}

/// A share's channel.
fn share_channel(
    channel: &str,
    file: &'static str,
    line: usize,
) -> Result<ShareChannel, SeedError> {
    match channel {
        "link" => Ok(ShareChannel::Link),
        "message" => Ok(ShareChannel::Message),
        "email" => Ok(ShareChannel::Email),
        "social" => Ok(ShareChannel::Social),
        other => Err(SeedError::Line {
            file,
            line,
            reason: format!("channel {other:?}"),
        }),
    }
}

/// A world read into its steps, about to load: how `load` and `load_concurrently` begin.
pub(crate) struct Planned {
    /// When the loading began.
    pub(crate) started: Instant,
    /// The one `now` of every step.
    pub(crate) now: Timestamp,
    /// The commands, in loading order.
    pub(crate) steps: Vec<Step>,
    /// How many there are.
    pub(crate) total: u64,
}

impl Planned {
    /// Refuses a log that is not empty, then reads the world in `dir`.
    pub(crate) fn read(dir: &Path, domain: &Domain) -> Result<Self, SeedError> {
        if domain.log().head().len > 0 {
            return Err(SeedError::NotEmpty(domain.log().head().len));
        }
        let started = Instant::now();
        let now = Timestamp::now();
        let steps = plan(dir, now)?;
        let total = u64::try_from(steps.len()).unwrap_or(u64::MAX);
        Ok(Self {
            started,
            now,
            steps,
            total,
        })
    }
}

/// Loads the world in `dir` into `domain`'s log, which must be empty. `progress` is told
/// (done, total) after each command.
pub async fn load(
    dir: &Path,
    domain: &Domain,
    mut progress: impl FnMut(u64, u64),
) -> Result<SeedReport, SeedError> {
    let planned = Planned::read(dir, domain)?;
    let (now, total) = (planned.now, planned.total);
    let mut report = SeedReport {
        commands: 0,
        repeats: 0,
        events: 0,
        elapsed: Duration::ZERO,
    };
    for (n, step) in planned.steps.into_iter().enumerate() {
        let done = domain
            .execute(&step.context(n, now), &step.command)
            .await
            .map_err(|e| step.refused(&e))?;
        report.commands += 1;
        report.repeats += u64::from(done.deduplicated);
        progress(report.commands, total);
    }
    report.events = domain.log().head().len;
    report.elapsed = planned.started.elapsed();
    Ok(report)
}
