/** Where the server's REST API is, seen from the console's own server process. */
export function apiUrl(env: Record<string, string | undefined> = process.env): string {
  return (env.TIDEWATCH_API_URL?.trim() || 'http://127.0.0.1:8080').replace(/\/+$/, '');
}
