// The storefront page: the demo of what sparkfeed does, built on its public GraphQL API
// only (operations of schema.graphql), with no framework and no build step. Everything
// on screen is made with DOM calls (never from HTML strings), so no post can inject markup.

import { GraphQLFailure, LiveConnection, idempotencyKey, request } from "./graphql.js";
import { describe } from "./messages.js";
import { MUTATIONS, QUERIES, SUBSCRIPTIONS } from "./operations.js";

const PAGE = 20;
const TOKEN_KEY = "sparkfeed.token";

const state = {
  token: null,
  viewer: null,
  interests: [],
  demo: null, // { members, placeholderHosts, placeholderPath } in demo mode
  view: null, // { kind: "interest" | "home" | "forYou", interest? }
  // Bumped by every show(): an answer or a live post of an older one is dropped, so no
  // card, cursor or subscription of a view that is gone reaches the one on screen.
  generation: 0,
  // Bumped by every signIn(): an older sign-in's answer changes nothing.
  signIns: 0,
  cursor: null,
  cards: new Map(), // post id -> { element, post }
  unsubscribeFeed: null,
  openCounts: new Map(), // post id -> unsubscribe
};

const live = new LiveConnection((kind, detail) => {
  const el = byId("live-state");
  el.dataset.state = kind;
  el.textContent =
    kind === "live" ? "Live" : kind === "connecting" ? "Connecting…" : `Offline: ${detail}`;
});

// ---------------------------------------------------------------- small DOM helpers

function byId(id) {
  return document.getElementById(id);
}

/** An element with attributes (`class`, `text`, `on*` handlers, others as attributes). */
function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of [].concat(children)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

let quiet = null;

/** Announces `text` (to screen readers too), for a few seconds. */
function say(text) {
  const status = byId("status");
  status.textContent = text;
  clearTimeout(quiet);
  quiet = setTimeout(() => {
    status.textContent = "";
  }, 5000);
}

/** Shows an API failure as readable messages, each with its code. */
function showError(error, doing) {
  const box = byId("error");
  box.replaceChildren();
  const codes = error instanceof GraphQLFailure ? error.codes : ["UNKNOWN"];
  const unique = [...new Set(codes)];
  box.append(el("strong", { text: doing ? `Could not ${doing}. ` : "" }));
  for (const code of unique) {
    box.append(
      el("span", { class: "error-message", dataset: { code } }, [
        describe(code),
        " ",
        el("code", { text: code }),
      ]),
    );
  }
  box.append(
    el("button", {
      type: "button",
      class: "dismiss",
      text: "Dismiss",
      onclick: () => {
        box.hidden = true;
        byId("feed").focus();
      },
    }),
  );
  box.hidden = false;
  if (!(error instanceof GraphQLFailure)) console.warn(error);
}

function clearError() {
  byId("error").hidden = true;
}

async function api(query, variables) {
  return request(query, variables, state.token);
}

/** Where the page loads a picture from: the demo's placeholder for a demo URL. */
function pictureSrc(url) {
  if (!url) return null;
  const demo = state.demo;
  if (demo) {
    try {
      const parsed = new URL(url);
      if (demo.placeholderHosts.includes(parsed.host)) {
        return `${demo.placeholderPath}?url=${encodeURIComponent(url)}`;
      }
    } catch (e) {
      return null;
    }
  }
  return url.startsWith("https://") ? url : null;
}

function plural(n, one, many) {
  return `${n} ${Number(n) === 1 ? one : many}`;
}

// ---------------------------------------------------------------- signing in

async function signIn(token, announce) {
  const attempt = ++state.signIns;
  state.token = token || null;
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
  state.viewer = null;
  if (token) {
    try {
      const viewer = (await request(QUERIES.viewer, {}, token)).viewer;
      if (attempt !== state.signIns) return;
      state.viewer = viewer;
    } catch (e) {
      if (attempt !== state.signIns) return;
      showError(e, "sign in");
      state.token = null;
      sessionStorage.removeItem(TOKEN_KEY);
    }
  }
  live.signIn(state.token);
  renderViewer();
  renderFeedsNav();
  renderInterestPicker();
  if (announce) say(state.viewer ? `Signed in as ${name(state.viewer)}.` : "Signed out.");
  const view =
    state.viewer && state.viewer.kind === "MEMBER"
      ? { kind: "forYou" }
      : { kind: "interest", interest: firstInterest() };
  await show(view);
}

