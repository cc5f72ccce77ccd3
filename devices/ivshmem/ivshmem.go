// Package ivshmem models QEMU's inter-VM shared memory device (PCI
// 1af4:1110, hw/misc/ivshmem.c; QEMU docs/specs/ivshmem-spec.rst;
// docs/devices/ivshmem.md) in its two variants:
//
//   - ivshmem-plain: BAR0 registers and BAR2 = a host file mapped shared
//     (memory-backend-file,share=on), no interrupts;
//   - ivshmem-doorbell: the memory and interrupt eventfds come from an
//     ivshmem-server over a UNIX socket (client.go, protocol.go); BAR1
//     holds the MSI-X table.
//
// Interrupts on this board: QEMU's doorbell device (revision 1) signals
// only through MSI-X, and QEMU's virt machine without AIA has no MSI
// target, so on QEMU such a guest gets no doorbell interrupts at all
// (on hw/riscv/virt.c only the AIA's IMSIC receives MSIs). gemu keeps
// QEMU's BAR1/MSI-X layout (the guest can program the table; nothing is
// delivered through it) and
// delivers every doorbell as a latched bit in IntrStatus: vector v sets
// bit v, and IntrStatus is read-to-clear, so a guest can poll it. With the
// gemu extension option intx=on the function also has interrupt pin INTA
// (QEMU's revision 0 behaviour) and holds it asserted while IntrStatus &
// IntrMask is non-zero. intx is off by default so that configuration space
// stays exactly QEMU's. Justification: polling IntrStatus works with the
// same driver on QEMU and gemu (on QEMU it stays 0), and INTx is the only
// interrupt a PLIC-only board can deliver; it must not change what a
// QEMU-compatible guest sees unless asked for.
//
// Audio (gemu extension, audiodev=ID): a ring at the start of the shared
// memory is played into an audio stream, by a Player for gemu's own ring
// layout (ring.go) or a ScreamPlayer for Scream's (scream.go).
//
// Command lines (QEMU's spelling; machine/ivshmem.go builds the device from them):
//
//	# shared memory with the host; a guest driver plays through the ring
//	-object memory-backend-file,id=hm,size=1M,share=on,mem-path=/dev/shm/gemu
//	-device ivshmem-plain,memdev=hm,audiodev=snd0[,ring=scream]
//	-audiodev oto,id=snd0
//
//	# peers and doorbells through an ivshmem-server (Debian ships none:
//	# go run ./cmd/ivshmem-server -S /tmp/ivshmem_socket -l 1M)
//	-chardev socket,path=/tmp/ivshmem_socket,id=ch0
//	-device ivshmem-doorbell,chardev=ch0,vectors=1[,intx=on]
//
// Guests must enable memory decoding (Command bit 1) before touching the
// BARs: a Linux guest without a driver writes 1 to
// /sys/bus/pci/devices/<bdf>/enable and maps resource2; a bare-metal one
// assigns BAR2 in the 64-bit window itself (guests/ivshmem).
//
// Memory ordering: guest loads and stores to BAR2 go through the hart's
// slow path into Memory.Read/Write, one access at a time in program order,
// and aligned 4- and 8-byte ones are sequentially consistent atomics. So
// whatever the guest stored before an aligned index store is visible to
// another process that loads that index atomically (C11 acquire or
// stronger): a guest FENCE has nothing left to order.
//
// Threads: everything here runs on the emulation goroutine except Client's
// socket and eventfd goroutines (client.go), which hand doorbells over
// through an atomic word that Device.Poll drains at batch boundaries.
package ivshmem

import (
	"fmt"

	"gemu/bus"
	"gemu/devices/pci"
)

// PCI identity (hw/misc/ivshmem.c ivshmem_common_class_init).
const (
	VendorRedHat = 0x1af4
	DeviceID     = 0x1110
	Revision     = 1
	ClassRAM     = 0x050000
	RegsSize     = 256  // BAR0
	MSIXBARSize  = 4096 // BAR1 (doorbell only)
	msixPBAOff   = 0x800
	capMSIX      = 0x11
)

// BAR0 registers (ivshmem-spec.rst, "PCI device registers").
const (
	RegIntrMask   = 0x00
	RegIntrStatus = 0x04
	RegIVPosition = 0x08
	RegDoorbell   = 0x0c
)

// Consumer is an audio ring consumer (Player or ScreamPlayer).
type Consumer interface {
	Kick()  // the guest stored into the ring header
	Reset() // board reset
	Close() // stop for good
}

