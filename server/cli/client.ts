/** The CLI's HTTP client for the REST API. */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export class ApiClient {
  constructor(
    private readonly base: string,
    private readonly token: string | undefined,
  ) {}

  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.base.replace(/\/$/, '')}/api/v1${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new Error(`cannot reach netroot at ${this.base}: ${((e as Error).cause as Error | undefined)?.message ?? (e as Error).message}`);
    }
    const text = await res.text();
    let data: unknown = undefined;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        throw new ApiError(res.status, 'bad_response', `unexpected response from ${url} (${res.status}): ${text.slice(0, 200)}`);
      }
    }
    if (!res.ok) {
      const err = (data as { error?: { code: string; message: string; field?: string } } | undefined)?.error;
      throw new ApiError(res.status, err?.code ?? 'http_error', err?.message ?? `HTTP ${res.status}`, err?.field);
    }
    return data as T;
  }
}