function name(user) {
  if (!user) return "someone";
  return user.displayName || (user.handle ? `@${user.handle}` : user.id);
}

function firstInterest() {
  const mine = state.viewer && state.viewer.interests && state.viewer.interests[0];
  return mine || (state.interests[0] && state.interests[0].slug);
}

function renderViewer() {
  const viewer = byId("viewer");
  const signedIn = Boolean(state.viewer);
  viewer.textContent = signedIn
    ? `${name(state.viewer)}${state.viewer.handle ? ` (@${state.viewer.handle})` : ""}${
        state.viewer.prime ? " · Prime" : ""
      }`
    : "Signed out";
  byId("signout").hidden = !signedIn;
  byId("token-input").value = "";
  // Without demo members, the token is the way in: show its field while signed out.
  byId("token-box").open = !state.demo && !signedIn;
}

function renderDemoMembers() {
  const form = byId("demo-signin");
  if (!state.demo || !state.demo.members.length) return;
  const select = byId("member-select");
  select.replaceChildren(
    el("option", { value: "", text: "Choose a demo member…" }),
    ...state.demo.members.map((m) =>
      el("option", {
        value: m.id,
        text: `${m.displayName} · ${m.kind}`,
      }),
    ),
  );
  form.hidden = false;
}

// ---------------------------------------------------------------- feeds and interests

function viewLabel(view) {
  if (view.kind === "forYou") return "For you";
  if (view.kind === "home") return "Your interests";
  const interest = state.interests.find((i) => i.slug === view.interest);
  return interest ? interest.name : view.interest;
}

function sameView(a, b) {
  return a && b && a.kind === b.kind && a.interest === b.interest;
}

function renderFeedsNav() {
  const list = byId("feeds");
  // The buttons are made anew: a keyboard user keeps their place.
  const focused = list.contains(document.activeElement) ? document.activeElement.dataset.feed : null;
  const views = [];
  if (state.viewer && state.viewer.kind === "MEMBER") {
    views.push({ kind: "forYou" }, { kind: "home" });
  }
  for (const interest of state.interests) views.push({ kind: "interest", interest: interest.slug });
  list.replaceChildren(
    ...views.map((view) =>
      el("li", {}, [
        el("button", {
          type: "button",
          class: "feed-link",
          dataset: { feed: view.kind === "interest" ? `interest:${view.interest}` : view.kind },
          "aria-current": sameView(view, state.view) ? "page" : undefined,
          text: viewLabel(view),
          onclick: () => show(view),
        }),
      ]),
    ),
  );
  if (focused) {
    const again = list.querySelector(`button[data-feed="${CSS.escape(focused)}"]`);
    if (again) again.focus();
  }
}

function renderInterestPicker() {
  const picker = byId("interest-picker");
  const member = state.viewer && state.viewer.kind === "MEMBER";
  picker.hidden = !member;
  if (!member) return;
  const mine = new Set(state.viewer.interests || []);
  byId("interest-choices").replaceChildren(
    ...state.interests.map((interest) => {
      const id = `interest-${interest.slug}`;
      return el("div", { class: "choice" }, [
        el("input", {
          type: "checkbox",
          id,
          name: "interest",
          value: interest.slug,
          checked: mine.has(interest.slug),
        }),
        el("label", { for: id, text: interest.name }),
      ]);
    }),
  );
}

async function saveInterests(event) {
  event.preventDefault();
  const chosen = [...document.querySelectorAll("input[name=interest]:checked")].map((i) => i.value);
  try {
    const data = await api(MUTATIONS.chooseInterests, { interests: chosen, key: idempotencyKey() });
    state.viewer.interests = data.chooseInterests.user
      ? data.chooseInterests.user.interests
      : chosen;
    clearError();
    say(`Your interests are saved: ${chosen.length ? chosen.join(", ") : "none"}.`);
    await show(state.view);
  } catch (e) {
    showError(e, "save your interests");
  }
}

