// A real Redis for tests of distributed parts: CI's shared one (REDIS_URL) or a redis-server of our
// own on a free port, which a test may kill and restart. Test kit only; nothing here is loaded by core.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './net.js';

/** A redis-server of our own, from {@link startRedisServer}. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** Kills the server at once (SIGKILL): clients see the connection drop. */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
  /** Kills it and removes its directory. */
  stop(): Promise<void>;
}

/** The redis-server binary: `REDIS_SERVER_BIN`, else `redis-server` on PATH. */
function redisBin(): string {
  return process.env.REDIS_SERVER_BIN || 'redis-server';
}

/**
 * Spawns redis-server on `port` (no persistence, files in `dir`, `extra` arguments after ours) and
 * resolves once it accepts connections; rejects when it exits or does not listen within 5 s. The
 * one place a redis-server is started, for a single server here and for a cluster's nodes alike.
 */
export async function spawnRedis(
  port: number,
  dir: string,
  extra: readonly string[] = [],
): Promise<ChildProcess> {
  const bin = redisBin();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child = spawn(bin, [...args, '--dir', dir, ...extra], { stdio: 'ignore' });
  let failure: unknown;
  child.once('error', (error) => {
    failure = error;
  });
  if (await waitForPort(port, () => failure !== undefined || child.exitCode !== null)) return child;
  child.kill('SIGKILL');
  throw new Error(
    `${bin} did not listen on 127.0.0.1:${port}${child.exitCode !== null ? ` (exited with ${child.exitCode})` : ''}`,
    { cause: failure },
  );
}

/**
 * Starts a redis-server of our own (`REDIS_SERVER_BIN` or `redis-server` on PATH) on a free port
 * of 127.0.0.1, without persistence. It can be killed and started again on the same port, for
 * tests of what a client does when Redis goes away.
 * @example
 * const redis = await startRedisServer();
 * try { ... new Redis(redis.url) ... await redis.kill(); ... await redis.start(); }
 * finally { await redis.stop(); }
 */
export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'extapi-redis-'));
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    child = await spawnRedis(port, dir);
  }

  async function kill(): Promise<void> {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
  }

  try {
    await start();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    start,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A Redis to use and how to let go of it, from {@link sharedRedis}. */
export interface SharedRedis {
  /** The Redis URL (`REDIS_URL`, or our own server's). */
  readonly url: string;
  /** Stops our own server; a no-op for `REDIS_URL`. */
  stop(): Promise<void>;
}

/**
 * The Redis a test suite shares: `REDIS_URL` when set (CI's), else a server of our own. Without
 * either it rejects, naming what is missing: tests of distributed parts fail, never skip.
 * @example
 * const redis = await sharedRedis();
 * afterAll(() => redis.stop());
 */
export async function sharedRedis(): Promise<SharedRedis> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: async () => {} };
  try {
    const own = await startRedisServer();
    return { url: own.url, stop: own.stop };
  } catch (cause) {
    throw new Error(
      'These tests need Redis: set REDIS_URL or put redis-server on PATH (or REDIS_SERVER_BIN)',
      { cause },
    );
  }
}
