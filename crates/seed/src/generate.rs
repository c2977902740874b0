//! Generates the demo world deterministically: the same seed always writes the same files.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::Path;

use crate::SeedError;
use crate::model::*;

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn unit(&mut self) -> f32 {
        let steps = u16::try_from(self.below(1001)).unwrap_or(0);
        f32::from(steps) / 1000.0
    }
}

const INTERESTS: [(&str, &str, Option<u32>); 14] = [
    ("fitness", "Fitness", None),
    ("fashion", "Fashion", None),
    ("home-diy", "Home & DIY", None),
    ("beauty", "Beauty", Some(45)),
    ("cooking", "Cooking", Some(30)),
    ("outdoors", "Outdoors", None),
    ("tech", "Tech", None),
    ("gaming", "Gaming", None),
    ("pets", "Pets", Some(30)),
    ("kids", "Kids", Some(60)),
    ("travel", "Travel", None),
    ("books", "Books", None),
    ("coffee", "Coffee", Some(14)),
    ("garden", "Garden", Some(90)),
];

const ADJECTIVES: [&str; 12] = [
    "Everyday", "Pro", "Compact", "Classic", "Ultra", "Eco", "Deluxe", "Smart", "Trail", "Studio",
    "Mini", "Heritage",
];
const NOUNS: [&str; 14] = [
    "Resistance Bands",
    "Linen Shirt",
    "Cordless Drill",
    "Serum",
    "Dutch Oven",
    "Daypack",
    "Earbuds",
    "Controller",
    "Cat Tree",
    "Building Blocks",
    "Packing Cubes",
    "Reading Lamp",
    "Pour-Over Kettle",
    "Pruning Shears",
];
const FIRST: [&str; 16] = [
    "Ana", "Ben", "Chloé", "Dev", "Elif", "Farah", "Gus", "Hana", "Ivo", "Jun", "Kemi", "Luca",
    "Maya", "Noor", "Omar", "Priya",
];
const LAST: [&str; 10] = [
    "Lopez", "Smith", "Nguyen", "Okafor", "Rossi", "Kim", "Haddad", "Silva", "Novak", "Berg",
];
const BRANDS: [&str; 6] = [
    "Acme Outdoor",
    "Lumen Beauty",
    "Forge Tools",
    "Brewline",
    "Pixel Play",
    "Verde Garden",
];
const CAPTIONS: [&str; 8] = [
    "Three months in and I still use this every day.",
    "Honest review: worth it, with one catch.",
    "My weekend setup, tagged everything.",
    "Finally found one that lasts.",
    "Small upgrade, big difference.",
    "Gift idea for anyone who loves this stuff.",
    "Before and after, swipe to see.",
    "What I pack, every single time.",
];
const COMMENTS: [&str; 6] = [
    "Where did you get this?",
    "Love it!",
    "How does it hold up after a month?",
    "Adding to my list.",
    "Great photo.",
    "Does it come in other colours?",
];

/// The world's numbers.
#[derive(Clone, Copy, Debug)]
pub struct Size {
    /// Products in the catalog.
    pub products: usize,
    /// Ordinary Prime members.
    pub members: usize,
    /// Members without Prime.
    pub visitors: usize,
    /// Enthusiasts.
    pub enthusiasts: usize,
    /// Posts.
    pub posts: usize,
    /// Activity lines (smiles, saves, shares, comments, buys, ...).
    pub activity: usize,
}

impl Size {
    /// The demo world of `fixtures/demo`.
    pub const DEMO: Size = Size {
        products: 300,
        members: 50,
        visitors: 10,
        enthusiasts: 12,
        posts: 600,
        activity: 6000,
    };
}

/// Every file of a demo world.
pub struct DemoWorld {
    /// interests.jsonl
    pub interests: Vec<InterestLine>,
    /// products.jsonl
    pub products: Vec<ProductLine>,
    /// users.jsonl
    pub users: Vec<UserLine>,
    /// contracts.jsonl
    pub contracts: Vec<ContractLine>,
    /// posts.jsonl
    pub posts: Vec<PostLine>,
    /// activity.jsonl
    pub activity: Vec<ActivityLine>,
}

/// Generates a world of `size` from `seed`.
pub fn generate(seed: u64, size: Size) -> DemoWorld {
    // The parts draw from one generator in this order: reordering them changes the world.
    let mut rng = Rng(seed);
    let interests: Vec<InterestLine> = INTERESTS
        .iter()
        .map(|(slug, name, window)| InterestLine {
            slug: (*slug).into(),
            name: (*name).into(),
            rebuy_window_days: *window,
        })
        .collect();

    let products = products(&mut rng, size);
    let cast = cast(&mut rng, size);
    let contracts = contracts(&cast);
    let posts = posts(&mut rng, size, &cast, &products, &contracts);
    let activity = activity(&mut rng, size, &cast.users, &posts, &products, &contracts);
    DemoWorld {
        interests,
        products,
        users: cast.users,
        contracts,
        posts,
        activity,
    }
}