// Doorbell is the subset of Client the device needs (an interface so unit
// tests can watch doorbells without a server).
type Doorbell interface {
	Ring(peer, vector int) error
	TakePending() uint32
}

// Config selects the variant.
type Config struct {
	Mem *Memory
	// Doorbell variant: the server connection, our ID and vector count.
	Bell    Doorbell
	ID      int
	Vectors int
	// INTx makes doorbell interrupts assert INTA (gemu extension intx=on).
	INTx bool
}

// Device is one ivshmem PCI function.
type Device struct {
	fn   *pci.Function
	cfg  Config
	mem  *Memory
	msix [MSIXBARSize]byte

	intrMask, intrStatus uint32
	irq                  bool

	// Audio is the audio ring consumer, when the device plays audio.
	Audio Consumer
	// Trace receives register accesses and doorbell events, when set.
	Trace bus.TraceFunc
	// Stats.
	Rung, Received, BadDoorbells uint64
}

// New creates the function. A doorbell device needs cfg.Bell and 1..32
// vectors.
func New(cfg Config) (*Device, error) {
	if cfg.Mem == nil {
		return nil, fmt.Errorf("ivshmem: no shared memory")
	}
	if err := CheckSize(cfg.Mem.Size()); err != nil {
		return nil, err
	}
	doorbell := cfg.Bell != nil
	if doorbell && (cfg.Vectors < 1 || cfg.Vectors > MaxVectors) {
		return nil, fmt.Errorf("ivshmem: vectors=%d: want 1..%d", cfg.Vectors, MaxVectors)
	}
	if !doorbell {
		cfg.INTx, cfg.ID, cfg.Vectors = false, 0, 0
	}
	d := &Device{cfg: cfg, mem: cfg.Mem}
	id := pci.ID{Vendor: VendorRedHat, Device: DeviceID, Revision: Revision, Class: ClassRAM}
	if cfg.INTx {
		id.IntPin = 1
	}
	d.fn = pci.NewFunction(id)
	if err := d.fn.SetBAR(0, pci.BAR{Kind: pci.BARMem32, Size: RegsSize, Dev: regs{d}}); err != nil {
		return nil, err
	}
	if doorbell {
		if err := d.fn.SetBAR(1, pci.BAR{Kind: pci.BARMem32, Size: MSIXBARSize, Dev: msixBAR{d}}); err != nil {
			return nil, err
		}
		// MSI-X capability (PCI Local Bus 3.0, 6.8.2): message control =
		// table size - 1, table at BAR1+0, PBA at BAR1+0x800 (QEMU's
		// msix_init_exclusive_bar layout for few vectors).
		off, err := d.fn.AddCapability(capMSIX, 12)
		if err != nil {
			return nil, err
		}
		c := d.fn.Config()
		c[off+2] = byte(cfg.Vectors - 1)
		c[off+4] = 1 // table BIR 1, offset 0
		c[off+8] = byte(msixPBAOff&0xff | 1)
		c[off+9] = msixPBAOff >> 8
		d.fn.SetWritable(off+3, 0xc0) // MSI-X enable, function mask
		d.fn.SaveResetState()
	}
	if err := d.fn.SetBAR(2, pci.BAR{Kind: pci.BARMem64, Prefetch: true, Size: cfg.Mem.Size(), Dev: shmBAR{d}}); err != nil {
		return nil, err
	}
	// QEMU sets I/O and memory decoding at realize (ivshmem_common_realize),
	// but its system reset, which runs before the guest starts, clears the
	// writable command bits (hw/pci/pci.c pci_do_device_reset): a guest
	// sees Command = 0 and must enable memory decoding itself (Linux: the
	// sysfs "enable" file, as tests/linux does). pci.Function does the same.
	d.fn.SaveResetState()
	d.fn.OnReset = d.Reset
	return d, nil
}

// PCI returns the function, to attach to a pci.Host.
func (d *Device) PCI() *pci.Function { return d.fn }

// Memory returns the shared memory.
func (d *Device) Memory() *Memory { return d.mem }

// Reset is the system reset: registers to 0 (the memory keeps its
// contents: it belongs to the host file).
func (d *Device) Reset() {
	d.intrMask, d.intrStatus = 0, 0
	clear(d.msix[:])
	d.updateIRQ()
	if d.Audio != nil {
		d.Audio.Reset()
	}
}

func (d *Device) tracef(format string, args ...any) {
	if d.Trace != nil {
		d.Trace("ivshmem: "+format, args...)
	}
}