/** Switches to `view`: its first page, then live updates. */
async function show(view) {
  if (!view || (view.kind === "interest" && !view.interest)) return;
  state.view = view;
  const generation = ++state.generation;
  state.cursor = null;
  state.cards.clear();
  for (const stop of state.openCounts.values()) stop();
  state.openCounts.clear();
  if (state.unsubscribeFeed) state.unsubscribeFeed();
  state.unsubscribeFeed = null;
  byId("feed").replaceChildren();
  byId("feed-title").textContent = viewLabel(view);
  byId("feed-note").textContent = "";
  renderFeedsNav();
  const first = await loadPage();
  if (generation !== state.generation) return;
  subscribeFeed(view, generation, first);
}

/** Loads the next page of the current view; resolves the newest cursor of the first. */
async function loadPage() {
  const view = state.view;
  const generation = state.generation;
  const more = byId("more");
  more.disabled = true;
  const feed = byId("feed");
  feed.setAttribute("aria-busy", "true");
  try {
    const variables = { first: PAGE, after: state.cursor };
    let connection;
    if (view.kind === "interest") {
      connection = (await api(QUERIES.feed, { ...variables, interest: view.interest })).feed;
    } else if (view.kind === "home") {
      connection = (await api(QUERIES.home, variables)).homeFeed;
    } else {
      connection = (await api(QUERIES.forYou, variables)).forYou;
      if (generation !== state.generation) return null;
      byId("feed-note").textContent =
        connection.mode === "CHRONOLOGICAL"
          ? "Newest first, with no profiling (your feed mode is chronological)."
          : "Ranked for you from your interests, creators you follow and posts like ones you engaged with.";
    }
    if (generation !== state.generation) return null;
    const newest = state.cursor === null && connection.edges[0] ? connection.edges[0].cursor : null;
    for (const edge of connection.edges) {
      const why = edge.reasons ? edge.reasons.map((r) => r.text) : edge.because;
      addCardToView(edge.node, { why });
    }
    if (state.cursor === null && !connection.edges.length) {
      byId("feed-note").textContent = "Nothing here yet.";
    }
    state.cursor = connection.pageInfo.endCursor;
    more.hidden = !connection.pageInfo.hasNextPage;
    clearError();
    return newest;
  } catch (e) {
    if (generation === state.generation) showError(e, "load the feed");
    return null;
  } finally {
    if (generation === state.generation) more.disabled = false;
    feed.setAttribute("aria-busy", "false");
    feed.dataset.loaded = String(state.cards.size);
  }
}

function subscribeFeed(view, generation, newestCursor) {
  const onError = (e) => {
    if (generation === state.generation) showError(e, "keep the feed live");
  };
  // A live post of a view that is gone is dropped (its subscription is ending).
  const addCard = (post, options) => {
    if (generation === state.generation) addCardToView(post, options);
  };
  if (view.kind === "interest") {
    state.unsubscribeFeed = live.subscribe(
      SUBSCRIPTIONS.feed,
      { interest: view.interest, after: newestCursor },
      (data) => addCard(data.feedUpdates, { fresh: true }),
      onError,
    );
  } else if (view.kind === "home") {
    state.unsubscribeFeed = live.subscribe(
      SUBSCRIPTIONS.home,
      {},
      (data) => addCard(data.homeFeedUpdates, { fresh: true }),
      onError,
    );
  } else {
    state.unsubscribeFeed = live.subscribe(
      SUBSCRIPTIONS.forYou,
      {},
      (data) =>
        addCard(data.forYouUpdates.node, {
          fresh: true,
          why: data.forYouUpdates.reasons.map((r) => r.text),
        }),
      onError,
    );
  }
}

// ---------------------------------------------------------------- post cards

