package machine

import (
	"fmt"
	"strconv"
	"strings"

	"gemu/bus"
	"gemu/devices/virtio"
	"gemu/machine/fdt"
	"gemu/qemuopt"
)

// The eight virtio-mmio slots of virt (0x10001000 + n*0x1000, PLIC source
// 1+n) and the devices that plug into them: -device virtio-sound-device
// (QEMU 8.2+'s name for the mmio variant of virtio-sound) and -device
// virtio-blk-device (machine/drive.go).
//
// Every slot has the legacy interface (virtio-mmio version 1) unless
// -global virtio-mmio.force-legacy=off (or false) asks for version 2, as on
// QEMU's virt board. Linux's virtio_snd refuses a legacy device ("does not
// comply with spec version 1.x"), so Linux guests with virtio-sound need
// the global on QEMU and on gemu alike.
//
// As on QEMU, every slot exists and is in the device tree even when empty;
// an empty slot reads the virtio magic with device ID 0, which drivers skip.
// A device goes into the slot its bus=virtio-mmio-bus.N option names, or
// else into the free slot QEMU would pick: QEMU's bus search meets the
// slots newest first, so the first device lands in slot 7 (0x10008000),
// the next in slot 6, and so on. Bare-metal guests that hard-code slot 0
// (xv6) pass bus=virtio-mmio-bus.0, as they must on QEMU.

// virtioSlot is one slot's MMIO window; the transport behind it is
// replaced when a device is plugged in.
type virtioSlot struct {
	t    *virtio.MMIO
	used bool
}

func (s *virtioSlot) Read(off uint64, size int) uint64     { return s.t.Read(off, size) }
func (s *virtioSlot) Write(off uint64, size int, v uint64) { s.t.Write(off, size, v) }

// VirtioSlot returns the transport in slot n (0..7), for tests and
// debuggers, or nil.
func (m *Machine) VirtioSlot(n int) *virtio.MMIO {
	if n < 0 || n >= len(m.virtio) {
		return nil
	}
	return m.virtio[n].t
}

func (m *Machine) addVirtioSlots() error {
	for i := range m.virtio {
		s := &virtioSlot{t: virtio.NewMMIO(m.Bus, bus.IRQ{C: m.PLIC, N: VirtioIRQ + i}, nil)}
		s.t.SetLegacy(m.virtioLegacy)
		m.virtio[i] = s
		base := uint64(VirtioBase + i*VirtioStride)
		if err := m.Bus.Map(base, VirtioStride, s, fmt.Sprintf("virtio-mmio.%d", i)); err != nil {
			return err
		}
	}
	m.AddFDTNode(func(root *fdt.Node) {
		soc := root.Lookup("/soc")
		if soc == nil {
			soc = root
		}
		// QEMU 7.2's create_fdt_virtio: same names and properties; its
		// dump lists the slots from the highest address down.
		for i := VirtioCount - 1; i >= 0; i-- {
			base := uint64(VirtioBase + i*VirtioStride)
			n := soc.AddNode(fmt.Sprintf("virtio_mmio@%x", base))
			n.SetU32("interrupts", uint32(VirtioIRQ+i))
			n.SetU32("interrupt-parent", m.PhandlePLIC())
			n.SetU64("reg", base, VirtioStride)
			n.SetString("compatible", "virtio,mmio")
		}
	})
	return nil
}

// plugVirtio puts dev into the slot named by bus=virtio-mmio-bus.N, or the
// free slot QEMU would choose, and returns its transport.
func (m *Machine) plugVirtio(o *qemuopt.Opts, dev virtio.Device) (*virtio.MMIO, int, error) {
	slots := m.virtio[:]
	n := -1
	if b, ok := o.Get("bus"); ok {
		v, err := strconv.Atoi(strings.TrimPrefix(b, "virtio-mmio-bus."))
		if !strings.HasPrefix(b, "virtio-mmio-bus.") || err != nil || v < 0 || v >= len(slots) {
			return nil, 0, o.Errorf("bus=%s: want virtio-mmio-bus.N with N in 0..%d", b, len(slots)-1)
		}
		if slots[v].used {
			return nil, 0, o.Errorf("bus %s already holds a device", b)
		}
		n = v
	} else {
		for i := len(slots) - 1; i >= 0; i-- {
			if !slots[i].used {
				n = i
				break
			}
		}
		if n < 0 {
			return nil, 0, o.Errorf("all %d virtio-mmio slots are in use", len(slots))
		}
	}
	t := virtio.NewMMIO(m.Bus, bus.IRQ{C: m.PLIC, N: VirtioIRQ + n}, dev)
	t.SetLegacy(m.virtioLegacy)
	t.Trace = bus.TraceFunc(m.Tracer("virtio")).Prefix("slot %d: ", n)
	t.GuestErrors = m.GuestError(fmt.Sprintf("virtio-mmio.%d", n))
	slots[n].t, slots[n].used = t, true
	return t, n, nil
}

// addVirtioSound is `-device virtio-sound-device,audiodev=ID[,bus=virtio-mmio-bus.N]`.
func addVirtioSound(m *Machine, o *qemuopt.Opts) error {
	d, err := m.newSound(o)
	if err != nil {
		return err
	}
	if _, _, err := m.plugVirtio(o, d); err != nil {
		return err
	}
	return nil
}
