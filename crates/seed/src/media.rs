//! The demo world's pictures: the URLs its posts and products carry (on hosts under
//! `sparkfeed.example`, which resolve nowhere), and the placeholder images `serve --demo`
//! draws for them, so the storefront page looks real with no network.
//!
//! Invariant: [`demo_picture`] is the inverse of [`post_media_url`] and
//! [`product_image_url`]; a URL they did not make is `None`, so nothing else is ever
//! drawn over.

use std::fmt::Write as _;

/// The host of posts' photos.
pub const MEDIA_HOST: &str = "media.sparkfeed.example";
/// The host of products' images.
pub const IMAGE_HOST: &str = "images.sparkfeed.example";
/// Both, for a page that must know which URLs have placeholders.
pub const PLACEHOLDER_HOSTS: [&str; 2] = [MEDIA_HOST, IMAGE_HOST];

/// The first number of the demo catalog: product `n` is ASIN `B{FIRST + n:09}`.
pub(crate) const FIRST_PRODUCT: usize = 100_000;

/// The URL of photo `index` of the demo post numbered `post` (1-based, `p00001`).
pub fn post_media_url(post: usize, index: usize) -> String {
    format!("https://{MEDIA_HOST}/posts/p{post:05}/{index}.jpg")
}

/// The URL of the image of demo product `n` (0-based).
pub fn product_image_url(n: usize) -> String {
    format!("https://{IMAGE_HOST}/products/{}.jpg", FIRST_PRODUCT + n)
}

/// The ASIN of demo product `n` (0-based).
pub fn product_asin(n: usize) -> String {
    format!("B{:09}", FIRST_PRODUCT + n)
}

/// What a demo picture URL shows.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum DemoPicture {
    /// Photo `index` of post `post` (its id, `p00001`).
    PostMedia {
        /// The post's id.
        post: String,
        /// Which of its media.
        index: usize,
    },
    /// The image of a product.
    ProductImage {
        /// Its ASIN.
        asin: String,
    },
}

/// What `url` shows, if the demo world made it.
pub fn demo_picture(url: &str) -> Option<DemoPicture> {
    if let Some(path) = url
        .strip_prefix("https://")
        .and_then(|u| u.strip_prefix(MEDIA_HOST))
        .and_then(|u| u.strip_prefix("/posts/"))
    {
        let (post, file) = path.split_once('/')?;
        let index = file.strip_suffix(".jpg")?;
        let digits = post.strip_prefix('p')?;
        let well_formed = digits.len() == 5
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !index.is_empty()
            && index.len() <= 2
            && index.bytes().all(|b| b.is_ascii_digit());
        return well_formed.then(|| DemoPicture::PostMedia {
            post: post.to_owned(),
            index: index.parse().unwrap_or(0),
        });
    }
    let number = url
        .strip_prefix("https://")?
        .strip_prefix(IMAGE_HOST)?
        .strip_prefix("/products/")?
        .strip_suffix(".jpg")?;
    let well_formed = number.len() == 6 && number.bytes().all(|b| b.is_ascii_digit());
    let n: usize = number.parse().ok().filter(|_| well_formed)?;
    Some(DemoPicture::ProductImage {
        asin: product_asin(n.checked_sub(FIRST_PRODUCT)?),
    })
}

/// A placeholder picture: a field in the colour of its interest, with a title (a
/// product's name) and a line under it.
#[derive(Clone, Debug)]
pub struct Placeholder<'a> {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The interest whose colour it takes.
    pub interest: &'a str,
    /// The big line: what the picture shows.
    pub title: &'a str,
    /// The small line under it.
    pub caption: &'a str,
    /// What it is a picture of (an ASIN, a post's photo): varies the shapes between
    /// pictures of one interest.
    pub of: &'a str,
}

