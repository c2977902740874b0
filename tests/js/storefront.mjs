// The storefront page in a real browser: Debian's chromium, headless, driven over the
// DevTools protocol by puppeteer-core, against a real `sparkfeed serve --demo`.
//
//   node storefront.mjs http://127.0.0.1:PORT [SCREENSHOT_DIR]
//
// $CHROMIUM names the browser binary. Prints one JSON line of what it saw and exits 0, or
// prints what failed and exits 1. Every wait is bounded.

import puppeteer from "puppeteer-core";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSchema, parse, validate } from "graphql";

const schema = buildSchema(
  readFileSync(join(dirname(fileURLToPath(import.meta.url)), "..", "..", "schema.graphql"), "utf8"),
);

const base = process.argv[2];
const shots = process.argv[3];
const browserPath = process.env.CHROMIUM || "/usr/bin/chromium";
const WAIT = 20000;

if (!base) {
  console.error("usage: node storefront.mjs http://127.0.0.1:PORT [SCREENSHOT_DIR]");
  process.exit(2);
}

const seen = {};
const problems = [];
const sent = { requests: 0, operations: new Set() };

/** The page may ask its own origin for its files, GraphQL, and demo pictures only. */
function allowedRequest(url) {
  const u = new URL(url);
  if (u.origin !== new URL(base).origin) return u.protocol === "data:";
  return /^\/app(\/[a-z.]+)?$/.test(u.pathname) || u.pathname === "/graphql" || u.pathname === "/demo/media";
}

/** Every document the page sends must validate against schema.graphql. */
function checkDocument(text, via) {
  let errors;
  try {
    const document = parse(text);
    errors = validate(schema, document);
    for (const d of document.definitions) if (d.name) sent.operations.add(`${d.operation} ${d.name.value}`);
  } catch (e) {
    errors = [e];
  }
  if (errors.length) problems.push(`the page sent an operation outside schema.graphql (${via}): ${errors.map((e) => e.message).join("; ")}`);
}

function check(condition, what) {
  if (!condition) throw new Error(what);
}

async function graphql(query, variables, token) {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers,
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(`${query.slice(0, 60)}…: ${JSON.stringify(body.errors)}`);
  return body.data;
}

const browser = await puppeteer.launch({
  executablePath: browserPath,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage"],
  protocolTimeout: 60000,
});

