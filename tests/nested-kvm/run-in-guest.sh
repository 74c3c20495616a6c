#!/usr/bin/env bash
# Runs a command under real KVM where the host has none: boots the Debian
# kernel under QEMU's emulator with an emulated AMD-V CPU (-cpu max has SVM
# and nested paging), loads kvm-amd inside, and runs the command there. The
# guest's KVM is the real kernel module on an emulated processor, so the
# VMM's ioctls, the guest's boot and its exits are KVM's own, only slow.
#
# Usage: run-in-guest.sh [--add PATH]... -- COMMAND...
#   Each PATH (file or folder) appears at the same absolute path inside,
#   with the shared libraries its executables need. The command's exit
#   status is this script's; 77 means the run could not be set up.
#   NESTED_KVM_TIMEOUT (seconds, default 1800) bounds each boot of the guest.
#   NESTED_KVM_CPUS (default 1) is the emulated machine's processor count:
#   with two, loops of a few dozen VM runs froze it now and then (its
#   console and every process in it stopped; with one, none did). As a
#   second guard the guest shows it is alive every 20 s, and one silent for
#   NESTED_KVM_STALL seconds (default 120) is stopped and booted again, at
#   most NESTED_KVM_ATTEMPTS times in all (default 2), said on stderr.
set -euo pipefail

adds=()
while [ $# -gt 0 ]; do
  case "$1" in
    --add) adds+=("$(realpath -s "$2")"); shift 2 ;;
    --) shift; break ;;
    *) echo "run-in-guest: unknown option $1" >&2; exit 77 ;;
  esac
done
[ $# -gt 0 ] || { echo "run-in-guest: no command" >&2; exit 77; }

kernel=${NESTED_KVM_KERNEL:-$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)}
[ -n "$kernel" ] || { echo "run-in-guest: no /boot/vmlinuz-*" >&2; exit 77; }
release=${kernel##*/vmlinuz-}
modules=/lib/modules/$release
command -v qemu-system-x86_64 >/dev/null || { echo "run-in-guest: no qemu-system-x86_64" >&2; exit 77; }
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && { ldd "$busybox" 2>&1 || true; } | grep -q "not a dynamic" ||
  { echo "run-in-guest: needs a static busybox (busybox-static)" >&2; exit 77; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,modules}

copy() {  # copy PATH to the same place under the root
  mkdir -p "$root$(dirname "$1")"
  cp -a "$1" "$root$1"
}
copy_libraries() {  # the loader and libraries an ELF executable needs
  { ldd "$1" 2>/dev/null || true; } | awk '/=> \//{print $3} /^[ \t]*\/.*ld-linux/{print $1}' | while read -r lib; do
    [ -e "$root$lib" ] || { mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; }
  done
}

cp "$busybox" "$root/bin/busybox"
for applet in sh mount insmod poweroff cat mkdir grep cp touch switch_root; do ln -s busybox "$root/bin/$applet"; done
for module in virt/lib/irqbypass arch/x86/kvm/kvm drivers/crypto/ccp/ccp arch/x86/kvm/kvm-amd; do
  file=$(ls "$modules/kernel/$module.ko"* 2>/dev/null | head -n 1)
  [ -n "$file" ] || { echo "run-in-guest: $modules lacks $module" >&2; exit 77; }
  case "$file" in
    *.xz) xz -dc "$file" > "$root/modules/${module##*/}.ko" ;;
    *.zst) zstd -qdc "$file" > "$root/modules/${module##*/}.ko" ;;
    *) cp "$file" "$root/modules/${module##*/}.ko" ;;
  esac
done
for path in "${adds[@]}"; do
  copy "$path"
  find "$path" -type f -perm -u+x | while read -r exe; do copy_libraries "$exe"; done
done

