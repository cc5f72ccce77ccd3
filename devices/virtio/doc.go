// Package virtio is gemu's virtio layer: split virtqueues (queue.go), two
// transports sharing one core (transport.go) — virtio-mmio in its modern
// and legacy interfaces for the virt board's eight slots (mmio.go,
// legacy.go) and the virtio 1.x PCI transport (pci.go) — and the device
// models behind them, each of which works on either: the virtio sound
// card (sound.go, pcm.go, sound_ctl.go: jacks, channel maps, controls,
// events) and the virtio block device (blk.go).
//
// Everything a guest writes is untrusted. Descriptor tables, ring indexes,
// buffer addresses and lengths are checked on every use and reach guest RAM
// only through the bus's bounds-checked accessors; a malformed queue puts
// the device into DEVICE_NEEDS_RESET (status bit 64) with a configuration
// change interrupt, and a malformed sound request is answered BAD_MSG or
// NOT_SUPP. Nothing a guest does panics the emulator.
//
// Like every device, the package runs on the emulation goroutine and
// schedules its work on the machine clock only.
//
// The sound device works with Linux's virtio_snd (Debian 6.12: aplay and
// arecord bit-exact, tests/virtiosnd TestLinux), with polling bare-metal
// drivers (guests/virtiosnd) and with the request shapes of
// rcore-os virtio-drivers (one 4096-byte response buffer, header and PCM
// in one descriptor, count-0 info queries).
//
// Cost (go test -bench . ./devices/virtio, 2-core Xeon VM shared with other
// jobs): one second of 48 kHz stereo playback in 10 ms periods, device,
// in-test driver and a "none" audiodev together, takes about 0.45 ms of
// host CPU (0.05% of a core).
//
// References: Virtual I/O Device (VIRTIO) Version 1.2, sections 2 (basic
// facilities: status, feature bits, split virtqueues), 4.2 (virtio over
// MMIO), 4.1 (virtio over PCI) and 5.14 (sound device; VirtIO 1.3
// 5.14.6.10 for controls); QEMU hw/virtio/virtio-mmio.c,
// hw/virtio/virtio-pci.c and hw/audio/virtio-snd.c;
// docs/devices/virtio-mmio.md, virtio-pci.md and virtio-sound.md.
package virtio
