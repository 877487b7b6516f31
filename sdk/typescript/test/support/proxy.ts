/**
 * A small fault-injecting reverse proxy in front of the real server (in the spirit of toxiproxy):
 * it forwards everything unless a fault is queued for the path, so the SDK meets real connection
 * resets, hangs and gateway pages on top of real server answers.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type Fault =
  | { kind: "reset" }
  | { kind: "hang" }
  | { kind: "respond"; status: number; headers?: Record<string, string>; body: string };

export class FaultProxy {
  private readonly faults = new Map<string, Fault[]>();
  private readonly sockets = new Set<Socket>();
  /** "METHOD path" of every request that reached the proxy. */
  readonly seen: string[] = [];

  private constructor(
    private readonly server: Server,
    private readonly upstream: URL,
  ) {
    server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
  }

  static async start(upstream: string): Promise<FaultProxy> {
    const server = createServer();
    const proxy = new FaultProxy(server, new URL(upstream));
    server.on("request", (req, res) => proxy.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Queues faults for the next requests to `path`, in order. */
  inject(path: string, ...faults: Fault[]): void {
    this.faults.set(path, [...(this.faults.get(path) ?? []), ...faults]);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? "/", this.upstream).pathname;
    this.seen.push(`${req.method ?? "GET"} ${path}`);
    const fault = this.faults.get(path)?.shift();
    if (fault?.kind === "reset") {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === "hang") return;
    if (fault?.kind === "respond") {
      res.writeHead(fault.status, fault.headers ?? {});
      res.end(fault.body);
      return;
    }
    const upstreamReq = request(
      new URL(req.url ?? "/", this.upstream),
      { method: req.method, headers: { ...req.headers, host: this.upstream.host } },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    upstreamReq.on("error", () => req.socket.destroy());
    req.pipe(upstreamReq);
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