function addCardToView(post, { fresh = false, why = null } = {}) {
  if (!post || state.cards.has(post.id)) return;
  const element = renderCard(post, why);
  state.cards.set(post.id, { element, post });
  const feed = byId("feed");
  if (fresh) {
    element.classList.add("fresh");
    feed.prepend(element);
    say(`New post by ${name(post.author)}.`);
  } else {
    feed.append(element);
  }
  feed.dataset.loaded = String(state.cards.size);
}

function renderCard(post, why) {
  const titleId = `post-${post.id}-title`;
  const card = el("article", {
    id: `post-${post.id}`,
    class: post.sponsored ? "card sponsored" : "card",
    dataset: { postId: post.id },
    "aria-labelledby": titleId,
  });
  const header = el("header", { class: "card-head" }, [
    el("h3", { id: titleId, class: "author" }, [
      name(post.author),
      post.author && post.author.handle
        ? el("span", { class: "handle", text: ` @${post.author.handle}` })
        : null,
    ]),
    el("time", {
      datetime: post.publishedAt,
      text: new Date(post.publishedAt).toLocaleString(),
    }),
  ]);
  card.append(header);
  if (post.disclosure) {
    card.append(
      el("p", { class: "disclosure", dataset: { contract: post.disclosure.contractId } }, [
        el("span", { class: "disclosure-mark", "aria-hidden": "true", text: "◆ " }),
        post.disclosure.label,
      ]),
    );
  }
  if (why && why.length) card.append(el("p", { class: "why", text: `Why: ${why.join(" · ")}` }));
  card.append(renderMedia(post));
  if (post.caption) card.append(el("p", { class: "caption", text: post.caption }));
  card.append(renderProducts(post));
  card.append(renderActions(post));
  card.append(el("section", { class: "comments", hidden: true, "aria-label": "Comments" }));
  return card;
}

function renderMedia(post) {
  const figure = el("figure", { class: "media" });
  if (!post.media.length) return figure;
  let index = 0;
  const frame = el("div", { class: "frame" });
  const counter = el("figcaption", { class: "media-count" });
  const draw = () => {
    const medium = post.media[index];
    const src = pictureSrc(medium.url);
    const alt =
      medium.alt || `${medium.kind === "VIDEO" ? "Video" : "Photo"} ${index + 1} of ${post.media.length}`;
    const picture = src
      ? el("img", {
          src,
          alt,
          width: medium.width,
          height: medium.height,
          loading: "lazy",
          decoding: "async",
        })
      : el("div", { class: "missing", role: "img", "aria-label": alt, text: alt });
    const pins = post.tags
      .filter((tag) => tag.mediaIndex === index)
      .map((tag) => {
        const title = tag.product ? tag.product.title : tag.asin;
        const price = tag.product ? tag.product.price.formatted : "";
        const pin = el(
          "button",
          {
            type: "button",
            class: "tag-pin",
            dataset: { asin: tag.asin, x: tag.x, y: tag.y },
            "aria-label": `Tagged: ${title}${price ? `, ${price}` : ""}`,
            title: `${title} ${price}`,
            onclick: () => {
              const row = figure.parentElement.querySelector(`li.product[data-asin="${tag.asin}"] .buy`);
              if (row) row.focus();
            },
          },
          [el("span", { class: "pin-dot", "aria-hidden": "true" }), el("span", { class: "pin-label", text: price })],
        );
        // A pin near an edge grows inwards, so its label stays on the picture.
        if (tag.x < 0.15) pin.classList.add("pin-start");
        if (tag.x > 0.85) pin.classList.add("pin-end");
        pin.style.left = `${(tag.x * 100).toFixed(1)}%`;
        pin.style.top = `${(tag.y * 100).toFixed(1)}%`;
        return pin;
      });
    frame.replaceChildren(picture, ...pins);
    counter.textContent =
      post.media.length > 1 ? `${medium.kind === "VIDEO" ? "Video" : "Photo"} ${index + 1} of ${post.media.length}` : "";
  };
  figure.append(frame, counter);
  if (post.media.length > 1) {
    const step = (by) => () => {
      index = (index + by + post.media.length) % post.media.length;
      draw();
    };
    figure.append(
      el("div", { class: "media-nav" }, [
        el("button", { type: "button", class: "prev", text: "‹ Previous", "aria-label": "Previous photo", onclick: step(-1) }),
        el("button", { type: "button", class: "next", text: "Next ›", "aria-label": "Next photo", onclick: step(1) }),
      ]),
    );
  }
  draw();
  return figure;
}

