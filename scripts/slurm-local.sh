#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for gradnoise's Slurm executor tests (and for trying the executor out):
#
#   scripts/slurm-local.sh start    install slurm-wlm and munge when missing (apt; needs root), start munged,
#                                   slurmctld and slurmd; prints SLURM_CONF=<file> (export it for sbatch/squeue)
#   scripts/slurm-local.sh stop     stop the three daemons (by the pids this script recorded)
#   scripts/slurm-local.sh status   whether they run; prints SLURM_CONF=<file> when they do
#
# No systemd: the daemons run as root with their state, logs, pid files and config in one folder,
# $GRADNOISE_SLURM_DIR (default ${TMPDIR:-/tmp}/gradnoise-slurm). The config uses what works without cgroups
# (ProctrackType=proctrack/linuxproc, TaskPlugin=task/none), SelectType=select/cons_tres over this machine's CPUs, and
# JobCompType=jobcomp/filetxt for per-task end states without a database. The node is called `localhost` (slurmd -N
# localhost), whatever this machine's hostname. Ports: $GRADNOISE_SLURM_PORT (slurmctld, default 6817) and the next
# one (slurmd). Exit status 0 when the cluster answers, 1 when it could not be started (the reason on stderr).
set -euo pipefail

DIR="${GRADNOISE_SLURM_DIR:-${TMPDIR:-/tmp}/gradnoise-slurm}"
PORT="${GRADNOISE_SLURM_PORT:-6817}"
CONF="$DIR/slurm.conf"
MUNGE_SOCKET="$DIR/munge/munge.socket.2"

say() { echo "slurm-local: $*" >&2; }

alive() { # alive PIDFILE: the recorded process exists
  [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

install_packages() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null && command -v munged >/dev/null; then
    return 0
  fi
  if [[ $(id -u) -ne 0 ]]; then
    say "slurm-wlm and munge are not installed, and installing them needs root"
    return 1
  fi
  if ! command -v apt-get >/dev/null; then
    say "slurm-wlm and munge are not installed and there is no apt-get here"
    return 1
  fi
  say "installing slurm-wlm and munge (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >&2
}

write_config() {
  local cpus mem
  cpus=$(nproc)
  mem=$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
  mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
  cat >"$CONF" <<EOF
# Written by scripts/slurm-local.sh: a one-node cluster for tests.
ClusterName=gradnoise-local
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
CredType=cred/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/jobcomp.txt
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
KillWait=2
MinJobAge=600
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
}

start_munge() {
  alive "$DIR/munge/munged.pid" && return 0
  mkdir -p "$DIR/munge"
  chmod 700 "$DIR/munge"
  if [[ ! -f "$DIR/munge/munge.key" ]]; then
    if command -v mungekey >/dev/null; then
      mungekey --create --keyfile="$DIR/munge/munge.key" >&2
    else
      dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
    fi
    chmod 600 "$DIR/munge/munge.key"
  fi
  munged --force --socket="$MUNGE_SOCKET" --key-file="$DIR/munge/munge.key" --pid-file="$DIR/munge/munged.pid" \
    --log-file="$DIR/log/munged.log" --seed-file="$DIR/munge/munged.seed" >&2
}

start() {
  install_packages || return 1
  mkdir -p "$DIR"
  if alive "$DIR/slurmctld.pid" && alive "$DIR/slurmd.pid" && alive "$DIR/munge/munged.pid"; then
    echo "SLURM_CONF=$CONF"
    return 0
  fi
  stop >/dev/null 2>&1 || true
  write_config
  start_munge
  export SLURM_CONF="$CONF"
  # -i: ignore state left by an earlier cluster in this folder (its jobs are gone with it).
  slurmctld -f "$CONF" -i >&2
  slurmd -f "$CONF" -N localhost >&2
  local i
  for i in $(seq 1 100); do
    if [[ "$(sinfo -h -n localhost -o %t 2>/dev/null)" == idle* ]]; then
      echo "SLURM_CONF=$CONF"
      return 0
    fi
    sleep 0.1
  done
  say "the cluster did not come up within 10 s; logs in $DIR/log"
  tail -n 5 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 || true
  return 1
}

stop_pid() { # stop_pid PIDFILE NAME
  local pid i
  [[ -f "$1" ]] || return 0
  pid=$(cat "$1")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
}

stop() {
  stop_pid "$DIR/slurmd.pid" slurmd
  stop_pid "$DIR/slurmctld.pid" slurmctld
  stop_pid "$DIR/munge/munged.pid" munged
}

status() {
  local up=0 name file
  for name in munged slurmctld slurmd; do
    file="$DIR/$name.pid"
    [[ $name == munged ]] && file="$DIR/munge/munged.pid"
    if alive "$file"; then say "$name running (pid $(cat "$file"))"; else say "$name not running"; up=1; fi
  done
  [[ $up -eq 0 ]] && echo "SLURM_CONF=$CONF"
  return $up
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
