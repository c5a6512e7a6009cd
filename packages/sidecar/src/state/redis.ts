/**
 * `state.redis`: each key is a hash {data, version} as in components-contrib, so ETags are
 * "1", "2", … and TTLs are Redis expiries. Every write, including a whole transaction, is
 * one Lua script: ETag checks and writes happen atomically, and a failed check writes nothing.
 * A read is one script too (data, version and expiry at one point in time). Scripts are sent
 * by their SHA1 (EVALSHA), in full only when Redis does not have them (NOSCRIPT: first use,
 * a restart, SCRIPT FLUSH).
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  EtagInvalidError,
  EtagMismatchError,
  type DeleteRequest,
  type SetRequest,
  type StateStore,
  type StoredItem,
  type TransactionOperation,
} from './store';

const WRITE_SCRIPT = `
local ops = cjson.decode(ARGV[1])
local versions = {}
local function current(key)
  if versions[key] ~= nil then return versions[key] end
  if redis.call("TYPE", key)["ok"] ~= "hash" then return false end
  return redis.call("HGET", key, "version")
end
for i, op in ipairs(ops) do
  local key = KEYS[i]
  local ver = current(key)
  if op["e"] ~= nil then
    if ver and ver ~= op["e"] then return redis.error_reply("ETAGMISMATCH " .. key) end
  elseif op["f"] and op["o"] == "u" and ver then
    return redis.error_reply("ETAGMISMATCH " .. key)
  end
  if op["o"] == "u" then versions[key] = tostring((tonumber(ver) or 0) + 1) else versions[key] = false end
end
for i, op in ipairs(ops) do
  local key = KEYS[i]
  if op["o"] == "d" then
    redis.call("DEL", key)
  else
    if redis.call("TYPE", key)["ok"] ~= "hash" then redis.call("DEL", key) end
    redis.call("HSET", key, "data", op["v"])
    redis.call("HINCRBY", key, "version", 1)
    if op["t"] ~= nil and op["t"] >= 0 then redis.call("EXPIRE", key, op["t"]) else redis.call("PERSIST", key) end
  end
end
return #ops
`;

/** data, version and the expiry in ms (PTTL) of one key; a missing field is nil. */
const READ_SCRIPT = `
return {redis.call("HGET", KEYS[1], "data"), redis.call("HGET", KEYS[1], "version"), redis.call("PTTL", KEYS[1])}
`;

interface LuaScript {
  source: string;
  sha1: string;
}

function luaScript(source: string): LuaScript {
  return { source, sha1: createHash('sha1').update(source).digest('hex') };
}

const WRITE = luaScript(WRITE_SCRIPT);
const READ = luaScript(READ_SCRIPT);

export interface RedisStoreOptions {
  host: string;
  port: number;
  username: string | undefined;
  password: string | undefined;
  db: number;
  tls: boolean;
  maxRetries: number;
  defaultTtlSeconds: number | undefined;
  connectTimeoutMs: number;
}

interface ScriptOp {
  o: 'u' | 'd';
  e?: string;
  f?: boolean;
  v?: string;
  t?: number;
}

export class RedisStateStore implements StateStore {
  readonly features = ['ETAG', 'TRANSACTIONAL', 'TTL'];

  private constructor(
    private readonly redis: Redis,
    private readonly defaultTtlSeconds: number | undefined,
  ) {}

  /** Connects (failing fast when Redis is unreachable); reconnects in the background afterwards. */
  static async connect(options: RedisStoreOptions): Promise<RedisStateStore> {
    // Reconnect only once the first connection worked: an unreachable Redis is a startup error.
    const connection = { established: false };
    // Loaded on first use: a sidecar on embedded backends never needs ioredis (decision 0880).
    const { Redis } = await import('ioredis');
    const redis = new Redis({
      host: options.host,
      port: options.port,
      username: options.username,
      password: options.password,
      db: options.db,
      tls: options.tls ? {} : undefined,
      lazyConnect: true,
      connectTimeout: options.connectTimeoutMs,
      maxRetriesPerRequest: options.maxRetries,
      retryStrategy: (times) => (connection.established ? Math.min(times * 100, 2000) : null),
    });
    // Errors surface on the failing command; without a listener ioredis would log them itself.
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      await redis.ping();
    } catch (err) {
      redis.disconnect();
      throw err;
    }
    connection.established = true;
    return new RedisStateStore(redis, options.defaultTtlSeconds);
  }

  async get(key: string): Promise<StoredItem | undefined> {
    const [data, version, pttl] = (await this.run(READ, [key], [])) as [unknown, unknown, unknown];
    if (typeof data !== 'string') return undefined;
    return {
      value: data,
      etag: typeof version === 'string' ? version : '0',
      expiresAt: typeof pttl === 'number' && pttl > 0 ? Date.now() + pttl : undefined,
    };
  }

  async set(req: SetRequest): Promise<void> {
    if (req.etag !== undefined && !/^\d+$/.test(req.etag)) throw new EtagInvalidError(req.etag);
    await this.multi([{ operation: 'upsert', ...req }]);
  }

  async delete(req: DeleteRequest): Promise<void> {
    // contrib maps every delete failure, malformed ETags included, to a mismatch (409).
    if (req.etag !== undefined && !/^\d+$/.test(req.etag)) throw new EtagMismatchError(req.key);
    await this.multi([{ operation: 'delete', ...req }]);
  }

  async multi(ops: TransactionOperation[]): Promise<void> {
    if (ops.length === 0) return;
    const scriptOps: ScriptOp[] = ops.map((op) => {
      const s: ScriptOp = { o: op.operation === 'upsert' ? 'u' : 'd' };
      if (op.etag !== undefined) s.e = op.etag;
      if (op.firstWrite) s.f = true;
      if (op.operation === 'upsert') {
        s.v = op.value;
        const ttl = op.ttlSeconds ?? this.defaultTtlSeconds;
        if (ttl !== undefined) s.t = ttl;
      }
      return s;
    });
    try {
      await this.run(
        WRITE,
        ops.map((op) => op.key),
        [JSON.stringify(scriptOps)],
      );
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const mismatch = /ETAGMISMATCH (.*)$/.exec(message);
      if (mismatch) throw new EtagMismatchError(mismatch[1] ?? '');
      throw err;
    }
  }

  /** EVALSHA, then EVAL with the source when Redis does not know the script yet. */
  private async run(script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await this.redis.evalsha(script.sha1, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return this.redis.eval(script.source, keys.length, ...keys, ...args);
    }
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