function renderProducts(post) {
  const list = el("ul", { class: "products", "aria-label": "Tagged products" });
  const seen = new Set();
  for (const tag of post.tags) {
    if (seen.has(tag.asin)) continue;
    seen.add(tag.asin);
    const product = tag.product;
    const title = product ? product.title : tag.asin;
    const thumb = product && pictureSrc(product.imageUrl);
    list.append(
      el("li", { class: "product", dataset: { asin: tag.asin } }, [
        thumb ? el("img", { class: "thumb", src: thumb, alt: "", width: 48, height: 48, loading: "lazy" }) : null,
        el("span", { class: "product-title", text: title }),
        el("span", { class: "price", text: product ? product.price.formatted : "" }),
        tag.verifiedPurchaser
          ? el("span", {
              class: "verified",
              title: "The author bought this product",
              text: "✓ Verified purchaser",
            })
          : null,
        el("button", {
          type: "button",
          class: "buy",
          disabled: Boolean(product && product.delisted),
          text: product && product.delisted ? "No longer sold" : "Buy now",
          "aria-label":
            product && product.delisted
              ? `${title} is no longer sold`
              : `Buy ${title} now${product ? ` for ${product.price.formatted}` : ""}`,
          onclick: (event) => buy(post, tag.asin, title, event.currentTarget),
        }),
      ]),
    );
  }
  return list;
}

function countButton(kind, label, count, pressed, onclick) {
  const button = el(
    "button",
    {
      type: "button",
      class: `action ${kind}`,
      "aria-pressed": pressed === null ? undefined : String(pressed),
      onclick,
    },
    [el("span", { class: "action-label", text: label }), " ", el("span", { class: "count", text: count })],
  );
  return button;
}

function renderActions(post) {
  const bar = el("div", { class: "actions", role: "group", "aria-label": "Post actions" });
  const signedIn = Boolean(state.viewer);
  bar.append(
    countButton("smile", "☺ Smile", post.smileCount, signedIn ? post.viewerHasSmiled : null, () =>
      toggle(post, "smile"),
    ),
    countButton("save", "★ Save", post.saveCount, signedIn ? post.viewerHasSaved : null, () =>
      toggle(post, "save"),
    ),
    countButton("share", "↗ Share", post.shareCount, null, () => share(post)),
    countButton("comments-toggle", "✎ Comments", post.commentCount, null, () => toggleComments(post)),
  );
  bar.append(el("span", { class: "bought", text: plural(post.purchaseCount, "purchase", "purchases") }));
  return bar;
}

/** Writes new counts into a post's card. */
function applyCounts(counts) {
  const entry = state.cards.get(counts.id || counts.postId);
  if (!entry) return;
  Object.assign(entry.post, counts);
  const card = entry.element;
  const set = (selector, value) => {
    const node = card.querySelector(selector);
    if (node && value !== undefined) node.textContent = value;
  };
  set(".smile .count", counts.smileCount);
  set(".save .count", counts.saveCount);
  set(".share .count", counts.shareCount);
  set(".comments-toggle .count", counts.commentCount);
  if (counts.purchaseCount !== undefined) {
    set(".bought", plural(counts.purchaseCount, "purchase", "purchases"));
  }
  if (state.viewer) {
    if (counts.viewerHasSmiled !== undefined) {
      card.querySelector(".smile").setAttribute("aria-pressed", String(counts.viewerHasSmiled));
    }
    if (counts.viewerHasSaved !== undefined) {
      card.querySelector(".save").setAttribute("aria-pressed", String(counts.viewerHasSaved));
    }
  }
}

