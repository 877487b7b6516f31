/**
 * Serves a blank console page on its own origin with the built SDK as native ES modules, the
 * way a browser without a bundler loads it: an import map for the bare names, and the
 * extension-less relative imports of the dependencies resolved to `.js` as dev servers do.
 */
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, normalize, sep } from "node:path";

const IMPORTS = {
  "@triport/sdk": "/sdk/index.js",
  "tough-cookie": "/deps/tough-cookie/dist/index.js",
  tldts: "/deps/tldts/dist/es6/index.js",
  "tldts-core": "/deps/tldts-core/dist/es6/index.js",
};

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>console</title>
<script type="importmap">${JSON.stringify({ imports: IMPORTS })}</script>
</head><body><p>console page</p></body></html>`;

/** Reads `path` under `root` (refusing `..` escapes), trying `path.js` too. */
async function readUnder(root: string, path: string): Promise<Buffer | undefined> {
  const file = normalize(join(root, decodeURIComponent(path)));
  if (!file.startsWith(root + sep)) return undefined;
  for (const candidate of [file, `${file}.js`]) {
    try {
      return await readFile(candidate);
    } catch {
      // not this candidate
    }
  }
  return undefined;
}

export class StaticSite {
  private constructor(private readonly server: Server) {}

  /** `dist` is the SDK's ES module build (dist/esm), `nodeModules` where its dependencies are installed. */
  static async start(dist: string, nodeModules: string): Promise<StaticSite> {
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? "/", "http://localhost").pathname;
      if (path === "/") {
        res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
        res.end(PAGE);
        return;
      }
      const [root, rest] = path.startsWith("/sdk/")
        ? [dist, path.slice(5)]
        : path.startsWith("/deps/")
          ? [nodeModules, path.slice(6)]
          : [undefined, ""];
      void (root === undefined ? Promise.resolve(undefined) : readUnder(root, rest)).then((body) => {
        if (body === undefined) {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, { "Content-Type": "text/javascript; charset=utf-8" });
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return new StaticSite(server);
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
