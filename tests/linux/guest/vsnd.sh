# /etc/gemu/vsnd.sh, sourced by /init for gemu.scenario=vsnd: every
# virtio-sound check of one boot (tests/linux/vsnd_test.go), on cards made
# by virtio_snd only (boot with gemu.snd=0 and gemu.modules=...,virtio_snd):
#   card 0: the device under test, its audiodev a 48000 Hz WAV sink (and on
#           gemu a looped WAV capture source)
#   card 1: a second device of the same kind, its sink at 44100 Hz
#   card 2: a third one on audiodev none (capture: silence)
# Command outputs are framed by "@@gemu-begin NAME" / "@@gemu-end NAME"
# lines for the host to parse. Uses mark and play from /init.

block() { # name command...
	n=$1
	shift
	echo "@@gemu-begin $n"
	"$@" 2>&1
	echo "@@gemu-rc $n $?"
	echo "@@gemu-end $n"
}

# jack_state: the Headphone Jack control of card 0 ("on", "off" or what
# amixer said when there is none).
jack_state() {
	s=$(amixer -c 0 cget iface=CARD,name='Headphone Jack' 2>&1 | grep ': values=')
	s=${s#*values=}
	echo "${s:-none}"
}

# jack_wait WANT: the host plugs or unplugs jack 0 through its monitor when
# it sees the jack-wait marker, then types a line on the console; the
# driver's event must have reached the control by then (polled a little
# for the work queue).
jack_wait() {
	mark jack-wait "$1"
	read -r _
	i=0
	s=$(jack_state)
	while [ "$s" != "$1" ] && [ $i -lt 20 ]; do
		sleep 0.05
		i=$((i + 1))
		s=$(jack_state)
	done
	mark jack "$s polls=$i"
}

# The probe's messages (both transports' drivers and virtio_snd), without
# timestamps.
block dmesg-virtio sh -c 'dmesg | sed "s/^\[[ 0-9.]*\] //" | grep -E "^virtio"; true'
block aplay-l aplay -l
block aplay-L aplay -L
block arecord-l arecord -l
block cards cat /proc/asound/cards
block pcm cat /proc/asound/pcm
for c in 0 1 2; do
	block contents$c amixer -c $c contents
done
mark jack "$(jack_state)"
case " $cmdline " in
*" gemu.jacktest=1 "*)
	jack_wait off
	jack_wait on
	;;
esac

echo "@@gemu-begin hw-params"
mark play-start "hw:0,0 /wav/s16-48000.wav"
aplay --dump-hw-params -D hw:0,0 /wav/s16-48000.wav 2>&1
mark play-done "rc=$?"
echo "@@gemu-end hw-params"
play plughw:0,0 /wav/mono-48000.wav
play plughw:0,0 /wav/u8-48000.wav
play hw:1,0 /wav/s16-44100.wav
block capture-hw-params arecord --dump-hw-params -D hw:2,0 -s 1 -f S16_LE -r 48000 -c 2 /dev/null

# rec NAME DEVICE FRAMES: record S16_LE stereo 48000 Hz, dump it in base64.
rec() {
	arecord -q -D "$2" -s "$3" -f S16_LE -r 48000 -c 2 "/tmp/$1.wav"
	mark rec-done "$1 rc=$?"
	echo "@@gemu-begin $1"
	base64 <"/tmp/$1.wav"
	echo "@@gemu-end $1"
}
# Card 2's audiodev is none on both: silence.
rec rec2 hw:2,0 4800
# Card 0 on gemu captures a looped WAV (QEMU's wav audiodev cannot capture:
# arecord fails with EIO there).
case " $cmdline " in
*" gemu.rec0=1 "*) rec rec0 hw:0,0 24000 ;;
esac
