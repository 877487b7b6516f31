export { TriportConsole, DEFAULT_BASE_URL, type TriportConsoleOptions } from "./client.js";
export { AuthApi } from "./auth.js";
export { KeysApi } from "./keys.js";
export {
  WalletApi,
  WalletMessageError,
  type Eip1193Provider,
  type SolanaPublicKey,
  type SolanaWallet,
  type WalletSignInOptions,
} from "./wallet.js";
export type { RetryOptions } from "./transport.js";
export {
  TriportError,
  AuthenticationError,
  CsrfError,
  InvalidRequestError,
  NotFoundError,
  ConflictError,
  RateLimitError,
  ServerError,
  NetworkError,
  LogoutFailedError,
  type TriportErrorInit,
} from "./errors.js";
export type {
  ApiKey,
  Chain,
  CreateKeyParams,
  CreatedKey,
  DefaultKey,
  EmailStartResult,
  KeyList,
  Me,
  OkResult,
  Provider,
  RotatedKey,
  Scope,
  SignInResult,
  Timestamp,
  User,
  WalletChallenge,
  WalletVerifyParams,
} from "./types.js";
