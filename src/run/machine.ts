/** The machine a run, reproduction or benchmark ran on, recorded beside every figure. */
import os from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  /** Available parallelism (what worker pools can use). */
  cpus: number;
  memoryGiB: number;
  platform: string;
  arch: string;
  node: string;
  /** 1-, 5- and 15-minute load averages when this was read. */
  loadAverage: number[];
}

export function machineInfo(): MachineInfo {
  return {
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.availableParallelism(),
    memoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    platform: `${os.platform()} ${os.release()}`,
    arch: os.arch(),
    node: process.version,
    loadAverage: loadAverage(),
  };
}

/** 1-, 5- and 15-minute load averages (os.loadavg), rounded. */
export function loadAverage(): number[] {
  return os.loadavg().map((x) => Math.round(x * 100) / 100);
}