function needSignIn(doing) {
  if (state.token) return false;
  showError(new GraphQLFailure([{ message: "signed out", extensions: { code: "UNAUTHENTICATED" } }]), doing);
  return true;
}

/** Runs `action` with `button` disabled, so a double click does not send it twice. */
async function busy(button, action) {
  if (!button || button.disabled) return;
  button.disabled = true;
  try {
    await action();
  } finally {
    button.disabled = false;
  }
}

async function toggle(post, kind) {
  const entry = state.cards.get(post.id);
  if (!entry) return;
  const button = entry.element.querySelector(kind === "smile" ? ".smile" : ".save");
  await busy(button, () => toggleNow(entry.post, kind));
}

async function toggleNow(current, kind) {
  const post = current;
  const on = kind === "smile" ? current.viewerHasSmiled : current.viewerHasSaved;
  const doing = kind === "smile" ? (on ? "take back the smile" : "smile") : on ? "unsave" : "save";
  if (needSignIn(doing)) return;
  const mutation = kind === "smile" ? (on ? "unsmile" : "smile") : on ? "unsave" : "save";
  try {
    const data = await api(MUTATIONS[mutation], { id: post.id, key: idempotencyKey() });
    const payload = Object.values(data)[0];
    if (payload.post) applyCounts(payload.post);
    clearError();
    say(
      {
        smile: "You smiled at this post.",
        unsmile: "Smile taken back.",
        save: "Saved.",
        unsave: "Removed from your saved posts.",
      }[mutation],
    );
  } catch (e) {
    showError(e, doing);
  }
}

async function share(post) {
  const entry = state.cards.get(post.id);
  if (!entry) return;
  await busy(entry.element.querySelector(".share"), () => shareNow(post));
}

async function shareNow(post) {
  if (needSignIn("share")) return;
  try {
    const data = await api(MUTATIONS.share, { id: post.id, key: idempotencyKey() });
    applyCounts(data.sharePost.post);
    const link = `${location.origin}/app#post-${post.id}`;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(link).catch(() => {});
    }
    clearError();
    say(`Shared. The link is ${link}`);
  } catch (e) {
    showError(e, "share");
  }
}

async function buy(post, asin, title, button) {
  if (needSignIn("buy")) return;
  // One key per click: a network retry of this click cannot order twice.
  const input = { postId: post.id, asin, quantity: 1, gift: false, idempotencyKey: idempotencyKey() };
  button.disabled = true;
  try {
    const data = await api(MUTATIONS.buy, { input });
    const order = data.buy.order;
    const section = byId("order");
    const text = byId("order-text");
    text.replaceChildren(
      el("span", { class: "order-line" }, [
        `${order.quantity} × ${order.product ? order.product.title : title}, `,
        el("strong", { class: "order-total", text: order.total.formatted }),
      ]),
      el("br"),
      el("span", { class: "order-id" }, ["Order ", el("code", { text: order.id })]),
      data.buy.deduplicated ? " (already placed: this was a retry)" : "",
    );
    section.dataset.orderId = order.id;
    section.hidden = false;
    clearError();
    say(`Order placed: ${order.quantity} × ${order.product ? order.product.title : title} for ${order.total.formatted}.`);
    bumpCount(post.id, "purchaseCount");
  } catch (e) {
    showError(e, `buy ${title}`);
  } finally {
    button.disabled = false;
  }
}