// Poll takes doorbells that arrived from peers (called on the emulation
// goroutine after every batch and wake-up).
func (d *Device) Poll() {
	if d.cfg.Bell == nil {
		return
	}
	bits := d.cfg.Bell.TakePending()
	if bits == 0 {
		return
	}
	d.Received++
	d.tracef("interrupt from peer, vectors %#x", bits)
	d.intrStatus |= bits
	d.updateIRQ()
}

// updateIRQ drives INTA (intx=on only) from IntrStatus & IntrMask.
func (d *Device) updateIRQ() {
	level := d.cfg.INTx && d.intrStatus&d.intrMask != 0
	if level != d.irq {
		d.irq = level
		d.fn.SetIRQ(level)
	}
}

// IRQ reports the INTx level (tests).
func (d *Device) IRQ() bool { return d.irq }

// regs is BAR0. QEMU implements 4-byte accesses only (impl.min/max
// access size 4) and its memory core passes narrower ones through with the
// original address, so (checked on QEMU 7.2 by guests/ivshmem):
// a narrow read returns the low bytes of the register when the address is
// a register's, and 0 (no side effect) otherwise; a narrow write stores its
// zero-extended value into the register at address & 0xfc. 8-byte
// accesses are split in two.
type regs struct{ d *Device }

func (r regs) Read(off uint64, size int) uint64 {
	if size == 8 {
		return r.Read(off, 4) | r.Read(off+4, 4)<<32
	}
	if off&3 != 0 {
		return 0
	}
	return uint64(r.d.readReg(off)) & (1<<(8*uint(size)) - 1)
}

func (r regs) Write(off uint64, size int, val uint64) {
	if size == 8 {
		r.Write(off, 4, val&0xffffffff)
		r.Write(off+4, 4, val>>32)
		return
	}
	r.d.writeReg(off&^3, uint32(val&(1<<(8*uint(size))-1)))
}

func (d *Device) readReg(off uint64) uint32 {
	var v uint32
	switch off {
	case RegIntrMask:
		v = d.intrMask
	case RegIntrStatus:
		v = d.intrStatus
		d.intrStatus = 0 // read-to-clear
		d.updateIRQ()
	case RegIVPosition:
		v = uint32(d.cfg.ID)
	}
	d.tracef("read %#x = %#x", off, v)
	return v
}

func (d *Device) writeReg(off uint64, v uint32) {
	d.tracef("write %#x <- %#x", off, v)
	switch off {
	case RegIntrMask:
		d.intrMask = v
		d.updateIRQ()
	case RegIntrStatus:
		d.intrStatus = v
		d.updateIRQ()
	case RegDoorbell:
		d.ring(int(v>>16), int(v&0xff))
	}
}

// ring sends a doorbell: bits 31:16 peer, 7:0 vector (QEMU ignores bits
// 15:8). Unknown peers or vectors, or a plain device, are ignored.
func (d *Device) ring(peer, vector int) {
	if d.cfg.Bell == nil {
		return
	}
	if err := d.cfg.Bell.Ring(peer, vector); err != nil {
		d.BadDoorbells++
		d.tracef("doorbell to peer %d vector %d: %v", peer, vector, err)
		return
	}
	d.Rung++
}

// msixBAR is BAR1: the MSI-X table (16 bytes per vector) and PBA. The guest
// may program it; with no MSI target on this board nothing is sent.
type msixBAR struct{ d *Device }

func (m msixBAR) Read(off uint64, size int) uint64 {
	if off >= MSIXBARSize || uint64(size) > MSIXBARSize-off {
		return 0
	}
	var v uint64
	for i := size - 1; i >= 0; i-- {
		v = v<<8 | uint64(m.d.msix[off+uint64(i)])
	}
	return v
}

func (m msixBAR) Write(off uint64, size int, val uint64) {
	// Only the table is writable; the PBA is read-only.
	if off >= uint64(m.d.cfg.Vectors)*16 || uint64(size) > uint64(m.d.cfg.Vectors)*16-off {
		return
	}
	for i := 0; i < size; i++ {
		m.d.msix[off+uint64(i)] = byte(val >> (8 * i))
	}
}

// shmBAR is BAR2: guest loads and stores go straight to the shared memory
// (bounds-checked by Memory). A store into the ring header wakes the
// audio player, which does not poll an idle ring on a deterministic clock.
type shmBAR struct{ d *Device }

func (b shmBAR) Read(off uint64, size int) uint64 { return b.d.mem.Read(off, size) }

func (b shmBAR) Write(off uint64, size int, val uint64) {
	b.d.mem.Write(off, size, val)
	if off < HeaderSize && b.d.Audio != nil {
		b.d.Audio.Kick()
	}
}
