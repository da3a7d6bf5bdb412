#!/bin/sh
# Single-node Slurm on localhost for trying the array script (and for the
# tests/scale_slurm.rs end-to-end test): Debian/Ubuntu `slurm-wlm` + `munge`,
# slurmctld and slurmd on this host, no systemd and no cgroups needed (containers
# included). Run as root. Idempotent: re-running restarts nothing that is up.
#
#   sh deploy/slurm/setup-single-node.sh          # install, configure, start
#   sinfo; srun hostname                            # check
#   sh deploy/slurm/setup-single-node.sh stop       # stop the three daemons
#
# Environment: SLURM_CONF_DIR (default /etc/slurm), SLURM_STATE_DIR (default /var/spool).
set -eu

CONF_DIR=${SLURM_CONF_DIR:-/etc/slurm}
STATE_DIR=${SLURM_STATE_DIR:-/var/spool}
LOG_DIR=/var/log/slurm
HOST=$(hostname -s)

say() { echo "setup-single-node: $*" >&2; }

stop_all() {
    for pidfile in /run/slurmd.pid /run/slurmctld.pid /run/munge/munged.pid; do
        [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
    done
    say "stopped"
}

if [ "${1:-}" = stop ]; then stop_all; exit 0; fi
[ "$(id -u)" = 0 ] || { say "must run as root (apt-get, daemons)"; exit 1; }

# 1. Packages (Debian's registry only).
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    say "installing slurm-wlm munge"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

# 2. munge: a key and its daemon (runs as the munge user).
mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
if [ ! -s /etc/munge/munge.key ]; then
    if command -v mungekey >/dev/null; then mungekey --create --force
    else dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null; fi
fi
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
chmod 0700 /etc/munge /var/lib/munge /var/log/munge
chmod 0755 /run/munge
chmod 0400 /etc/munge/munge.key
if ! munge -n >/dev/null 2>&1; then
    say "starting munged"
    su -s /bin/sh munge -c /usr/sbin/munged
    sleep 1
fi
munge -n | unmunge >/dev/null || { say "munge does not work"; exit 1; }

# 3. slurm.conf for one node: this host's real CPUs, no cgroups, root daemons.
mkdir -p "$CONF_DIR" "$STATE_DIR/slurmctld" "$STATE_DIR/slurmd" "$LOG_DIR"
NODE_LINE=$(slurmd -C 2>/dev/null | head -n 1 | sed -e 's/ UpTime=.*//')
case "$NODE_LINE" in
    NodeName=*) ;;
    *) NODE_LINE="NodeName=$HOST CPUs=$(nproc)" ;;
esac
NEW_CONF=$(mktemp)
cat > "$NEW_CONF" <<CONF
# Written by deploy/slurm/setup-single-node.sh
ClusterName=reescan
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MaxArraySize=100001
StateSaveLocation=$STATE_DIR/slurmctld
SlurmdSpoolDir=$STATE_DIR/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=30
$NODE_LINE NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
CHANGED=0
if ! cmp -s "$NEW_CONF" "$CONF_DIR/slurm.conf"; then
    mv "$NEW_CONF" "$CONF_DIR/slurm.conf"; chmod 0644 "$CONF_DIR/slurm.conf"; CHANGED=1
else
    rm -f "$NEW_CONF"
fi
export SLURM_CONF="$CONF_DIR/slurm.conf"
if [ $CHANGED = 1 ] && scontrol ping 2>/dev/null | grep -q UP; then
    say "slurm.conf changed: scontrol reconfigure"
    scontrol reconfigure
fi

# 4. Daemons (they fork into the background themselves).
if ! scontrol ping 2>/dev/null | grep -q UP; then
    say "starting slurmctld"
    slurmctld -f "$SLURM_CONF"
fi
if ! pgrep -x slurmd >/dev/null 2>&1; then
    say "starting slurmd"
    slurmd -f "$SLURM_CONF"
fi

# 5. Wait until the node takes jobs.
i=0
while [ $i -lt 30 ]; do
    if sinfo -h -o '%t' 2>/dev/null | grep -Eq '^(idle|mix|alloc)'; then
        say "ready: $(sinfo -h -o '%P %D %t %c CPUs')"
        exit 0
    fi
    i=$((i + 1)); sleep 1
done
say "slurmd did not come up; see $LOG_DIR/slurmctld.log and $LOG_DIR/slurmd.log"
scontrol update nodename="$HOST" state=resume 2>/dev/null || true
sinfo >&2 || true
exit 1
