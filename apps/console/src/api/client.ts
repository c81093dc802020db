import createClient from 'openapi-fetch';
import type { components, paths } from './generated/schema';

export type Schemas = components['schemas'];
export type ApiPaths = paths;

/** In the browser: same origin, through the console's /api proxy (the cookie is first-party). */
export function browserApi() {
  return createClient<paths>({ baseUrl: '' });
}

export function serverSideClient(baseUrl: string, headers: Record<string, string>) {
  return createClient<paths>({ baseUrl, headers, cache: 'no-store' });
}

export class ApiUnreachableError extends Error {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(`the Tidewatch server at ${url} is unreachable: ${(cause as Error)?.message ?? cause}`);
    this.name = 'ApiUnreachableError';
  }
}

export class ApiStatusError extends Error {
  constructor(
    readonly status: number,
    readonly path: string,
    readonly body: unknown,
  ) {
    super(`${path} answered ${status}`);
    this.name = 'ApiStatusError';
  }
}

/**
 * The server's OpenAPI document types `limit` and `offset` as an object: its query DTOs declare
 * `limit = 50` without a type annotation, so the decorator metadata says Object. The server
 * validates them as integers. Remove this once the server's spec says integer.
 */
export function specInteger(n: number): Record<string, never> {
  return n as unknown as Record<string, never>;
}

export function isApiError(err: unknown): err is ApiUnreachableError | ApiStatusError {
  return err instanceof ApiUnreachableError || err instanceof ApiStatusError;
}
