#!/bin/busybox sh
# The guest's /init for the AppArmor VM test (crates/confine/tests/apparmor_vm.rs). Each check
# prints a block "@@BEGIN name rc=N", its output, "@@END name"; "@@DONE" ends the run.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mkdir -p /mnt
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null

check() {
  name=$1; shift
  out=$("$@" 2>&1); rc=$?
  echo "@@TIME $name $(cut -d' ' -f1 /proc/uptime)"
  echo "@@BEGIN $name rc=$rc"
  echo "$out"
  echo "@@END $name"
}

echo "top secret" > /secret
check kernel sh -c 'uname -r; cat /sys/kernel/security/lsm 2>/dev/null; echo; cat /sys/module/apparmor/parameters/enabled 2>/dev/null'

if grep -q 'apparmor=0' /proc/cmdline; then
  check off.status confine apparmor status
  check off.status_json confine apparmor status --json
  check off.run_default confine run -- cat /proc/self/attr/current
  check off.run_named confine run --apparmor docker-default -- touch /tmp/ran-named
  check off.ran_named ls /tmp/ran-named
  check off.load confine apparmor load --default
  check off.inspect confine inspect
else
  check status_before confine apparmor status
  check generate confine apparmor generate
  check load confine apparmor load --default
  check status confine apparmor status
  check status_json confine apparmor status --json
  check label confine run -- cat /proc/self/attr/apparmor/current
  check label_legacy confine run -- cat /proc/self/attr/current
  check seccomp confine run -- grep -E '^(Seccomp|NoNewPrivs|CapEff)' /proc/self/status
  # systempaths=unconfined: /proc/sys writable and /sys/firmware unmasked, so that the only
  # difference between each pair is the AppArmor profile
  check printk confine run --security-opt systempaths=unconfined -- sh -c 'echo 7 > /proc/sys/kernel/printk'
  check printk_unconfined confine run --security-opt systempaths=unconfined --apparmor unconfined -- sh -c 'echo 4 > /proc/sys/kernel/printk'
  check firmware confine run --security-opt systempaths=unconfined -- cat /sys/firmware/memmap/0/type
  check firmware_dir confine run --security-opt systempaths=unconfined -- ls /sys/firmware/acpi/
  check firmware_unconfined confine run --security-opt systempaths=unconfined --apparmor unconfined -- cat /sys/firmware/memmap/0/type
  # and by default, Docker's read-only and masked paths come first
  check printk_readonly confine run --apparmor unconfined -- sh -c 'echo 4 > /proc/sys/kernel/printk'
  check firmware_masked confine run --apparmor unconfined -- ls -A /sys/firmware
  check mount confine run --cap-add SYS_ADMIN -- mount -t tmpfs none /mnt
  check mount_unconfined confine run --cap-add SYS_ADMIN --apparmor unconfined -- mount -t tmpfs none /mnt
  umount /mnt 2>/dev/null
  # inspect a confined process from outside
  # (the command is pid 2 of its own namespace: here, the child of confine's init)
  children() {
    for st in /proc/[0-9]*/stat; do
      read -r pid comm state ppid rest < "$st" 2>/dev/null && [ "$ppid" = "$1" ] && echo "$pid"
    done
  }
  confine run -- sleep 61 2>/tmp/runner.err &
  runner=$!
  target=
  tries=0
  while [ -z "$target" ] && [ $tries -lt 100 ]; do
    sleep 0.1; tries=$((tries + 1))
    init=$(children "$runner")
    [ -n "$init" ] && target=$(children "$init")
  done
  [ -n "$target" ] || check runner_debug sh -c "echo runner $runner init $init; ps -o pid,ppid,args; cat /tmp/runner.err; exit 3"
  check inspect confine inspect "$target"
  check inspect_json confine inspect --json "$target"
  kill "$target" 2>/dev/null
  wait "$runner" 2>/dev/null
  check inspect_self confine run -- confine inspect
  # a custom profile that denies one file
  check custom_load confine apparmor load /profiles/deny-secret
  check custom_denied confine run --apparmor deny-secret -- cat /secret
  check custom_allowed confine run --apparmor deny-secret -- cat /etc/passwd
  check custom_file confine run --apparmor-file /profiles/deny-secret -- cat /secret
  check unload confine apparmor unload deny-secret
  check status_after_unload confine apparmor status
  check not_loaded confine run --apparmor deny-secret -- touch /tmp/ran-not-loaded
  check ran_not_loaded ls /tmp/ran-not-loaded
  # the file-and-network policy (--policy) rendered, loaded and enforced
  check policy_generate sh -c 'confine apparmor generate --policy /profiles/policy.yaml -o /tmp/policy.aa && cat /tmp/policy.aa'
  check policy_load confine apparmor load /tmp/policy.aa
  check policy_read confine run --apparmor policy-web -- cat /etc/passwd
  check policy_secret confine run --apparmor policy-web -- cat /secret
  check policy_write confine run --apparmor policy-web -- touch /tmp/policy-ok
  check policy_write_etc confine run --apparmor policy-web -- touch /etc/policy-no
  # the command itself is executed by the unconfined runner (the profile applies from that
  # execve on): what the policy restricts is what the command executes
  check policy_exec_other confine run --apparmor policy-web -- sh -c '/opt/other true'
  check policy_exec_other_unconfined confine run --apparmor unconfined -- sh -c '/opt/other true'
  check policy_exec_first confine run --apparmor policy-web -- /opt/other true
  # one table of file accesses (tests/policy/table.rs), the same policy through `confine run
  # --policy`: AppArmor here, Landlock on the host (tests/policy.rs)
  check table_apparmor confine run -q --lsm apparmor --policy /data/policy.yaml -- /data/probe $(cat /data/actions)
  check table_apparmor_profile confine apparmor status
  # this kernel's Landlock (a lower ABI than the host's): require refuses what it lacks, the
  # command never runs; best-effort runs and lists every right dropped
  check landlock_abi sh -c 'confine inspect | grep landlock'
  check landlock_require_tcp confine run --lsm landlock --connect-tcp 443 -- touch /tmp/ran-require
  check landlock_ran_require ls /tmp/ran-require
  check landlock_best_effort_tcp confine run --lsm landlock --landlock-compat best-effort --connect-tcp 443 -- touch /tmp/ran-best-effort
  check landlock_ran_best_effort ls /tmp/ran-best-effort
  check table_landlock confine run -q --lsm landlock --landlock-compat best-effort --policy /data/policy.yaml -- /data/probe $(cat /data/actions)
  # broken profiles: apparmor_parser's line-numbered error
  check broken_load confine apparmor load /profiles/broken
  check broken_run confine run --apparmor-file /profiles/broken -- touch /tmp/ran-broken
  check ran_broken ls /tmp/ran-broken
  # docker-default is loaded by confine run itself when missing
  check unload_default confine apparmor unload docker-default
  check run_loads_default confine run -- cat /proc/self/attr/apparmor/current
  check complain confine apparmor load --complain /profiles/deny-secret
  check complain_status confine apparmor status
  check complain_label confine run --apparmor deny-secret -- cat /proc/self/attr/apparmor/current
fi
echo "@@DONE"
poweroff -f
