export { TriportConsole, DEFAULT_BASE_URL, BASE_URL_ENV, type TriportConsoleOptions } from "./client.js";
export { AuthApi, type LogoutOptions, type SignInOptions } from "./auth.js";
export { KeysApi } from "./keys.js";
export {
  WalletApi,
  WalletMessageError,
  type Eip1193Provider,
  type SolanaPublicKey,
  type SolanaWallet,
  type WalletSignInOptions,
} from "./wallet.js";
export { SessionsApi, ActivityApi, type ActivityListParams } from "./sessions.js";
export type { RequestOptions, RetryOptions } from "./transport.js";
export {
  TriportError,
  AuthenticationError,
  UnauthenticatedError,
  type SessionEndReason,
  CsrfError,
  PermissionDeniedError,
  InvalidRequestError,
  NotFoundError,
  ConflictError,
  RateLimitError,
  ServerError,
  APIConnectionError,
  NetworkError,
  LogoutFailedError,
  type TriportErrorInit,
} from "./errors.js";
export type {
  ActivityEvent,
  ActivityPage,
  ActivityType,
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
  RevokedOthers,
  RotatedKey,
  Scope,
  Session,
  SessionList,
  SignInResult,
  Timestamp,
  User,
  WalletChallenge,
  WalletVerifyParams,
} from "./types.js";
