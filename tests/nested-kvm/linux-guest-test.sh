#!/usr/bin/env bash
# A stock Linux guest (Debian's kernel and its virtio modules) under
# `shelter vm`, under nested KVM (run-in-guest.sh): Linux must find the PCI
# bus through the VMM's ACPI tables, bind its own virtio-pci drivers to the
# rng, console, block and vsock devices with MSI-X, read the disk as it is
# on the host, write to hvc0, and power off through ACPI (status 0).
# Usage: linux-guest-test.sh SHELTER   (77: cannot be set up here; shelter-vmm
# must lie beside SHELTER)
set -euo pipefail
shelter=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
kernel=${NESTED_KVM_KERNEL:-$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)}
[ -n "$kernel" ] || { echo "linux-guest-test: no /boot/vmlinuz-*" >&2; exit 77; }
release=${kernel##*/vmlinuz-}
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || { echo "linux-guest-test: no busybox" >&2; exit 77; }
modules=(virtio_pci virtio_blk virtio_console virtio_rng vmw_vsock_virtio_transport)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
inner=$work/inner
mkdir -p "$inner"/{bin,dev,proc,sys} "$inner/lib/modules/$release"
cp "$busybox" "$inner/bin/busybox"
for applet in sh mount modprobe poweroff cat echo head wc sha256sum cut grep basename readlink sleep; do
  ln -s busybox "$inner/bin/$applet"
done
cp "/lib/modules/$release/modules.dep" "$inner/lib/modules/$release/"
for module in "${modules[@]}"; do
  /sbin/modprobe -S "$release" --show-depends "$module" | awk '/^insmod/{print $2}'
done | sort -u | while read -r file; do
  mkdir -p "$inner$(dirname "$file")"
  cp "$file" "$inner$file"
done
cat > "$inner/init" <<INIT
#!/bin/sh
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in ${modules[*]}; do modprobe \$m || echo "LINUX: modprobe \$m failed"; done
sleep 1
for d in /sys/bus/virtio/devices/*; do echo "LINUX: virtio device \$(cat \$d/device) driver \$(basename \$(readlink \$d/driver))"; done
echo "LINUX: msi-x vectors \$(grep -c 'PCI-MSI.*virtio' /proc/interrupts)"
echo "LINUX: vda \$(sha256sum /dev/vda | cut -d' ' -f1)"
echo "LINUX: hwrng bytes \$(head -c 64 /dev/hwrng | wc -c)"
echo "LINUX: hello through hvc0" > /dev/hvc0
poweroff -f
INIT
chmod +x "$inner/init"
(cd "$inner" && find . | cpio -o -H newc --quiet) > "$work/inner.cpio"
head -c 1048576 /dev/urandom > "$work/disk.img"
expected_disk=$(sha256sum "$work/disk.img" | cut -d' ' -f1)
cat > "$work/run.sh" <<RUN
#!/bin/sh
$shelter vm --kernel $kernel --initrd $work/inner.cpio --memory 512 --cpus 2 \
  --cmdline "console=ttyS0 console=hvc0 panic=-1 quiet" --disk $work/disk.img,ro --vsock-uds $work/vsock </dev/null
RUN
chmod +x "$work/run.sh"

status=0
output=$("$here/run-in-guest.sh" --add "$shelter" --add "$(dirname "$shelter")/shelter-vmm" --add "$kernel" --add "$work" -- "$work/run.sh" 2>&1) || status=$?
echo "$output" | grep -a '^LINUX' || true
[ "$status" = 77 ] && { echo "$output" | tail -n 5; exit 77; }
failed=0
expect() {
  if ! echo "$output" | grep -aqF "$1"; then echo "linux-guest-test: missing: $1"; failed=1; fi
}
expect "LINUX: virtio device 0x0004 driver virtio_rng"
expect "LINUX: virtio device 0x0003 driver virtio_console"
expect "LINUX: virtio device 0x0002 driver virtio_blk"
expect "LINUX: virtio device 0x0013 driver vmw_vsock_virtio_transport"
expect "LINUX: vda $expected_disk"
expect "LINUX: hello through hvc0"
if ! echo "$output" | grep -aq 'LINUX: msi-x vectors \([1-9]\|1[0-9]\)$'; then echo "linux-guest-test: no MSI-X vectors"; failed=1; fi
if echo "$output" | grep -aq 'LINUX: hwrng bytes 0$\|modprobe .* failed'; then echo "linux-guest-test: rng or a module failed"; failed=1; fi
if [ "$status" != 0 ]; then echo "linux-guest-test: shelter vm exited $status (the guest's power-off is 0)"; failed=1; fi
[ "$failed" = 0 ] || { echo "$output" | tail -n 40; exit 1; }
echo "linux-guest-test: a stock Linux kernel used every device"
