/**
 * The package as users get it: `npm pack` (of the `dist` that `npm test` just built), install
 * the tarball into an empty project, import it at runtime against the real server, and
 * type-check a consumer file against its `.d.ts`.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
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
let project: string;
before(async () => {
  project = await mkdtemp(join(tmpdir(), "triport-sdk-consumer-"));
});
after(async () => {
  await rm(project, { recursive: true, force: true });
});

interface PackResult {
  filename: string;
  files: { path: string }[];
}

test("npm pack makes a tarball that installs, imports and type-checks in a fresh project", async () => {
  const packed = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", project], { cwd: packageDir });
  const [info] = JSON.parse(packed.stdout) as PackResult[];
  assert.ok(info);
  const files = info.files.map((file) => file.path);
  for (const needed of ["package.json", "README.md", "dist/index.js", "dist/index.d.ts"]) {
    assert.ok(files.includes(needed), `${needed} is in the tarball`);
  }
  assert.ok(!files.some((file) => file.startsWith("test/") || file.startsWith("build/")), "no tests shipped");

  const nodeTypes = JSON.parse(
    await readFile(join(packageDir, "node_modules", "@types", "node", "package.json"), "utf8"),
  ) as { version: string };
  await writeFile(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  await run(
    "npm",
    ["install", "--prefer-offline", "--no-audit", "--no-fund", join(project, info.filename), `@types/node@${nodeTypes.version}`],
    { cwd: project },
  );

  const script = [
    'import { TriportConsole, AuthenticationError } from "@triport/sdk";',
    "const client = new TriportConsole({ baseUrl: process.argv[1] });",
    "try { await client.auth.me(); console.log('signed in?'); }",
    "catch (error) { console.log(error instanceof AuthenticationError ? error.code : String(error)); }",
  ].join("\n");
  const imported = await run(process.execPath, ["--input-type=module", "-e", script, harness().baseUrl], {
    cwd: project,
  });
  assert.equal(imported.stdout.trim(), "unauthenticated");

  await copyFile(join(packageDir, "test", "consumer", "consumer.ts"), join(project, "consumer.ts"));
  // A Node.js consumer (Node's globals, no DOM) and a browser consumer (DOM, no Node types).
  const environments = { node: { lib: ["ES2022"], types: ["node"] }, browser: { lib: ["ES2022", "DOM"], types: [] } };
  for (const [name, env] of Object.entries(environments)) {
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
});