printf '%q ' "$@" > "$stage/command"
# The initramfs is rootfs, which pivot_root refuses (EINVAL), so the
# jailed VMM could not build its root there: /init first copies itself onto
# a tmpfs and switches to it, as an installed system's real root would be.
# Files added under /tmp travel with it, so /tmp is copied, not remounted.
cat > "$root/init" <<INIT
#!/bin/sh
if [ ! -e /.on-tmpfs ]; then
  mkdir -p /newroot && mount -t tmpfs -o mode=0755 root /newroot
  for entry in /*; do
    case "\$entry" in /newroot|/proc|/sys|/dev) ;; *) cp -a "\$entry" /newroot/ ;; esac
  done
  mkdir -p /newroot/proc /newroot/sys /newroot/dev && touch /newroot/.on-tmpfs
  exec switch_root /newroot /init
fi
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
# cgroup v2 with the cpu and memory controllers handed to child groups, as
# an installed system's init sets it up (the VMM jail's limits use them).
mount -t cgroup2 cgroup2 /sys/fs/cgroup && echo '+cpu +memory' > /sys/fs/cgroup/cgroup.subtree_control ||
  echo "nested-kvm: no cgroup v2 with cpu and memory"
for m in irqbypass kvm ccp kvm-amd; do insmod /modules/\$m.ko || echo "nested-kvm: insmod \$m failed"; done
# Alive to the host's stall watch: an escape sequence the output filter drops.
(while :; do busybox printf '\\033[0n' > /dev/console; busybox sleep 20; done) &
if [ -c /dev/kvm ]; then
  $(cat "$stage/command")
  echo "nested-kvm: exit \$?"
else
  echo "nested-kvm: no /dev/kvm in the guest"
fi
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet) > "$stage/initramfs.cpio"

timeout=${NESTED_KVM_TIMEOUT:-1800} stall=${NESTED_KVM_STALL:-120} attempts=${NESTED_KVM_ATTEMPTS:-2}
# Ends the emulator: politely, then for sure.
stop_qemu() {
  kill "$1" 2>/dev/null || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$1" 2>/dev/null || break; sleep 1; done
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
# Boots the guest once; returns 1 if it stalled (see the usage above).
boot_guest() {
  qemu-system-x86_64 -accel tcg -M q35 -cpu max -smp "${NESTED_KVM_CPUS:-1}" -m 2048 -nographic -no-reboot \
    -kernel "$kernel" -initrd "$stage/initramfs.cpio" \
    -append "console=ttyS0 quiet loglevel=1 panic=-1" > "$stage/console" 2>&1 &
  local qemu=$! size=-1 silent=0 elapsed=0 now
  while kill -0 "$qemu" 2>/dev/null; do
    sleep 5
    elapsed=$((elapsed + 5))
    now=$(stat -c %s "$stage/console" 2>/dev/null || echo 0)
    if [ "$now" = "$size" ]; then silent=$((silent + 5)); else silent=0; size=$now; fi
    if [ "$silent" -ge "$stall" ]; then
      stop_qemu "$qemu"
      return 1
    fi
    if [ "$elapsed" -ge "$timeout" ]; then
      echo "run-in-guest: stopped the nested guest after $timeout s" >&2
      stop_qemu "$qemu"
      return 0
    fi
  done
  wait "$qemu" 2>/dev/null || true
}
attempt=1
until boot_guest; do
  if [ "$attempt" -ge "$attempts" ]; then
    echo "run-in-guest: the nested guest stalled (silent for $stall s) on each of $attempt attempts" >&2
    break
  fi
  attempt=$((attempt + 1))
  echo "run-in-guest: the nested guest stalled (silent for $stall s); booting it again (attempt $attempt)" >&2
done
# The command's output: what follows the firmware's last line, without
# terminal escapes or the kernel's own messages.
tr -d '\r' < "$stage/console" | sed 's/\x1bc//g; s/\x1b\[[0-9;?]*[A-Za-z]//g' > "$stage/output"
sed '1,/Booting from ROM/d' "$stage/output" | grep -v '^nested-kvm: exit\|^\[ *[0-9.]*\] \|^[[:space:]]*$' || true
status=$(sed -n 's/^nested-kvm: exit \([0-9]*\)$/\1/p' "$stage/output" | tail -n 1)
if [ -z "$status" ]; then
  grep '^nested-kvm' "$stage/output" >&2 || echo "run-in-guest: the guest ended before the command finished" >&2
  exit 77
fi
exit "$status"
