/**
 * API tokens: random secrets shown once, stored only as SHA-256 hashes (a 256-bit random secret
 * needs no slow hash). Roles: admin (read and change) and readonly (read only).
 */
import { createHash, randomBytes } from 'node:crypto';
import { AppError, ErrorCode, conflict, notFound } from '../errors.js';
import { UniqueViolation, type Store, type TokenRecord, type TokenRole } from '../store/types.js';

export const TOKEN_PREFIX = 'nrt_';

export const hashToken = (secret: string) => createHash('sha256').update(secret).digest('hex');

export class TokenService {
  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  /** Returns the record and the secret, which is never retrievable again. */
  async create(name: string, role: TokenRole): Promise<{ token: TokenRecord; secret: string }> {
    const secret = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    try {
      const token = await this.store.tokens.create(name, role, hashToken(secret));
      return { token, secret };
    } catch (e) {
      if (e instanceof UniqueViolation) throw conflict('name', `name: a token called ${JSON.stringify(name)} exists already`);
      throw e;
    }
  }

  /** The token a bearer secret belongs to, or null (unknown or revoked). */
  async verify(secret: string): Promise<TokenRecord | null> {
    if (!secret.startsWith(TOKEN_PREFIX) || secret.length > 200) return null;
    const t = await this.store.tokens.findByHash(hashToken(secret));
    if (!t || t.revokedAt !== null) return null;
    const at = this.now();
    // Last-used is informative; write it at most once a minute per token.
    if (t.lastUsedAt === null || at - t.lastUsedAt > 60_000) await this.store.tokens.touch(t.id, at);
    return t;
  }

  async revoke(key: string): Promise<TokenRecord> {
    const t = /^\d+$/.test(key) ? await this.store.tokens.get(Number(key)) : await this.store.tokens.getByName(key);
    if (!t) throw notFound(`token ${JSON.stringify(key)}`);
    if (t.revokedAt !== null) throw new AppError(ErrorCode.Conflict, `token ${t.name} is already revoked`);
    await this.store.tokens.revoke(t.id, this.now());
    return (await this.store.tokens.get(t.id))!;
  }

  list(): Promise<TokenRecord[]> {
    return this.store.tokens.list();
  }

  /** First start: no token at all yet -> make the admin token (the caller prints it once). */
  async bootstrap(): Promise<string | null> {
    if ((await this.store.tokens.list()).length > 0) return null;
    return (await this.create('admin', 'admin')).secret;
  }
}
