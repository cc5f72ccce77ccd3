#!/usr/bin/busybox sh
# /init of the gemu Linux test guest. It mounts the pseudo file systems,
# loads the sound modules, prints timestamped markers on the console
# ("@@gemu <name> <uptime> [details]", uptime from /proc/uptime, i.e. the
# guest's own clock) and runs the scenario named by gemu.scenario= on the
# kernel command line, then powers off.
/usr/bin/busybox --install -s
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /tmp /run
mount -t tmpfs tmpfs /tmp

mark() {
	read -r up _ </proc/uptime
	echo "@@gemu $1 $up${2:+ $2}"
}

mark init

read -r cmdline </proc/cmdline
scenario=boot
extra=
sndmods=/etc/gemu/modules
for a in $cmdline; do
	case "$a" in
	gemu.scenario=*) scenario=${a#gemu.scenario=} ;;
	gemu.snd=0) sndmods=/dev/null ;; # no AC97 chain (the blk scenarios)
	gemu.modules=*) extra=$(echo "${a#gemu.modules=}" | tr , ' ') ;;
	esac
done
mark scenario "$scenario"

# modopts NAME: the NAME.key=value items of the kernel command line, as
# modprobe would pass them (busybox insmod does not read /proc/cmdline).
modopts() {
	for a in $cmdline; do
		case "$a" in
		"$1".*=*) echo "${a#"$1".}" ;;
		esac
	done
}

# Deps first, in modules.dep order (computed when the image was built).
while read -r m; do
	n=${m##*/}
	n=${n%%.ko*}
	n=${n//-/_} # (busybox ash has bash's substitution; saves a fork)
	# shellcheck disable=SC2046
	insmod "$m" $(modopts "$n") || mark insmod-failed "$m"
	mark insmod "${m##*/}"
done <"$sndmods"
for m in $extra; do
	modprobe "$m" || mark modprobe-failed "$m"
done
mark modules "$(cut -d' ' -f1 /proc/modules | tr '\n' ',')"

cards() {
	echo "== aplay -l"
	aplay -l 2>&1
	mark cards "$(cat /proc/asound/cards 2>/dev/null | head -1)"
}

# Master and PCM start muted at volume 0 (notes 5). 100% is register value
# 0 (unity in QEMU's AC97).
unmute() {
	printf 'sset Master 100%% unmute\nsset PCM 100%% unmute\n' | amixer -q -c 0 -s
	mark unmuted "rc=$?"
}

play() { # device file
	mark play-start "$1 $2"
	aplay -D "$1" "$2" # not -q: xruns must show
	mark play-done "rc=$?"
}

# Record Gain starts muted; 100% is gain field 15, unity in QEMU's AC97
# (its input level is 255*v/15), so the samples pass unchanged.
capture_unmute() {
	amixer -q -c 0 sset Capture 100% cap
	mark capture-unmuted "rc=$?"
}

record() { # device frames
	mark record-start "$1"
	arecord -q -D "$1" -s "$2" -f S16_LE -r 48000 -c 2 /tmp/rec.wav
	rc=$?
	mark record-done "rc=$rc size=$(wc -c </tmp/rec.wav)"
	echo "@@gemu-md5 $(md5sum </tmp/rec.wav | cut -d' ' -f1)"
	echo "@@gemu-b64-begin"
	base64 </tmp/rec.wav
	echo "@@gemu-b64-end"
}

case "$scenario" in
boot)
	cards
	;;
shell)
	cards
	mark shell
	PS1='gemu# ' setsid cttyhack sh -i
	;;
play48) cards; unmute; play hw:0,0 /wav/s16-48000.wav ;;
play44) cards; unmute; play hw:0,0 /wav/s16-44100.wav ;;
clock)
	# Booted with snd_intel8x0.ac97_clock=1: the driver measured the AC97
	# clock at probe (it skips that on QEMU's subsystem ID otherwise).
	dmesg | grep -E 'measure|clocking|rejected' | sed 's/^/@@gemu-clock /'
	unmute
	play hw:0,0 /wav/s16-48000.wav
	;;
playmono) unmute; play plughw:0,0 /wav/mono-48000.wav ;;
playu8) unmute; play plughw:0,0 /wav/u8-48000.wav ;;
mute)
	unmute
	amixer -q -c 0 sset Master mute
	play hw:0,0 /wav/s16-48000.wav
	;;
