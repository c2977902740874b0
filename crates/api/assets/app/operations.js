// Every GraphQL operation the storefront page sends, and nothing else: each is checked
// against schema.graphql by tests/js/operations.mjs (run by tests/e2e/api/app.rs).

const POST_FIELDS = `
  id caption sponsored publishedAt
  smileCount saveCount shareCount commentCount purchaseCount
  viewerHasSmiled viewerHasSaved
  interests
  author { id handle displayName }
  disclosure { label brandName contractId }
  media { kind url width height alt }
  tags { asin mediaIndex x y verifiedPurchaser
         product { asin title imageUrl delisted price { formatted } } }`;

export const QUERIES = {
  interests: `query Interests { interests(first: 50) { nodes { slug name } } }`,
  viewer: `query Viewer { viewer { id handle displayName kind prime roles interests } }`,
  feed: `query Feed($interest: String!, $first: Int, $after: String) {
    feed(interest: $interest, first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges { cursor node { ${POST_FIELDS} } } } }`,
  home: `query Home($first: Int, $after: String) {
    homeFeed(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges { cursor because node { ${POST_FIELDS} } } } }`,
  forYou: `query ForYou($first: Int, $after: String) {
    forYou(first: $first, after: $after) {
      mode
      pageInfo { hasNextPage endCursor }
      edges { cursor reasons { text } node { ${POST_FIELDS} } } } }`,
  comments: `query Comments($id: ID!) {
    post(id: $id) { id commentCount
      comments(first: 20) { nodes { id text author { id handle displayName } } } } }`,
};

const COUNTS = `id smileCount saveCount shareCount commentCount purchaseCount viewerHasSmiled viewerHasSaved`;

export const MUTATIONS = {
  smile: `mutation Smile($id: ID!, $key: String) { smile(postId: $id, idempotencyKey: $key) { post { ${COUNTS} } } }`,
  unsmile: `mutation Unsmile($id: ID!, $key: String) { unsmile(postId: $id, idempotencyKey: $key) { post { ${COUNTS} } } }`,
  save: `mutation Save($id: ID!, $key: String) { savePost(postId: $id, idempotencyKey: $key) { post { ${COUNTS} } } }`,
  unsave: `mutation Unsave($id: ID!, $key: String) { unsavePost(postId: $id, idempotencyKey: $key) { post { ${COUNTS} } } }`,
  share: `mutation Share($id: ID!, $key: String) { sharePost(postId: $id, channel: LINK, idempotencyKey: $key) { post { ${COUNTS} } } }`,
  comment: `mutation Comment($id: ID!, $text: String!, $key: String) {
    comment(postId: $id, text: $text, idempotencyKey: $key) { comment { id text author { id handle displayName } } } }`,
  buy: `mutation Buy($input: BuyInput!) {
    buy(input: $input) { deduplicated position
      order { id quantity gift total { formatted } product { title } post { id } } } }`,
  chooseInterests: `mutation ChooseInterests($interests: [String!]!, $key: String) {
    chooseInterests(interests: $interests, idempotencyKey: $key) { user { id interests } } }`,
};

export const SUBSCRIPTIONS = {
  feed: `subscription FeedUpdates($interest: String!, $after: String) {
    feedUpdates(interest: $interest, after: $after) { ${POST_FIELDS} } }`,
  home: `subscription HomeUpdates { homeFeedUpdates { ${POST_FIELDS} } }`,
  forYou: `subscription ForYouUpdates { forYouUpdates { reasons { text } node { ${POST_FIELDS} } } }`,
  counts: `subscription Counts($id: ID!) { postUpdates(id: $id) {
    postId smileCount saveCount shareCount commentCount purchaseCount } }`,
};