/// The catalog: `size.products` products, each mostly of one interest.
fn products(rng: &mut Rng, size: Size) -> Vec<ProductLine> {
    (0..size.products)
        .map(|n| {
            let main = n % INTERESTS.len();
            let mut tags = vec![INTERESTS[main].0.to_owned()];
            if rng.chance(30) {
                let other = INTERESTS[rng.below(INTERESTS.len())].0.to_owned();
                if other != tags[0] {
                    tags.push(other);
                }
            }
            ProductLine {
                asin: crate::media::product_asin(n),
                title: format!(
                    "{} {} {}",
                    rng.pick(&ADJECTIVES),
                    NOUNS[main],
                    n / INTERESTS.len() + 1
                ),
                price_cents: 499 + 100 * u64::try_from(rng.below(245)).unwrap_or(0),
                currency: "USD".into(),
                image_url: crate::media::product_image_url(n),
                interests: tags,
                consumable: INTERESTS[main].2.is_some() && n % 2 == 0,
            }
        })
        .collect()
}

/// A member account: a name, a handle made from it and 1 to 5 interests.
fn person(rng: &mut Rng, id: String, prime: bool, roles: Vec<&str>) -> UserLine {
    let first = rng.pick(&FIRST);
    let last = rng.pick(&LAST);
    let mut chosen: Vec<String> = Vec::new();
    for _ in 0..1 + rng.below(5) {
        let slug = INTERESTS[rng.below(INTERESTS.len())].0.to_owned();
        if !chosen.contains(&slug) {
            chosen.push(slug);
        }
    }
    UserLine {
        handle: format!(
            "{}_{}{}",
            first.to_ascii_lowercase().replace('é', "e"),
            last.to_ascii_lowercase(),
            &id[1..]
        ),
        display_name: format!("{first} {last}"),
        id,
        kind: "member".into(),
        prime,
        roles: roles.into_iter().map(str::to_owned).collect(),
        interests: chosen,
    }
}

/// Everyone: staff, enthusiasts, members, visitors (no Prime) and brands.
struct Cast {
    users: Vec<UserLine>,
    enthusiasts: Vec<String>,
    members: Vec<String>,
    brands: Vec<String>,
}

/// The cast of `size`, staff first.
fn cast(rng: &mut Rng, size: Size) -> Cast {
    let mut users = vec![
        person(rng, "u0001".into(), true, vec!["admin"]),
        person(rng, "u0002".into(), true, vec!["moderator"]),
        person(rng, "u0003".into(), true, vec!["analyst"]),
        person(rng, "u0004".into(), true, vec!["auditor"]),
    ];
    let mut next_id = 5;
    let mut enthusiasts = Vec::new();
    for _ in 0..size.enthusiasts {
        let id = format!("u{next_id:04}");
        next_id += 1;
        enthusiasts.push(id.clone());
        users.push(person(rng, id, true, vec!["enthusiast"]));
    }
    let mut members = Vec::new();
    for _ in 0..size.members {
        let id = format!("u{next_id:04}");
        next_id += 1;
        members.push(id.clone());
        users.push(person(rng, id, true, vec![]));
    }
    let mut visitors = Vec::new();
    for _ in 0..size.visitors {
        let id = format!("u{next_id:04}");
        next_id += 1;
        visitors.push(id.clone());
        users.push(person(rng, id, false, vec![]));
    }
    let brands: Vec<String> = (0..BRANDS.len())
        .map(|b| format!("b{:04}", b + 1))
        .collect();
    for (id, name) in brands.iter().zip(BRANDS) {
        users.push(UserLine {
            id: id.clone(),
            handle: name.to_ascii_lowercase().replace(' ', "_"),
            display_name: name.into(),
            kind: "brand".into(),
            prime: false,
            roles: vec![],
            interests: vec![],
        });
    }

    Cast {
        users,
        enthusiasts,
        members,
        brands,
    }
}