/// Two colours (background, accent) per interest: chosen by a hash of the slug, so any
/// interest, not only the demo's, gets a stable pair.
const PALETTE: [(&str, &str); 12] = [
    ("#1f6f5c", "#8fe3c8"),
    ("#7a2e52", "#f3a6c8"),
    ("#2d4f8f", "#a9c4ff"),
    ("#8a4b12", "#ffc987"),
    ("#4b3a8c", "#c9b8ff"),
    ("#2f6b2a", "#b7ec9d"),
    ("#7c2222", "#ffaaa0"),
    ("#215f78", "#9fe0f5"),
    ("#6b5a12", "#f2e08a"),
    ("#5a2f6e", "#e4b0f7"),
    ("#3d4a55", "#c5d3de"),
    ("#7a3d00", "#ffb877"),
];

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Escapes text for SVG character data and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

impl Placeholder<'_> {
    /// The picture as an SVG document (no script, no external reference).
    pub fn svg(&self) -> String {
        let (w, h) = (self.width.clamp(16, 4096), self.height.clamp(16, 4096));
        let (background, accent) = PALETTE[usize::try_from(fnv(self.interest) % 12).unwrap_or(0)];
        let mut shapes = String::new();
        let mut seed = fnv(self.interest) ^ fnv(self.of).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        for _ in 0..5 {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let x = (seed >> 16) % u64::from(w);
            let y = (seed >> 32) % u64::from(h);
            let r = u64::from(w.min(h)) / 12 + (seed >> 48) % (u64::from(w.min(h)) / 5);
            let _ = write!(
                shapes,
                r#"<circle cx="{x}" cy="{y}" r="{r}" fill="{accent}" opacity="0.22"/>"#
            );
        }
        let title_size = w.min(h) / 14;
        let caption_size = w.min(h) / 26;
        let title = escape(self.title);
        let caption = escape(self.caption);
        let interest = escape(self.interest);
        format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{title}"><rect width="{w}" height="{h}" fill="{background}"/>{shapes}<text x="50%" y="47%" text-anchor="middle" font-family="sans-serif" font-weight="700" font-size="{title_size}" fill="#ffffff">{title}</text><text x="50%" y="56%" text-anchor="middle" font-family="sans-serif" font-size="{caption_size}" fill="{accent}">{caption}</text><text x="4%" y="95%" font-family="sans-serif" font-size="{caption_size}" fill="{accent}" opacity="0.8">#{interest} · placeholder</text></svg>"##
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_urls_the_demo_makes_read_back_as_what_they_show() {
        assert_eq!(
            demo_picture(&post_media_url(42, 3)),
            Some(DemoPicture::PostMedia {
                post: "p00042".into(),
                index: 3
            })
        );
        assert_eq!(
            demo_picture(&product_image_url(7)),
            Some(DemoPicture::ProductImage {
                asin: product_asin(7)
            })
        );
        assert_eq!(product_asin(7), "B000100007");
    }

    #[test]
    fn any_other_url_has_no_placeholder() {
        for url in [
            "https://media.sparkfeed.example/posts/p00042/3.png",
            "https://media.sparkfeed.example/posts/p0042/3.jpg",
            "https://media.sparkfeed.example/posts/p00042/x.jpg",
            "https://media.sparkfeed.example/posts/p00042/3.jpg/..",
            "http://media.sparkfeed.example/posts/p00042/3.jpg",
            "https://images.sparkfeed.example/products/099999.jpg",
            "https://images.sparkfeed.example/products/10000.jpg",
            "https://images.sparkfeed.example.evil/products/100000.jpg",
            "https://cdn.example.com/a.jpg",
            "",
        ] {
            assert_eq!(demo_picture(url), None, "{url}");
        }
    }

    #[test]
    fn a_placeholder_escapes_its_text_and_names_nothing_outside() {
        let svg = Placeholder {
            width: 1080,
            height: 1350,
            interest: "coffee",
            title: "Mug <script>alert(1)</script> & \"co\"",
            caption: "photo 1",
            of: "B000100009",
        }
        .svg();
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
        assert!(!svg.contains("<script"), "{svg}");
        assert!(svg.contains("Mug &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;co&quot;"));
        assert!(!svg.contains("href"), "no external reference: {svg}");
        assert!(svg.contains(r#"viewBox="0 0 1080 1350""#));
    }
}
