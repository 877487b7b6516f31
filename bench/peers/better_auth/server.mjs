// Better Auth on node:http with its own toNodeHandler: GET /api/auth/get-session and
// POST /api/auth/sign-out are its stock endpoints. PEER_DATABASE names the SQLite file, PORT the
// port on 127.0.0.1, BETTER_AUTH_SECRET the secret the seeder signed the session cookies with.

import { createServer } from "node:http";
import { toNodeHandler } from "better-auth/node";
import { openDatabase, peerAuth } from "./auth.mjs";

const port = Number(process.env.PORT);
const auth = peerAuth(openDatabase(process.env.PEER_DATABASE), `http://127.0.0.1:${port}`);
createServer(toNodeHandler(auth)).listen(port, "127.0.0.1");