volume)
	unmute
	# Master to 50% of its 0..31 range (register attenuation 16 * 1.5 dB).
	amixer -c 0 sset Master 50% | grep -E 'Playback|Limits'
	play hw:0,0 /wav/s16-48000.wav
	;;
record)
	cards
	capture_unmute
	record hw:0,0 24000
	;;
# ivshmem-plain (notes 5): no driver binds it, so enable memory decoding
# through sysfs, then write a pattern into BAR2 (the shared memory) with
# devmem and read back what the host put at offset 0x100.
ivshmem)
	dev=
	for d in /sys/bus/pci/devices/*; do
		if [ "$(cat "$d/vendor")" = 0x1af4 ] && [ "$(cat "$d/device")" = 0x1110 ]; then
			dev=$d
		fi
	done
	if [ -z "$dev" ]; then
		mark ivshmem-missing
	else
		echo 1 >"$dev/enable"
		bar2=$(sed -n 3p "$dev/resource" | cut -d' ' -f1)
		mark ivshmem-bar2 "$bar2"
		devmem "$bar2" 32 0x4c414221
		devmem $((bar2 + 4)) 32 0xcafef00d
		devmem $((bar2 + 8)) 64 0x0123456789abcdef
		mark ivshmem-readback "$(devmem "$bar2" 32) $(devmem $((bar2 + 4)) 32) $(devmem $((bar2 + 8)) 64)"
		mark ivshmem-host "$(devmem $((bar2 + 0x100)) 64)"
	fi
	;;
# virtio-sound (gemu only; boot with gemu.modules=virtio_mmio,virtio_snd
# and no AC97, so the virtio card is card 0). It has no mixer.
vplay48) cards; play hw:0,0 /wav/s16-48000.wav ;;
vplay44) cards; play hw:0,0 /wav/s16-44100.wav ;;
vplaymono) play plughw:0,0 /wav/mono-48000.wav ;;
vrecord) cards; record hw:0,0 24000 ;;
# virtio-sound-pci (boot with gemu.modules=virtio_snd; virtio_pci is built
# in): the card, its controls (VIRTIO_SND_F_CTLS) and jack, then playback.
vpci48)
	cards
	mark controls "$(amixer -c 0 scontrols 2>&1 | tr '\n' ',')"
	mark jack "$(amixer -c 0 cget iface=CARD,name='Headphone Jack' 2>&1 | grep ': values=' | tr -d ' ')"
	play hw:0,0 /wav/s16-48000.wav
	;;
# virtio-sound on QEMU 10 and gemu, one boot per transport (vsnd.sh).
vsnd) . /etc/gemu/vsnd.sh ;;
# Several harts (-smp N): nproc, then one busy shell loop pinned to each
# hart (taskset), all in parallel; /proc/stat's per-CPU user time shows
# every hart worked. Then play48 with all harts online.
smp)
	n=$(nproc)
	mark nproc "$n"
	i=0
	while [ $i -lt "$n" ]; do
		(
			taskset -c "$i" sh -c 'k=0; while [ $k -lt 3000 ]; do k=$((k + 1)); done' ||
				mark taskset-failed "$i"
			mark job "$i"
		) &
		i=$((i + 1))
	done
	wait
	mark jobs-done
	mark cpu-user "$(awk '/^cpu[0-9]/ { printf "%s=%s ", $1, $2 }' /proc/stat)"
	cards
	unmute
	play hw:0,0 /wav/s16-48000.wav
	;;
# Root on virtio-blk (boot with gemu.snd=0
# gemu.modules=virtio_mmio,virtio_blk,crc32c_generic,ext4): mount /dev/vda
# and switch_root into it; its own /sbin/init (made by guest.RootImage)
# writes, syncs and powers off.
blkroot)
	i=0
	while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	mkdir -p /newroot
	if mount -t ext4 /dev/vda /newroot; then
		mark rootfs "$(grep ' /newroot ' /proc/mounts)"
		umount /tmp /sys /proc
		exec switch_root /newroot /sbin/init
	fi
	mark mount-failed "$(ls /dev/vd* 2>&1)"
	;;
reboot)
	mark rebooting
	reboot -f
	;;
*)
	mark unknown-scenario "$scenario"
	;;
esac
mark poweroff
poweroff -f
