#!/bin/sh
# /sbin/init of the ext4 root image (guest.RootImage), started by the
# initramfs's switch_root (scenario blkroot). It proves it runs from
# /dev/vda, reads /data/src.bin from the disk, writes /out/copy.bin and
# /out/result.txt, syncs, remounts / read-only (so the journal is clean and
# the host's e2fsck -fn and debugfs see every write), and powers off.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys

mark() {
	read -r up _ </proc/uptime
	echo "@@gemu $1 $up${2:+ $2}"
}

mark root-init
root=$(grep ' / ' /proc/mounts)
mark root "$root"
# The transport (virtio_mmio or pci in the path) and the negotiated
# features (bit 32, VIRTIO_F_VERSION_1: modern interface).
mark vda "$(readlink -f /sys/block/vda) $(cat /sys/block/vda/device/features)"
sum=$(md5sum </data/src.bin | cut -d' ' -f1)
mark src-md5 "$sum"
mkdir -p /out
cp /data/src.bin /out/copy.bin
mark copied "rc=$?"
{
	echo gemu-blk-ok
	echo "src-md5 $sum"
	echo "root $root"
	echo "kernel $(uname -r)"
} >/out/result.txt
sync
mark synced "rc=$?"
umount /sys
mount -o remount,ro /
mark remount-ro "rc=$?"
mark poweroff
poweroff -f