async function toggleComments(post) {
  const entry = state.cards.get(post.id);
  if (!entry) return;
  const section = entry.element.querySelector(".comments");
  const button = entry.element.querySelector(".comments-toggle");
  if (!section.hidden) {
    section.hidden = true;
    button.setAttribute("aria-expanded", "false");
    const stop = state.openCounts.get(post.id);
    if (stop) stop();
    state.openCounts.delete(post.id);
    return;
  }
  section.hidden = false;
  button.setAttribute("aria-expanded", "true");
  section.replaceChildren(el("p", { class: "note", text: "Loading comments…" }));
  const opening = (section.dataset.opening = String(Number(section.dataset.opening || 0) + 1));
  try {
    const data = await api(QUERIES.comments, { id: post.id });
    // Closed (or opened again) while loading, or the card is gone: that later click decides.
    if (section.hidden || section.dataset.opening !== opening || !state.cards.has(post.id)) return;
    const found = data.post;
    const list = el("ul", { class: "comment-list" });
    for (const comment of found ? found.comments.nodes : []) list.append(renderComment(comment));
    const fieldId = `comment-${post.id}`;
    const form = el("form", { class: "comment-form" }, [
      el("label", { for: fieldId, text: "Add a comment" }),
      el("textarea", { id: fieldId, rows: 2, maxlength: 1000, required: true }),
      el("button", { type: "submit", text: "Post comment" }),
    ]);
    form.addEventListener("submit", (event) => sendComment(event, post, form, list));
    section.replaceChildren(list, form);
    // While the card is open its counts follow the log.
    const previous = state.openCounts.get(post.id);
    if (previous) previous();
    state.openCounts.set(
      post.id,
      live.subscribe(
        SUBSCRIPTIONS.counts,
        { id: post.id },
        (update) => applyCounts(update.postUpdates),
        () => {},
      ),
    );
  } catch (e) {
    if (section.dataset.opening !== opening) return;
    section.replaceChildren();
    showError(e, "load the comments");
  }
}

function renderComment(comment) {
  return el("li", { class: "comment" }, [
    el("strong", { text: comment.author ? name(comment.author) : "A former member" }),
    " ",
    el("span", { text: comment.text || "" }),
  ]);
}

async function sendComment(event, post, form, list) {
  event.preventDefault();
  if (needSignIn("comment")) return;
  const field = form.querySelector("textarea");
  const text = field.value.trim();
  if (!text) return;
  // The same text sent again (a retry after a failure) keeps its key: posted once.
  if (form.dataset.keyFor !== text) {
    form.dataset.key = idempotencyKey();
    form.dataset.keyFor = text;
  }
  const key = form.dataset.key;
  await busy(form.querySelector("button[type=submit]"), async () => {
    try {
      const data = await api(MUTATIONS.comment, { id: post.id, text, key });
      delete form.dataset.keyFor;
      list.append(renderComment(data.comment.comment));
      field.value = "";
      clearError();
      say("Comment posted.");
      bumpCount(post.id, "commentCount");
    } catch (e) {
      showError(e, "post the comment");
    }
  });
}

/** One more of `field` on a card, unless the card's live counts already follow the log. */
function bumpCount(postId, field) {
  const entry = state.cards.get(postId);
  if (!entry || state.openCounts.has(postId)) return;
  applyCounts({ id: postId, [field]: Number(entry.post[field]) + 1 });
}

// ---------------------------------------------------------------- start

async function start() {
  byId("token-signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = byId("token-input").value.trim();
    if (token) signIn(token, true);
  });
  byId("demo-signin").addEventListener("submit", (event) => {
    event.preventDefault();
    const id = byId("member-select").value;
    const member = state.demo && state.demo.members.find((m) => m.id === id);
    if (member) signIn(member.token, true);
  });
  byId("signout").addEventListener("click", async () => {
    await signIn(null, true);
    // The button is gone: the keyboard goes on from where one signs in again.
    (state.demo ? byId("member-select") : byId("token-input")).focus();
  });
  byId("interest-form").addEventListener("submit", saveInterests);
  byId("more").addEventListener("click", async () => {
    await loadPage();
    // The last page hides the button: the keyboard goes on in the feed.
    if (byId("more").hidden) byId("feed").focus();
  });

  try {
    const response = await fetch("/app/demo.json", { headers: { Accept: "application/json" } });
    if (response.ok) state.demo = await response.json();
  } catch (e) {
    state.demo = null;
  }
  renderDemoMembers();
  try {
    state.interests = (await api(QUERIES.interests)).interests.nodes;
  } catch (e) {
    showError(e, "load the interests");
  }
  await signIn(sessionStorage.getItem(TOKEN_KEY), false);
  document.body.dataset.ready = "true";
}

start();