try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 1000 });
  page.setDefaultTimeout(WAIT);
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`uncaught: ${error.message}`));
  page.on("requestfailed", (req) => {
    problems.push(`request failed: ${req.url()} ${req.failure() && req.failure().errorText}`);
  });
  page.on("request", (req) => {
    sent.requests += 1;
    if (!allowedRequest(req.url())) problems.push(`the page asked for ${req.url()}`);
    if (new URL(req.url()).pathname === "/graphql" && req.method() === "POST") {
      checkDocument(JSON.parse(req.postData()).query, "HTTP");
    }
  });
  const cdp = await page.createCDPSession();
  await cdp.send("Network.enable");
  cdp.on("Network.webSocketCreated", ({ url }) => {
    if (new URL(url).host !== new URL(base).host) problems.push(`the page opened a WebSocket to ${url}`);
  });
  cdp.on("Network.webSocketFrameSent", ({ response }) => {
    const message = JSON.parse(response.payloadData);
    if (message.type === "subscribe") checkDocument(message.payload.query, "WebSocket");
  });
  page.on("response", (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });

  // 1. The page loads, signed out, on the first interest's feed: 20 cards, with tags.
  await page.goto(`${base}/app`, { waitUntil: "load" });
  await page.waitForSelector("body[data-ready=true]");
  await page.waitForSelector("#live-state[data-state=live]");
  const cards = await page.$$eval("#feed article.card", (nodes) =>
    nodes.map((card) => ({
      id: card.dataset.postId,
      products: card.querySelectorAll("li.product").length,
      pins: [...card.querySelectorAll(".tag-pin")].map((pin) => ({
        x: Number(pin.dataset.x),
        y: Number(pin.dataset.y),
        left: pin.style.left,
        top: pin.style.top,
        label: pin.getAttribute("aria-label"),
      })),
      prices: [...card.querySelectorAll("li.product .price")].map((p) => p.textContent),
      images: [...card.querySelectorAll(".frame img")].map((img) => img.getAttribute("alt")),
    })),
  );
  check(cards.length === 20, `the first feed shows 20 cards, not ${cards.length}`);
  const tagged = cards.filter((c) => c.products > 0);
  check(tagged.length >= 10, `most cards have tags: ${tagged.length} of 20`);
  const pins = cards.flatMap((c) => c.pins);
  check(pins.length > 0, "tags are pinned on the pictures");
  for (const pin of pins) {
    check(
      Math.abs(parseFloat(pin.left) - pin.x * 100) < 0.06 &&
        Math.abs(parseFloat(pin.top) - pin.y * 100) < 0.06 &&
        pin.left.endsWith("%") &&
        pin.top.endsWith("%"),
      `a tag sits at its x/y: ${JSON.stringify(pin)}`,
    );
    check(pin.label && pin.label.startsWith("Tagged: "), `a pin is labelled: ${pin.label}`);
  }
  check(
    tagged.every((c) => c.prices.every((p) => /\d+\.\d\d [A-Z]{3}/.test(p))),
    "every tagged product shows its price",
  );
  check(cards.every((c) => c.images.every((alt) => alt && alt.length > 0)), "every picture has an alt text");
  await page.waitForFunction(
    () => {
      const img = document.querySelector("#feed .frame img");
      return img && img.complete && img.naturalWidth > 0;
    },
    { timeout: WAIT },
  );
  // The verified-purchaser badges: one per product its author bought, as the API says.
  const firstSlug = await page.$eval("#feeds button[aria-current=page]", (b) => b.dataset.feed.slice(9));
  const firstFeed = await graphql(
    `query($i: String!) { feed(interest: $i, first: 20) { nodes { id tags { asin verifiedPurchaser } } } }`,
    { i: firstSlug },
  );
  const verified = firstFeed.feed.nodes.flatMap((n) =>
    [...new Set(n.tags.filter((t) => t.verifiedPurchaser).map((t) => `${n.id}/${t.asin}`))],
  );
  const badges = await page.$$eval("#feed li.product .verified", (nodes) =>
    nodes.map((b) => `${b.closest("article").dataset.postId}/${b.closest("li").dataset.asin}`),
  );
  check(verified.length > 0, `the ${firstSlug} feed has a verified purchaser to show`);
  check(
    JSON.stringify(badges.sort()) === JSON.stringify(verified.sort()),
    `the badges ${badges} are the verified purchasers ${verified}`,
  );
  seen.verifiedBadges = badges.length;

  // Keyboard and screen-reader basics: the first Tab reaches the skip link, which leads
  // to the feed; every control has a name, every field a label, every picture an alt.
  await page.keyboard.press("Tab");
  check(await page.evaluate(() => document.activeElement.classList.contains("skip")), "the first Tab reaches the skip link");
  const unnamed = await page.evaluate(() => {
    const named = (e) => (e.getAttribute("aria-label") || e.textContent || "").trim().length > 0;
    const out = [];
    for (const b of document.querySelectorAll("button")) if (!named(b)) out.push(`button ${b.className}`);
    for (const f of document.querySelectorAll("input, select, textarea")) {
      if (f.type !== "hidden" && f.labels.length === 0 && !f.getAttribute("aria-label")) out.push(`field ${f.id || f.name}`);
    }
    for (const i of document.querySelectorAll("img")) if (!i.hasAttribute("alt")) out.push(`img ${i.src}`);
    return out;
  });
  check(unnamed.length === 0, `every control is named: ${unnamed.join(", ")}`);
  seen.cards = cards.length;
  seen.cardsWithTags = tagged.length;
  seen.pins = pins.length;

  // 2. A demo member signs in by picking their name.
  const demo = await (await fetch(`${base}/app/demo.json`)).json();
  const member = demo.members.find((m) => m.kind === "Prime member");
  check(member, "demo.json offers a Prime member");
  await page.select("#member-select", member.id);
  await page.click("#member-signin");
  await page.waitForFunction(
    (name) => document.querySelector("#viewer").textContent.includes(name),
    {},
    member.displayName,
  );
  await page.waitForSelector('#feeds button[data-feed="forYou"][aria-current=page]');
  await page.waitForSelector("#feed article.card");
  await page.waitForSelector("#live-state[data-state=live]");
  seen.signedInAs = member.id;

  // Their interests' merged feed.
  await page.click('#feeds button[data-feed="home"]');
  await page.waitForSelector('#feeds button[data-feed="home"][aria-current=page]');
  await page.waitForFunction(() => document.querySelectorAll("#feed article.card").length === 20);
  await page.click('#feeds button[data-feed="forYou"]');
  await page.waitForSelector('#feeds button[data-feed="forYou"][aria-current=page]');
  await page.waitForSelector("#feed article.card");

  // 3. A smile changes the count, on the page and on the server.
  const smiled = await page.$$eval("#feed article.card", (nodes) => {
    const card = nodes.find((c) => c.querySelector(".smile").getAttribute("aria-pressed") === "false");
    return card && { id: card.dataset.postId, count: Number(card.querySelector(".smile .count").textContent) };
  });
  check(smiled, "a card the member has not smiled at");
  // A double click smiles once: the button is disabled while its request is in flight.
  await page.click(`article.card[data-post-id="${smiled.id}"] .smile`, { count: 2 });
  await page.waitForFunction(
    (id, count) => {
      const button = document.querySelector(`article.card[data-post-id="${id}"] .smile`);
      return (
        button.getAttribute("aria-pressed") === "true" &&
        Number(button.querySelector(".count").textContent) === count + 1
      );
    },
    {},
    smiled.id,
    smiled.count,
  );
  const after = await graphql(`query($id: ID!) { post(id: $id) { smileCount viewerHasSmiled } }`, { id: smiled.id }, member.token);
  check(Number(after.post.smileCount) === smiled.count + 1 && after.post.viewerHasSmiled, "the server counts the smile");
  check(await page.$eval("#error", (e) => e.hidden), "the double click raised no error (ALREADY_SMILED)");
  seen.smile = { post: smiled.id, from: smiled.count, to: smiled.count + 1 };

  // 4. A buy shows the order, and the server has it.
  const buyable = await page.$$eval("#feed article.card li.product .buy:not([disabled])", (buttons) => {
    const li = buttons[0] && buttons[0].closest("li.product");
    return li && { post: li.closest("article.card").dataset.postId, asin: li.dataset.asin };
  });
  check(buyable, "a product to buy");
  await page.click(`article.card[data-post-id="${buyable.post}"] li.product[data-asin="${buyable.asin}"] .buy`);
  await page.waitForSelector("#order:not([hidden])");
  const order = await page.$eval("#order", (section) => ({
    id: section.dataset.orderId,
    text: section.textContent.replace(/\s+/g, " ").trim(),
  }));
  const orders = await graphql(`{ viewer { orders(first: 5) { nodes { id post { id } product { asin } } } } }`, {}, member.token);
  const placed = orders.viewer.orders.nodes.find((o) => o.id === order.id);
  check(placed && placed.product.asin === buyable.asin && placed.post.id === buyable.post, `the order ${order.id} is the member's`);
  check(/\d+\.\d\d [A-Z]{3}/.test(order.text) && order.text.includes(order.id), `the order shows its total and id: ${order.text}`);
  seen.order = order;

  // 5. Comments open, and a comment is posted.
  await page.click(`article.card[data-post-id="${smiled.id}"] .comments-toggle`);
  const field = `article.card[data-post-id="${smiled.id}"] .comment-form textarea`;
  await page.waitForSelector(field);
  await page.type(field, "Looks great in the browser test");
  await page.click(`article.card[data-post-id="${smiled.id}"] .comment-form button[type=submit]`);
  await page.waitForFunction(
    (id) =>
      [...document.querySelectorAll(`article.card[data-post-id="${id}"] .comment`)].some((c) =>
        c.textContent.includes("Looks great in the browser test"),
      ),
    {},
    smiled.id,
  );

  // 6. A sponsored post shows its label: the first interest whose first page has one.
  const interests = (await graphql(`{ interests(first: 50) { nodes { slug } } }`)).interests.nodes;
  let sponsoredIn = null;
  for (const { slug } of interests) {
    const feed = await graphql(
      `query($i: String!) { feed(interest: $i, first: 20) { edges { node { id sponsored disclosure { label } } } } }`,
      { i: slug },
    );
    const found = feed.feed.edges.find((e) => e.node.sponsored);
    if (found) {
      sponsoredIn = { slug, post: found.node.id, label: found.node.disclosure.label };
      break;
    }
  }
  check(sponsoredIn, "some interest's first page has a sponsored post");
  await page.click(`#feeds button[data-feed="interest:${sponsoredIn.slug}"]`);
  await page.waitForSelector(`article.card[data-post-id="${sponsoredIn.post}"] .disclosure`);
  const label = await page.$eval(`article.card[data-post-id="${sponsoredIn.post}"] .disclosure`, (d) =>
    d.textContent.replace("◆", "").trim(),
  );
  check(label.startsWith("Paid partnership with ") && label === sponsoredIn.label, `the label reads ${label}`);
  seen.sponsored = { ...sponsoredIn, shown: label };
  await page.waitForSelector("#live-state[data-state=live]");

  if (shots) {
    mkdirSync(shots, { recursive: true });
    await page.evaluate(() => {
      window.scrollTo(0, 0);
      document.querySelector("#status").textContent = "";
    });
    await page.screenshot({ path: join(shots, "storefront-feed.png") });
    // The sticky header would cover the card in an element screenshot.
    await page.evaluate(() => {
      document.querySelector(".top").style.position = "static";
    });
    const card = await page.$(`article.card[data-post-id="${sponsoredIn.post}"]`);
    await card.screenshot({ path: join(shots, "storefront-card.png") });
    await page.evaluate(() => {
      document.querySelector(".top").style.position = "";
    });
  }

  // 7. A post published through the API appears without a reload.
  await page.evaluate(() => {
    window.__sameDocument = true;
  });
  const author = demo.members.find((m) => m.kind === "Enthusiast") || member;
  const products = (
    await graphql(`query($i: String!) { feed(interest: $i, first: 5) { nodes { tags { asin } } } }`, {
      i: sponsoredIn.slug,
    })
  ).feed.nodes.flatMap((n) => n.tags.map((t) => t.asin));
  const published = await graphql(
    `mutation($input: PublishPostInput!) { publishPost(input: $input) { post { id } } }`,
    {
      input: {
        caption: "Published through the API while the page watches",
        interests: [sponsoredIn.slug],
        media: [{ url: "https://media.sparkfeed.example/posts/p00001/0.jpg", width: 1080, height: 1080, alt: "A live post" }],
        tags: products.length ? [{ asin: products[0], mediaIndex: 0, x: 0.5, y: 0.5 }] : [],
        idempotencyKey: `storefront-${Date.now()}`,
      },
    },
    author.token,
  );
  const newId = published.publishPost.post.id;
  await page.waitForSelector(`article.card.fresh[data-post-id="${newId}"]`);
  const first = await page.$eval("#feed article.card", (c) => c.dataset.postId);
  const same = await page.evaluate(() => window.__sameDocument === true);
  check(first === newId && same, `the new post ${newId} is on top (${first}) of the same document`);
  seen.live = { post: newId, by: author.id };

  // 8. An error code reads as a sentence: a member without Prime cannot buy in one click.
  const visitor = demo.members.find((m) => m.kind === "Member without Prime");
  check(visitor, "demo.json offers a member without Prime");
  await page.select("#member-select", visitor.id);
  await page.click("#member-signin");
  await page.waitForFunction((name) => document.querySelector("#viewer").textContent.includes(name), {}, visitor.displayName);
  await page.waitForSelector("#feed article.card li.product .buy");
  await page.click("#feed article.card li.product .buy");
  await page.waitForSelector('#error:not([hidden]) .error-message[data-code="NOT_PRIME"]');
  seen.notPrime = await page.$eval("#error", (e) => e.textContent.replace(/\s+/g, " ").trim());

  await page.click("#error .dismiss");
  await page.waitForSelector("#error[hidden]");

  // 9. Picking interests: the visitor adds one, and the server has it.
  const before = (await graphql("{ viewer { interests } }", {}, visitor.token)).viewer.interests;
  const added = interests.map((i) => i.slug).find((slug) => !before.includes(slug));
  const dropped = before[0];
  await page.click("#interest-picker summary");
  if (dropped) await page.click(`#interest-${dropped}`);
  await page.click(`#interest-${added}`);
  await page.click("#interest-form button[type=submit]");
  await page.waitForFunction(
    () =>
      document.querySelector("#status").textContent.startsWith("Your interests are saved") ||
      !document.querySelector("#error").hidden,
  );
  const refused = await page.$eval("#error", (e) => (e.hidden ? null : e.textContent));
  check(refused === null, `the interests were saved: ${refused}`);
  const now = (await graphql("{ viewer { interests } }", {}, visitor.token)).viewer.interests;
  check(
    now.includes(added) && !now.includes(dropped) && now.length === before.length,
    `${added} replaced ${dropped} in ${before}: ${now}`,
  );
  seen.interests = { added, dropped, now };
  // That error was expected: it is the API's answer, not the page's failure.
  check(problems.length === 0, `the page ran with no error:\n${problems.join("\n")}`);
  seen.requests = sent.requests;
  seen.operations = [...sent.operations].sort();
  console.log(JSON.stringify({ ok: true, ...seen }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: error.message, problems, ...seen }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