/// Twelve contracts: ten running, one ending early (at the end of the activity), one
/// starting in the future.
fn contracts(cast: &Cast) -> Vec<ContractLine> {
    let (brands, enthusiasts) = (&cast.brands, &cast.enthusiasts);
    let mut contracts = Vec::new();
    for c in 0..12 {
        let starts_in_days = if c == 11 { 10 } else { -30 };
        contracts.push(ContractLine {
            id: format!("k{:04}", c + 1),
            brand: brands[c % brands.len()].clone(),
            enthusiast: enthusiasts[c % enthusiasts.len()].clone(),
            flat_fee_cents: (c % 3 != 1).then_some(50_000 + 10_000 * u64::try_from(c).unwrap_or(0)),
            commission_bp: (c % 3 != 0).then_some(500 + 100 * u32::try_from(c).unwrap_or(0)),
            starts_in_days,
            ends_in_days: starts_in_days + 90,
        });
    }

    contracts
}

/// `size.posts` posts, over half by enthusiasts, a quarter of theirs sponsored.
fn posts(
    rng: &mut Rng,
    size: Size,
    cast: &Cast,
    products: &[ProductLine],
    contracts: &[ContractLine],
) -> Vec<PostLine> {
    let (enthusiasts, members) = (&cast.enthusiasts, &cast.members);
    let authors: Vec<String> = enthusiasts.iter().chain(members.iter()).cloned().collect();
    let mut posts = Vec::new();
    for n in 0..size.posts {
        let author = if rng.chance(55) {
            rng.pick(enthusiasts).clone()
        } else {
            rng.pick(&authors).clone()
        };
        let media_count = 1 + rng.below(4);
        let media: Vec<MediaLine> = (0..media_count)
            .map(|m| MediaLine {
                kind: if rng.chance(15) { "video" } else { "image" }.into(),
                url: crate::media::post_media_url(n + 1, m),
                width: 1080,
                height: if rng.chance(50) { 1350 } else { 1080 },
                alt: format!("Photo {} of post {}", m + 1, n + 1),
            })
            .collect();
        let main = rng.below(INTERESTS.len());
        let mut interests = vec![INTERESTS[main].0.to_owned()];
        if rng.chance(30) {
            let other = INTERESTS[rng.below(INTERESTS.len())].0.to_owned();
            if other != interests[0] {
                interests.push(other);
            }
        }
        let mut tags = Vec::new();
        let mut tagged = HashSet::new();
        for _ in 0..rng.below(6) {
            // Mostly products of the post's interest.
            let p = if rng.chance(80) {
                main + INTERESTS.len() * rng.below(size.products / INTERESTS.len())
            } else {
                rng.below(size.products)
            };
            let p = p.min(size.products - 1);
            let media_index = u8::try_from(rng.below(media_count)).unwrap_or(0);
            if tagged.insert((p, media_index)) {
                tags.push(TagLine {
                    asin: products[p].asin.clone(),
                    media_index,
                    x: rng.unit(),
                    y: rng.unit(),
                });
            }
        }
        let contract = contracts
            .iter()
            .take(11)
            .find(|c| c.enthusiast == author)
            .filter(|_| rng.chance(25))
            .map(|c| c.id.clone());
        posts.push(PostLine {
            id: format!("p{:05}", n + 1),
            author,
            caption: rng.pick(&CAPTIONS).to_string(),
            media,
            interests,
            tags,
            contract,
        });
    }

    posts
}

/// `size.activity` lines of smiles, saves, shares, comments, buys (some retried) and
/// reprices by Prime members, then the removals and the contract's end.
fn activity(
    rng: &mut Rng,
    size: Size,
    users: &[UserLine],
    posts: &[PostLine],
    products: &[ProductLine],
    contracts: &[ContractLine],
) -> Vec<ActivityLine> {
    let prime: Vec<String> = users
        .iter()
        .filter(|u| u.prime && u.kind == "member")
        .map(|u| u.id.clone())
        .collect();
    let mut smiling = HashSet::new();
    let mut saved = HashSet::new();
    let mut keys = Vec::new();
    let mut activity = Vec::new();
    let mut comment = 0;
    while activity.len() < size.activity {
        let member = rng.pick(&prime).clone();
        let post = rng.pick(posts);
        let p = post.id.clone();
        let roll = rng.below(100);
        let line = match roll {
            0..=44 => {
                if smiling.insert((member.clone(), p.clone())) {
                    ActivityLine::Smile { member, post: p }
                } else {
                    smiling.remove(&(member.clone(), p.clone()));
                    ActivityLine::Unsmile { member, post: p }
                }
            }
            45..=59 => {
                if !saved.insert((member.clone(), p.clone())) {
                    continue;
                }
                ActivityLine::Save { member, post: p }
            }
            60..=69 => ActivityLine::Share {
                member,
                post: p,
                channel: rng
                    .pick(&["link", "message", "email", "social"])
                    .to_string(),
            },
            70..=81 => {
                comment += 1;
                ActivityLine::Comment {
                    id: format!("c{comment:05}"),
                    member,
                    post: p,
                    text: rng.pick(&COMMENTS).to_string(),
                }
            }
            82..=98 => {
                let Some(tag) = post.tags.first().map(|_| rng.pick(&post.tags)) else {
                    continue;
                };
                // One click in twenty is a retry of an earlier click.
                if rng.chance(5) && !keys.is_empty() {
                    let (earlier, _): &(ActivityLine, ()) = rng.pick(&keys);
                    activity.push(earlier.clone());
                    continue;
                }
                let buy = ActivityLine::Buy {
                    member,
                    post: p,
                    asin: tag.asin.clone(),
                    quantity: 1 + u8::try_from(rng.below(3)).unwrap_or(0),
                    key: format!("click-{}", activity.len()),
                    gift: rng.chance(10),
                };
                keys.push((buy.clone(), ()));
                buy
            }
            _ => ActivityLine::Reprice {
                asin: rng.pick(products).asin.clone(),
                price_cents: 499 + 100 * u64::try_from(rng.below(245)).unwrap_or(0),
            },
        };
        activity.push(line);
    }
    // At the end, so nothing happens to these posts afterwards.
    // Each post once, however few there are (the demo's 600 give ten distinct ones).
    let mut removed = HashSet::new();
    for n in 0..10 {
        let post = posts[n * 53 % posts.len()].id.clone();
        if removed.insert(post.clone()) {
            activity.push(ActivityLine::RemovePost {
                by: "u0002".into(),
                post,
                reason: "Off-topic".into(),
            });
        }
    }
    activity.push(ActivityLine::EndContract {
        brand: contracts[10].brand.clone(),
        contract: contracts[10].id.clone(),
    });

    activity
}

