/**
 * Leaderboards in Redis sorted sets (`<prefix>board:<board>`), used when REDIS_URL is set.
 * Updates go in one MULTI/EXEC of `ZADD … GT` (never ZINCRBY: a replay must not add up);
 * reads that need two answers (size and page, rank and neighbours) are one Lua script each,
 * so they see one state of the board and cost one round trip and one command.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { BoardUpdate, LeaderboardStore, Neighbourhood, RankedMember, TopPage } from './store';

export interface RedisStoreOptions {
  url: string;
  keyPrefix: string;
  logger: Logger;
  /** a command that takes longer fails (the request answers 5xx, the event is retried). Default 2000. */
  commandTimeoutMs?: number;
}

// Rank and neighbours in one step. Returns {} when the member is absent, else
// {rank0, size, firstPosition, member1, score1, member2, score2, …}.
const AROUND_SCRIPT = `
local rank = redis.call('ZREVRANK', KEYS[1], ARGV[1])
if not rank then return {} end
local radius = tonumber(ARGV[2])
local first = rank - radius
if first < 0 then first = 0 end
local range = redis.call('ZREVRANGE', KEYS[1], first, rank + radius, 'WITHSCORES')
local out = {rank, redis.call('ZCARD', KEYS[1]), first}
for i = 1, #range do out[#out + 1] = range[i] end
return out
`;

// A page and the board's size in one step (one command: cheaper than MULTI + ZCARD + ZREVRANGE + EXEC).
// Returns {size, member1, score1, …}.
const TOP_SCRIPT = `
local out = {redis.call('ZCARD', KEYS[1])}
local range = redis.call('ZREVRANGE', KEYS[1], ARGV[1], ARGV[2], 'WITHSCORES')
for i = 1, #range do out[#out + 1] = range[i] end
return out
`;

interface Script {
  source: string;
  sha: string;
}
const script = (source: string): Script => ({ source, sha: createHash('sha1').update(source).digest('hex') });
const AROUND = script(AROUND_SCRIPT);
const TOP = script(TOP_SCRIPT);

function pairs(flat: readonly unknown[], firstRank: number): RankedMember[] {
  const out: RankedMember[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    out.push({ rank: firstRank + i / 2, userId: String(flat[i]), boardScore: Number(flat[i + 1]) });
  }
  return out;
}

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}

export class RedisLeaderboardStore implements LeaderboardStore {
  readonly kind = 'redis' as const;
  private readonly client: Redis;
  private readonly keyPrefix: string;

  constructor(options: RedisStoreOptions) {
    this.keyPrefix = options.keyPrefix;
    this.client = new Redis(options.url, {
      commandTimeout: options.commandTimeoutMs ?? 2_000,
      maxRetriesPerRequest: 1,
      retryStrategy: (times) => Math.min(times * 100, 2_000),
      disconnectTimeout: 500,
      lazyConnect: false,
    });
    let reported = false;
    this.client.on('error', (err: Error) => {
      if (reported) return;
      reported = true;
      options.logger.warn(
        { err },
        'redis unavailable: leaderboard reads fail and scored events are retried until it is back',
      );
    });
    this.client.on('ready', () => {
      reported = false;
    });
  }

  /** The Redis key of a board (also what `MEMORY USAGE` is asked about in the benchmark). */
  keyOf(board: string): string {
    return `${this.keyPrefix}board:${board}`;
  }

  /** The underlying client, for the benchmark's bulk loading and memory figures. */
  get redis(): Redis {
    return this.client;
  }

  async record(updates: readonly BoardUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    const multi = this.client.multi();
    for (const { board, userId, boardScore } of updates) multi.zadd(this.keyOf(board), 'GT', boardScore, userId);
    const results = await multi.exec();
    const failed = results?.find(([err]) => err !== null);
    if (!results || failed) throw failed?.[0] ?? new Error('redis MULTI was aborted');
  }

  async top(board: string, offset: number, limit: number): Promise<TopPage> {
    if (limit <= 0) return { total: await this.size(board), entries: [] };
    const reply = await this.run(TOP, this.keyOf(board), offset, offset + limit - 1);
    if (!Array.isArray(reply) || reply.length < 1) throw new Error('unexpected answer from the leaderboard script');
    const [size, ...flat] = reply as unknown[];
    return { total: Number(size), entries: pairs(flat, offset + 1) };
  }

  /** EVALSHA, loading the script with EVAL when Redis does not know it (restart, SCRIPT FLUSH). */
  private async run(lua: Script, key: string, ...args: Array<string | number>): Promise<unknown> {
    try {
      return await this.client.evalsha(lua.sha, 1, key, ...args);
    } catch (err) {
      if (!isNoScript(err)) throw err;
      return this.client.eval(lua.source, 1, key, ...args);
    }
  }

  async around(board: string, userId: string, radius: number): Promise<Neighbourhood | undefined> {
    const reply = await this.run(AROUND, this.keyOf(board), userId, radius);
    if (!Array.isArray(reply) || reply.length < 3) return undefined;
    const [rank0, size, first, ...flat] = reply as unknown[];
    const entries = pairs(flat, Number(first) + 1);
    const player = entries.find((e) => e.userId === userId);
    if (!player || Number(rank0) + 1 !== player.rank)
      throw new Error('inconsistent answer from the leaderboard script');
    return { total: Number(size), player, entries };
  }

  async size(board: string): Promise<number> {
    return this.client.zcard(this.keyOf(board));
  }

  async deleteBoards(boards: readonly string[]): Promise<void> {
    if (boards.length > 0) await this.client.unlink(...boards.map((b) => this.keyOf(b)));
  }

  async check(): Promise<void> {
    await this.client.ping();
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
