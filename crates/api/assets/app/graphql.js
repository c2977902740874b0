// The page's only way to the server: GraphQL over HTTP (POST /graphql) and over
// WebSocket (the graphql-transport-ws protocol), both on this origin. Nothing else.

/** A GraphQL answer with errors: every error carries `extensions.code`. */
export class GraphQLFailure extends Error {
  constructor(errors, data) {
    super(errors.map((e) => e.message).join("; "));
    this.errors = errors;
    this.data = data;
    this.codes = errors.map((e) => (e.extensions && e.extensions.code) || "UNKNOWN");
  }
}

/** A fresh key for a mutation the member asked for once (a retry reuses it). */
export function idempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Runs one operation; resolves its `data`, rejects with a GraphQLFailure when the answer
 * carries errors (or the server answered with an HTTP error of its own).
 */
export async function request(query, variables, token) {
  const headers = {
    "Content-Type": "application/json",
    Accept: "application/graphql-response+json, application/json",
  };
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
    });
  } catch (e) {
    throw new GraphQLFailure([{ message: String(e), extensions: { code: "NETWORK" } }]);
  }
  let body;
  try {
    body = await response.json();
  } catch (e) {
    throw new GraphQLFailure([
      { message: `HTTP ${response.status}`, extensions: { code: "BAD_RESPONSE" } },
    ]);
  }
  if (body.errors && body.errors.length) throw new GraphQLFailure(body.errors, body.data);
  return body.data;
}

/**
 * One WebSocket carrying every live subscription of the page, by the graphql-transport-ws
 * protocol: `connection_init` with the token, `subscribe`/`next`/`complete`, `ping`/`pong`.
 * It reconnects after a drop (backing off up to 10 s) and subscribes again, but not after
 * the server refused the token.
 */
export class LiveConnection {
  constructor(onState) {
    this.token = null;
    this.socket = null;
    this.subscriptions = new Map(); // id -> { query, variables, onNext, onError }
    this.nextId = 1;
    this.acked = false;
    this.retries = 0;
    this.onState = onState || (() => {});
  }

  /** Reconnects as `token` (null: signed out), keeping the subscriptions. */
  signIn(token) {
    this.token = token;
    this.reconnect();
  }

  reconnect() {
    if (this.socket) this.socket.close(1000, "reconnecting");
    this.acked = false;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}/graphql`, "graphql-transport-ws");
    this.socket = socket;
    this.onState("connecting");
    socket.addEventListener("open", () => {
      const payload = this.token ? { Authorization: `Bearer ${this.token}` } : {};
      socket.send(JSON.stringify({ type: "connection_init", payload }));
    });
    socket.addEventListener("message", (event) => this.receive(socket, event.data));
    socket.addEventListener("close", (event) => {
      if (socket !== this.socket) return;
      this.acked = false;
      this.onState("offline", event.reason || `closed (${event.code})`);
      // Refused for who we are (4401 unauthorized, 4403 forbidden): trying again with the
      // same token cannot help; signing in again reconnects.
      if (event.code === 4401 || event.code === 4403) return;
      const wait = Math.min(10000, 500 * 2 ** this.retries++);
      setTimeout(() => {
        if (socket === this.socket) this.reconnect();
      }, wait);
    });
  }

  receive(socket, text) {
    if (socket !== this.socket) return;
    let message;
    try {
      message = JSON.parse(text);
    } catch (e) {
      return;
    }
    switch (message.type) {
      case "connection_ack":
        this.acked = true;
        this.retries = 0;
        this.onState("live");
        for (const [id, sub] of this.subscriptions) this.send(id, sub);
        break;
      case "ping":
        socket.send(JSON.stringify({ type: "pong" }));
        break;
      case "next": {
        const sub = this.subscriptions.get(message.id);
        if (!sub) break;
        const { data, errors } = message.payload || {};
        if (errors && errors.length) sub.onError(new GraphQLFailure(errors, data));
        else sub.onNext(data);
        break;
      }
      case "error": {
        const sub = this.subscriptions.get(message.id);
        if (sub) {
          this.subscriptions.delete(message.id);
          sub.onError(new GraphQLFailure(message.payload || []));
        }
        break;
      }
      case "complete":
        this.subscriptions.delete(message.id);
        break;
      default:
        break;
    }
  }

  send(id, sub) {
    if (!this.acked) return;
    this.socket.send(
      JSON.stringify({
        id,
        type: "subscribe",
        payload: { query: sub.query, variables: sub.variables },
      }),
    );
  }

  /** Subscribes; returns the function that ends the subscription. */
  subscribe(query, variables, onNext, onError) {
    const id = String(this.nextId++);
    const sub = { query, variables, onNext, onError };
    this.subscriptions.set(id, sub);
    this.send(id, sub);
    return () => {
      if (!this.subscriptions.delete(id)) return;
      if (this.acked) this.socket.send(JSON.stringify({ id, type: "complete" }));
    };
  }
}