fn jsonl<T: serde::Serialize>(lines: &[T]) -> Result<String, SeedError> {
    let mut out = String::new();
    for line in lines {
        let json = serde_json::to_string(line).map_err(|e| SeedError::Format(e.to_string()))?;
        let _ = writeln!(out, "{json}");
    }
    Ok(out)
}

impl DemoWorld {
    /// Writes the world's six files into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), SeedError> {
        std::fs::create_dir_all(dir).map_err(|e| SeedError::io(dir, e))?;
        let texts = [
            jsonl(&self.interests)?,
            jsonl(&self.products)?,
            jsonl(&self.users)?,
            jsonl(&self.contracts)?,
            jsonl(&self.posts)?,
            jsonl(&self.activity)?,
        ];
        for (name, text) in crate::FILES.into_iter().zip(texts) {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|e| SeedError::io(&path, e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_writes_the_same_world() {
        let a = tempfile::tempdir().expect("temp dir");
        let b = tempfile::tempdir().expect("temp dir");
        generate(7, Size::DEMO).write(a.path()).expect("writes");
        generate(7, Size::DEMO).write(b.path()).expect("writes");
        for name in crate::FILES {
            let left = std::fs::read(a.path().join(name)).expect("reads");
            let right = std::fs::read(b.path().join(name)).expect("reads");
            assert_eq!(left, right, "{name} differs between two runs");
        }
    }

    #[test]
    fn the_demo_world_has_the_cast_and_the_volume_it_promises() {
        let w = generate(crate::DEMO_SEED, Size::DEMO);
        assert!(w.interests.len() >= 12);
        assert_eq!(w.products.len(), 300);
        assert!(
            w.users.len() >= 80,
            "80 accounts: members, visitors, enthusiasts, staff and brands"
        );
        assert_eq!(w.posts.len(), 600);
        assert!(w.contracts.len() >= 10);
        let has = |role: &str| w.users.iter().any(|u| u.roles.iter().any(|r| r == role));
        for role in ["enthusiast", "moderator", "analyst", "auditor", "admin"] {
            assert!(has(role), "no {role}");
        }
        assert!(w.users.iter().any(|u| u.kind == "brand"));
        assert!(
            w.users.iter().any(|u| u.kind == "member" && !u.prime),
            "no visitors"
        );
        assert!(
            w.posts.iter().any(|p| p.contract.is_some()),
            "no sponsored posts"
        );
        assert!(w.posts.iter().filter(|p| !p.tags.is_empty()).count() > 300);
        let count = |f: fn(&ActivityLine) -> bool| w.activity.iter().filter(|a| f(a)).count();
        assert!(count(|a| matches!(a, ActivityLine::Smile { .. })) > 1000);
        assert!(count(|a| matches!(a, ActivityLine::Save { .. })) > 300);
        assert!(count(|a| matches!(a, ActivityLine::Share { .. })) > 300);
        assert!(count(|a| matches!(a, ActivityLine::Buy { .. })) > 500);
        assert!(count(|a| matches!(a, ActivityLine::Buy { gift: true, .. })) > 10);
    }
}
