import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { parseQueueUrl } from '../queue/queueProtocol.js';

let ticks: number | undefined;

/**
 * CPU milliseconds (user + system, every thread) another process on this machine has used, from
 * /proc/PID/stat; null where there is no /proc (not Linux) or the process is gone.
 */
export function processCpuMs(pid: number): number | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  ticks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;
  return ((utime + stime) * 1000) / ticks;
}

/** Reads a Redis server's own CPU use (INFO cpu: used_cpu_user + used_cpu_sys, every thread), in ms. */
export class RedisCpu {
  private readonly redis: Redis;

  constructor(url: string) {
    const where = parseQueueUrl(url);
    this.redis = new Redis({ host: where.host, port: where.port, db: where.db, maxRetriesPerRequest: 1, lazyConnect: true });
    this.redis.on('error', () => undefined);
  }

  async ms(): Promise<number> {
    const info = await this.redis.info('cpu');
    const field = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? 'NaN');
    const s = field('used_cpu_user') + field('used_cpu_sys');
    if (!Number.isFinite(s)) throw new Error('Redis INFO cpu has no used_cpu_user/used_cpu_sys');
    return s * 1000;
  }

  close(): void {
    this.redis.disconnect();
  }
}
