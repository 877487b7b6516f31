/**
 * Starts the real Python server through the repository's test harness CLI
 * (`python -m tests.support.harness`) and wraps its control API: login codes from the real SMTP
 * sink and the database write lock used to make the store fail for real.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { after, before } from "node:test";

const STARTUP_TIMEOUT_MS = 60_000;

/** The repository root: the nearest ancestor holding the Python harness (works from src or build). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "tests", "support", "harness.py"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error("tests/support/harness.py not found above the test files");
    dir = parent;
  }
}

interface HarnessInfo {
  base_url: string;
  control_url: string;
  database_url: string;
  smtp_url: string;
}

export class Harness {
  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly info: HarnessInfo,
  ) {}

  get baseUrl(): string {
    return this.info.base_url;
  }

  /** Spawns the harness and waits for its one JSON line. `env` becomes `--env KEY=VALUE` flags. */
  static async start(env: Record<string, string> = {}): Promise<Harness> {
    const root = repoRoot();
    const python = process.env["TRIPORT_PYTHON"] ?? join(root, ".venv", "bin", "python");
    const args = ["-m", "tests.support.harness", "--store", "sqlite"];
    for (const [key, value] of Object.entries(env)) args.push("--env", `${key}=${value}`);
    const child = spawn(python, args, { cwd: root, stdio: ["pipe", "pipe", "pipe"] });
    // Server logs go to our stderr for debugging; they never carry tokens or codes by contract.
    child.stderr.pipe(process.stderr);
    const lines = createInterface({ input: child.stdout });
    const first = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("harness did not start in time")), STARTUP_TIMEOUT_MS);
      lines.once("line", (line) => {
        clearTimeout(timer);
        resolve(line);
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`harness exited with ${String(code)} before printing its address`));
      });
    });
    try {
      return new Harness(child, JSON.parse(await first) as HarnessInfo);
    } catch (error) {
      child.kill("SIGKILL");
      throw error;
    }
  }

  /** The next unread login code mailed to `email`, from the real SMTP sink. Never log it. */
  async code(email: string): Promise<string> {
    const url = `${this.info.control_url}/code?email=${encodeURIComponent(email)}&timeout=10`;
    const response = await fetch(url);
    if (!response.ok) throw new Error(`no login code for the address (HTTP ${response.status})`);
    return ((await response.json()) as { code: string }).code;
  }

  /** Holds the database write lock from another connection, so the server's writes fail for real. */
  async lock(): Promise<void> {
    await this.control("lock");
  }

  async unlock(): Promise<void> {
    await this.control("unlock");
  }

  private async control(action: "lock" | "unlock"): Promise<void> {
    const response = await fetch(`${this.info.control_url}/${action}`, { method: "POST" });
    if (!response.ok) throw new Error(`harness ${action} failed (HTTP ${response.status})`);
  }

  /** SIGTERM, then SIGKILL if the harness has not exited within 10 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * One harness per test file: registers node:test `before`/`after` hooks that start and stop it,
 * and returns an accessor for the running instance.
 */
export function harnessForFile(): () => Harness {
  let harness: Harness | undefined;
  before(async () => {
    harness = await Harness.start();
  });
  after(async () => {
    await harness?.stop();
  });
  return () => {
    if (harness === undefined) throw new Error("the harness is used outside the file's tests");
    return harness;
  };
}
