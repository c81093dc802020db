// pg-copy-streams ships no types; only COPY FROM STDIN is used here.
declare module 'pg-copy-streams' {
  import type { Writable } from 'node:stream';
  export function from(sql: string): Writable;
}
