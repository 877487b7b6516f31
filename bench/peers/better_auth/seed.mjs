// Seed the Better Auth peer: its schema from its own migrations, then users and live sessions
// written straight into its tables, as its Kysely adapter writes them on SQLite (ids and tokens
// from its own generateId, dates as ISO text, booleans as 0/1).
//
//   node seed.mjs --sessions N --cookies FILE
//
// PEER_DATABASE names the SQLite file, BETTER_AUTH_SECRET the secret. FILE gets one session
// cookie value per line, signed by better-call's own serializeSignedCookie with the secret and
// the cookie name that Better Auth's context resolves, i.e. byte for byte the value its sign-in
// would have set. A copy of the seeded sessions is kept in bench_session_backup, so the runner
// can put back what sign-out deletes.

import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { generateId } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { serializeSignedCookie } from "better-call";
import { authOptions, openDatabase, peerAuth } from "./auth.mjs";

const { values } = parseArgs({
  options: { sessions: { type: "string" }, cookies: { type: "string" } },
});
const count = Number(values.sessions);
const db = openDatabase(process.env.PEER_DATABASE);
const baseURL = "http://127.0.0.1";

const { runMigrations } = await getMigrations(authOptions(db, baseURL));
await runMigrations();

const context = await peerAuth(db, baseURL).$context;
const cookieName = context.authCookies.sessionToken.name;
const now = new Date();
const created = now.toISOString();
// A fresh session: its expiry is a whole session lifetime away, so get-session does not take
// the refresh path (that starts once updateAge has passed).
const expires = new Date(now.getTime() + context.sessionConfig.expiresIn * 1000).toISOString();

const users = [];
const sessions = [];
for (let i = 0; i < count; i++) {
  const userId = generateId();
  users.push([userId, `Bench User ${i}`, `user${i}@peer.example`, created]);
  sessions.push([generateId(), expires, generateId(32), created, userId]);
}

db.pragma("synchronous = OFF"); // seeding only; the server opens its own connection with FULL
const insertUser = db.prepare(
  'INSERT INTO "user" (id, name, email, emailVerified, image, createdAt, updatedAt)' +
    " VALUES (?, ?, ?, 0, NULL, ?, ?)",
);
const insertSession = db.prepare(
  'INSERT INTO "session" (id, expiresAt, token, createdAt, updatedAt, ipAddress, userAgent,' +
    " userId) VALUES (?, ?, ?, ?, ?, '', '', ?)",
);
db.transaction(() => {
  for (const [id, name, email, at] of users) insertUser.run(id, name, email, at, at);
  for (const [id, expiresAt, token, at, userId] of sessions) {
    insertSession.run(id, expiresAt, token, at, at, userId);
  }
  db.exec('CREATE TABLE bench_session_backup AS SELECT * FROM "session"');
})();
db.pragma("wal_checkpoint(TRUNCATE)");
db.close();

const prefix = `${cookieName}=`;
const cookies = [];
for (const [, , token] of sessions) {
  const header = await serializeSignedCookie(cookieName, token, context.secret);
  cookies.push(header.slice(prefix.length));
}
writeFileSync(values.cookies, `${cookies.join("\n")}\n`);
