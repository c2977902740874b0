// Every error code the API returns (`extensions.code`), as a sentence a shopper can read.
// A test (tests/e2e/api/app.rs) checks that each code the server's source can return has
// a message here.

export const MESSAGES = {
  // Signing in and permissions.
  UNAUTHENTICATED: "Please sign in first (your token is missing, expired or not valid).",
  FORBIDDEN: "Your account is not allowed to do that.",
  NOT_PRIME: "One-click buying needs an active Prime membership.",
  MEMBER_FORGOTTEN: "This account was erased at its owner's request.",
  ALREADY_FORGOTTEN: "That account was already erased.",
  READ_ONLY: "This server is read-only right now: nothing can be changed.",
  RATE_LIMITED: "You are going a little fast. Wait a moment and try again.",

  // What was asked is malformed or unknown.
  BAD_USER_INPUT: "Something in the request is not valid.",
  VALIDATION: "Something in the request is not valid.",
  BAD_REQUEST: "The request was not understood.",
  NOT_FOUND: "That no longer exists, or never did.",
  UNKNOWN_USER: "There is no such account.",
  UNKNOWN_POST: "There is no such post.",
  UNKNOWN_PRODUCT: "There is no such product.",
  UNKNOWN_INTEREST: "There is no such interest.",
  UNKNOWN_COMMENT: "There is no such comment.",
  UNKNOWN_CONTRACT: "There is no such sponsorship contract.",
  UNKNOWN_REPORT: "There is no such report.",
  POST_REMOVED: "This post was removed.",
  NOT_TAGGED: "That product is not tagged on this post.",

  // The rules of the feed.
  ALREADY_SMILED: "You already smiled at this post.",
  NOT_SMILED: "You have not smiled at this post.",
  ALREADY_SAVED: "This post is already in your saved posts.",
  NOT_SAVED: "This post is not in your saved posts.",
  ALREADY_REPORTED: "You already reported this post.",
  CANNOT_REPORT_OWN_POST: "You cannot report your own post.",
  REPORT_ALREADY_RESOLVED: "That report was already decided.",
  ALREADY_FOLLOWING: "You already follow this creator.",
  NOT_FOLLOWING: "You do not follow this creator.",
  CANNOT_FOLLOW_SELF: "You cannot follow yourself.",
  CANNOT_FOLLOW_BRAND: "Brands cannot be followed; follow their creators.",
  ALREADY_HIDDEN: "You already said you are not interested in that.",
  NOT_HIDDEN: "That was not hidden from your feed.",
  TOO_MANY_HIDDEN: "You have hidden as many things as you can; undo one first.",
  TOO_MANY_INTERESTS: "You picked more interests than allowed.",
  NOT_AUTHOR: "Only the post's author can do that.",
  BRANDS_CANNOT_POST: "Brands cannot publish posts; their enthusiasts do.",
  HANDLE_TAKEN: "That handle is taken.",
  ALREADY_REGISTERED: "That account is already registered.",
  ALREADY_HAS_ROLE: "The account already has that role.",
  ROLE_NOT_HELD: "The account does not have that role.",
  INTEREST_EXISTS: "That interest already exists.",
  PRODUCT_EXISTS: "That product is already in the catalog.",
  POST_EXISTS: "That post already exists.",
  COMMENT_EXISTS: "That comment already exists.",
  CONTRACT_EXISTS: "That sponsorship contract already exists.",
  CONTRACT_NOT_ACTIVE: "That sponsorship contract is not in force.",
  NOT_PARTY_TO_CONTRACT: "You are not a party to that sponsorship contract.",
  REBUILD_RUNNING: "That view is being rebuilt already.",

  // Retries and races.
  IDEMPOTENCY_CONFLICT: "That retry does not match what was first sent; start over.",
  EVENT_ID_CONFLICT: "That retry does not match what was first sent; start over.",
  CONFLICT: "Someone changed this at the same moment. Please try again.",
  WRONG_EXPECTED_VERSION: "Someone changed this at the same moment. Please try again.",

  // The request itself.
  GRAPHQL_PARSE_FAILED: "The page sent a request the server could not read.",
  GRAPHQL_VALIDATION_FAILED: "The page asked for something the API does not offer.",
  QUERY_TOO_COMPLEX: "That request asks for too much at once.",
  QUERY_TOO_DEEP: "That request is nested too deeply.",
  PAYLOAD_TOO_LARGE: "That is too large to send.",
  RECORD_TOO_LARGE: "That is too large to store.",
  METHOD_NOT_ALLOWED: "That request must be sent another way (POST).",
  NOT_ACCEPTABLE: "The server cannot answer in a format the page reads.",
  WS_PROTOCOL: "The live connection broke its protocol; it will reconnect.",
  TOO_MANY_SOCKETS: "You have too many live connections open; close a tab.",
  TOO_MANY_SUBSCRIPTIONS: "Too many live updates are open at once.",
  PAST_HEAD: "That position is past the end of the log.",

  // Proofs (the auditors' queries).
  PAST_TREE_SIZE: "That position is past the tree's size.",
  SIZES_REVERSED: "The first tree size must not be larger than the second.",
  EMPTY_TREE: "There is no proof for an empty log.",
  BAD_PROOF_LENGTH: "The proof has the wrong length.",
  MISSING_NODE: "A node of the proof is missing.",
  ROOT_MISMATCH: "The proof does not lead to the expected root.",

  // The server is in trouble: not your fault.
  TIMEOUT: "The server took too long. Please try again.",
  OVERLOADED: "The server is busy. Please try again in a moment.",
  LOG_UNAVAILABLE: "The server cannot reach its log right now. Please try again.",
  LOG_CLOSED: "The server is shutting down. Please try again in a moment.",
  LOG_LOCKED: "The server's storage is in use by another process.",
  LOG_FAILED: "The server stopped writing after a storage failure.",
  STORAGE_FULL: "The server's storage is full.",
  STORE: "The server could not read its storage.",
  CORRUPT: "The server found damaged data and stopped.",
  CORRUPT_RECORD: "The server found a damaged record.",
  WRONG_EVENT_TYPE: "The server found a record of an unexpected type.",
  UNSUPPORTED_SCHEMA_VERSION: "The server found a record too new for it.",
  KEY_STORE: "The server could not open its member keys.",
  INTERNAL: "Something went wrong on the server.",
  PARQUET: "The export could not be written.",
  BAD_LINE: "The export could not be written.",

  // The page's own.
  NETWORK: "The server cannot be reached. Check your connection.",
  BAD_RESPONSE: "The server answered with something the page cannot read.",
  UNKNOWN: "Something went wrong.",
};

/** The readable message of `code` (with the code itself, for a support request). */
export function describe(code) {
  return MESSAGES[code] || MESSAGES.UNKNOWN;
}
