// The Better Auth peer's one configuration, shared by its server and its seeder.
//
// Defaults everywhere except what a fair comparison needs: sessions in SQLite through
// better-sqlite3 (WAL, synchronous FULL: every commit durable, as ours), the cookie cache off
// (every /get-session reads the database, as ours does), and the rate limiter off (every wrk
// connection comes from 127.0.0.1; ours runs with its per-address limits off too).

import Database from "better-sqlite3";
import { betterAuth } from "better-auth";

export function openDatabase(path) {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  return db;
}

export function authOptions(database, baseURL) {
  const secret = process.env.BETTER_AUTH_SECRET;
  if (!secret) throw new Error("BETTER_AUTH_SECRET is not set");
  return {
    database,
    baseURL,
    secret,
    session: { cookieCache: { enabled: false } },
    rateLimit: { enabled: false },
    telemetry: { enabled: false },
  };
}

export function peerAuth(database, baseURL) {
  return betterAuth(authOptions(database, baseURL));
}
