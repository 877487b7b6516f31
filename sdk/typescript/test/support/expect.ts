import assert from "node:assert/strict";
import { TriportError } from "@triport/sdk";

/**
 * Awaits a call that must fail and checks the error's class, status and code; returns the error
 * for further checks. Fails the test if the call succeeds.
 */
export async function expectError<E extends TriportError>(
  promise: Promise<unknown>,
  kind: abstract new (...args: never[]) => E,
  status: number | undefined,
  code: string,
): Promise<E> {
  const error = await promise.then(
    () => assert.fail(`expected ${kind.name}, but the call succeeded`),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof kind, `expected ${kind.name}, got ${String(error)}`);
  assert.ok(error instanceof TriportError);
  assert.equal(error.status, status);
  assert.equal(error.code, code);
  assert.ok(error.message.length > 0, "the error has a message");
  return error;
}
