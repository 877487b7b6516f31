/**
 * A consumer of the published package, type-checked with `tsc --noEmit` against the packed
 * `.d.ts` files. The `@ts-expect-error` lines prove the types are strict, not `any`.
 */
import {
  AuthenticationError,
  ConflictError,
  CsrfError,
  InvalidRequestError,
  APIConnectionError,
  LogoutFailedError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  ServerError,
  TriportConsole,
  TriportError,
  type ApiKey,
  type CreatedKey,
  type KeyList,
  type Me,
  type RequestOptions,
  type RetryOptions,
  type RotatedKey,
  type User,
  type WalletChallenge,
} from "@triport/sdk";

const retry: RetryOptions = { logoutDeadlineMs: 5_000, maxRetries: 1 };
const console = new TriportConsole({ baseUrl: "https://api.triport.io", retry });

export async function tour(): Promise<string> {
  const { request_id } = await console.auth.emailStart("ada@example.com");
  const user: User = (await console.auth.emailVerify(request_id, "123456")).user;
  const options: RequestOptions = { timeoutMs: 2_000, signal: AbortSignal.timeout(5_000) };
  const me: Me = await console.auth.me(options);
  const secret: string | undefined = me.default_key.raw;
  const challenge: WalletChallenge = await console.auth.walletChallenge("0xabc", "evm");
  await console.auth.walletVerify({ nonce: challenge.nonce, address: "0xabc", chain: "evm", signature: "0x00" });
  const list: KeyList = await console.keys.list();
  const first: ApiKey | undefined = list.keys[0];
  const created: CreatedKey = await console.keys.create({ name: "ci", scopes: ["eth:rpc"], rate_limit: 10 });
  const rotated: RotatedKey = await console.keys.rotate(created.key.id);
  const revoked: { ok: true } = await console.keys.revoke(rotated.new.id);
  const url: string = console.auth.googleStartUrl();
  await console.auth.logout({ deadlineMs: 30_000, timeoutMs: 1_000 });
  return [user.email, secret, first?.key_prefix, rotated.old_id, revoked.ok, url].join(" ");
}

export function describe(error: unknown): string {
  if (error instanceof LogoutFailedError) return `logout pending after ${error.attempts} attempts`;
  if (error instanceof RateLimitError) return `wait ${error.retryAfter ?? 1} s`;
  const kinds = [AuthenticationError, CsrfError, PermissionDeniedError, InvalidRequestError, NotFoundError, ConflictError, ServerError];
  if (error instanceof APIConnectionError || kinds.some((kind) => error instanceof kind)) return "known";
  if (error instanceof TriportError) {
    return `${error.status ?? "no response"} ${error.code} ${error.requestId ?? ""} ${error.headers.get("retry-after") ?? ""}`;
  }
  return "unknown";
}

export async function misuse(): Promise<void> {
  // @ts-expect-error the chain is one of "evm" | "solana"
  await console.auth.walletChallenge("0xabc", "bitcoin");
  // @ts-expect-error scopes are the public aliases
  await console.keys.create({ name: "ci", scopes: ["everything"] });
  // @ts-expect-error the result is typed, not any
  const wrong: number = (await console.auth.me()).user.email;
  // @ts-expect-error unknown options are rejected
  new TriportConsole({ baseURL: "https://api.triport.io" });
  // @ts-expect-error the per-call timeout is in milliseconds, named timeoutMs
  await console.auth.me({ timeout: 5 });
  void wrong;
}
