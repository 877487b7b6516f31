/**
 * The package as users get it: `npm pack` (of the `dist` that `npm test` just built), install the
 * tarball into two empty projects, a CommonJS one (what `npm init -y` makes) and an ESM one, load
 * it there with `require` and with `import` against the real server, and type-check a consumer
 * file against the `.d.ts` files each of them resolves.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, test } from "node:test";
import { harnessForFile } from "./support/harness.js";

const run = promisify(execFile);
const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const tsc = join(packageDir, "node_modules", "typescript", "bin", "tsc");

const harness = harnessForFile();
let root: string;
let tarball: string;

interface PackResult {
  filename: string;
  files: { path: string }[];
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), "triport-sdk-consumer-"));
  const packed = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", root], { cwd: packageDir });
  const [info] = JSON.parse(packed.stdout) as PackResult[];
  assert.ok(info);
  const files = info.files.map((file) => file.path);
  for (const needed of [
    "package.json",
    "README.md",
    "dist/esm/index.js",
    "dist/esm/index.d.ts",
    "dist/cjs/index.js",
    "dist/cjs/index.d.ts",
    "dist/cjs/package.json",
  ]) {
    assert.ok(files.includes(needed), `${needed} is in the tarball`);
  }
  assert.ok(!files.some((file) => file.startsWith("test/") || file.startsWith("build/")), "no tests shipped");
  tarball = join(root, info.filename);
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** `npm init -y` in a new directory (CommonJS, npm's default), optionally switched to ESM, plus the tarball. */
async function freshProject(name: string, type: "commonjs" | "module"): Promise<string> {
  const project = join(root, name);
  await mkdir(project);
  await run("npm", ["init", "-y"], { cwd: project });
  const manifestPath = join(project, "package.json");
  const manifest = JSON.parse(await readFile(manifestPath, "utf8")) as Record<string, unknown>;
  assert.notEqual(manifest["type"], "module", "npm init makes a CommonJS project");
  if (type === "module") await writeFile(manifestPath, JSON.stringify({ ...manifest, type: "module" }));
  const nodeTypes = JSON.parse(
    await readFile(join(packageDir, "node_modules", "@types", "node", "package.json"), "utf8"),
  ) as { version: string };
  await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball, `@types/node@${nodeTypes.version}`], {
    cwd: project,
  });
  return project;
}

/** Type-checks test/consumer/consumer.ts in `project` with the given lib/types. */
async function typeCheck(project: string, name: string, env: { lib: string[]; types: string[] }): Promise<void> {
  await copyFile(join(packageDir, "test", "consumer", "consumer.ts"), join(project, "consumer.ts"));
  const compilerOptions = {
    ...env,
    noEmit: true,
    strict: true,
    skipLibCheck: false,
    target: "ES2022",
    module: "NodeNext",
    moduleResolution: "NodeNext",
  };
  await writeFile(join(project, `tsconfig.${name}.json`), JSON.stringify({ compilerOptions, files: ["consumer.ts"] }));
  await run(process.execPath, [tsc, "-p", `tsconfig.${name}.json`], { cwd: project }).catch(
    (error: { stdout?: string }) => assert.fail(`the ${name} consumer does not compile:\n${error.stdout ?? ""}`),
  );
}

/** One real call: /me without a session must be an AuthenticationError from the server. */
const CALL = [
  "const client = new TriportConsole({ baseUrl: process.argv[1] });",
  "client.auth.me().then(",
  "  () => console.log('signed in?'),",
  "  (error) => console.log(error instanceof AuthenticationError ? `${error.status} ${error.code}` : String(error)),",
  ");",
].join("\n");

test("a CommonJS project (npm init default) loads the package with require()", async () => {
  const project = await freshProject("cjs", "commonjs");
  const script = `const { TriportConsole, AuthenticationError } = require("@triport/sdk");\n${CALL}`;
  const required = await run(process.execPath, ["-e", script, harness().baseUrl], { cwd: project });
  assert.equal(required.stdout.trim(), "401 unauthenticated");
  const resolved = await run(process.execPath, ["-p", 'require.resolve("@triport/sdk")'], { cwd: project });
  assert.match(resolved.stdout.trim(), /dist[\\/]cjs[\\/]index\.js$/);
  // TypeScript in a CommonJS project resolves the `require` condition's types.
  await typeCheck(project, "node", { lib: ["ES2022"], types: ["node"] });
});

test("an ESM project loads the package with import", async () => {
  const project = await freshProject("esm", "module");
  const script = `import { TriportConsole, AuthenticationError } from "@triport/sdk";\n${CALL}`;
  const imported = await run(process.execPath, ["--input-type=module", "-e", script, harness().baseUrl], {
    cwd: project,
  });
  assert.equal(imported.stdout.trim(), "401 unauthenticated");
  const resolved = await run(
    process.execPath,
    ["--input-type=module", "-e", 'console.log(import.meta.resolve("@triport/sdk"))'],
    { cwd: project },
  );
  assert.match(resolved.stdout.trim(), /dist\/esm\/index\.js$/);
  // A Node.js consumer (Node's globals, no DOM) and a browser consumer (DOM, no Node types).
  await typeCheck(project, "node", { lib: ["ES2022"], types: ["node"] });
  await typeCheck(project, "browser", { lib: ["ES2022", "DOM"], types: [] });
});
