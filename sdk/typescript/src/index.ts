export { TriportConsole, DEFAULT_BASE_URL, type TriportConsoleOptions } from "./client.js";
export { AuthApi, PasskeySignIn, type PasskeySignInOptions } from "./auth.js";
export { KeysApi } from "./keys.js";
export { PasskeysApi } from "./passkeys.js";
export {
  PasskeyCeremonyError,
  base64urlToBuffer,
  bufferToBase64url,
  creationOptionsFromJSON,
  credentialToJSON,
  requestOptionsFromJSON,
  type CredentialsSource,
} from "./webauthn.js";
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
  AddedPasskey,
  ApiKey,
  AuthenticationResponseJSON,
  CreationOptionsJSON,
  Passkey,
  PasskeyList,
  PasskeySignInResult,
  RegistrationOptionsResult,
  RegistrationResponseJSON,
  RequestOptionsJSON,
  SignInOptionsResult,
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
