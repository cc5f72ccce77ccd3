package machine

import (
	"fmt"
	"strconv"
	"strings"

	"gemu/devices/pci"
	"gemu/machine/fdt"
	"gemu/qemuopt"
)

// The PCIe host bridge is part of every virt board, as in QEMU: ECAM at
// 0x30000000, I/O window at 0x03000000, 32-bit window at 0x40000000, the
// 64-bit window above RAM, INTA..INTD on PLIC sources 32..35 swizzled by
// slot (devices/pci). -device models that are PCI functions attach with
// m.attachPCI, at the slot their addr= option names.

func (m *Machine) addPCIHost() error {
	h := pci.NewHost(m.Bus, m.PLIC)
	h.GuestError = m.GuestError("pci")
	if err := h.Map(); err != nil {
		return err
	}
	m.PCI = h
	m.AddFDTNode(func(root *fdt.Node) {
		soc := root.Lookup("/soc")
		if soc == nil {
			soc = root
		}
		// Properties and order as QEMU 7.2 writes them (create_fdt_pcie).
		n := soc.AddNode(fmt.Sprintf("pci@%x", pci.ECAMBase))
		n.SetU32("interrupt-map-mask", pci.InterruptMapMask()...)
		n.SetU32("interrupt-map", pci.InterruptMap(m.PhandlePLIC())...)
		n.SetU32("ranges", h.Ranges()...)
		n.SetU32("reg", pci.Reg()...)
		n.SetEmpty("dma-coherent")
		n.SetU32("bus-range", pci.BusRange()...)
		n.SetU32("linux,pci-domain", 0)
		n.SetString("device_type", "pci")
		n.SetString("compatible", pci.Compatible)
		n.SetU32("#size-cells", 2)
		n.SetU32("#interrupt-cells", 1)
		n.SetU32("#address-cells", 3)
	})
	return nil
}

// attachPCI plugs f into the slot named by the device's addr= option (QEMU's
// syntax: SLOT or SLOT.FN in hex, e.g. addr=5, addr=0x1f, addr=03.0), or the
// first free slot.
func (m *Machine) attachPCI(o *qemuopt.Opts, f *pci.Function) error {
	if b, ok := o.Get("bus"); ok && b != "pcie.0" {
		return o.Errorf("bus=%s: the only PCI bus is pcie.0", b)
	}
	slot, fn := -1, 0
	if a, ok := o.Get("addr"); ok {
		var err error
		slot, fn, err = parsePCIAddr(a)
		if err != nil {
			return o.Errorf("%v", err)
		}
	}
	if _, err := m.PCI.Attach(slot, fn, f); err != nil {
		return o.Errorf("%v", err)
	}
	if tr := m.Tracer("pci"); tr != nil {
		name := o.String("driver", "")
		prev := f.OnConfigWrite
		f.OnConfigWrite = func(off, size int, val uint32) {
			tr("pci %02x.%d %s: config[%#x]/%d <- %#x", f.Slot(), fn, name, off, size, val)
			if prev != nil {
				prev(off, size, val)
			}
		}
	}
	return nil
}

func parsePCIAddr(s string) (slot, fn int, err error) {
	bad := fmt.Errorf("addr=%s: want SLOT or SLOT.FN in hex (slot 0..1f, function 0..7)", s)
	sl, f, hasFn := strings.Cut(s, ".")
	sl = strings.TrimPrefix(strings.TrimPrefix(sl, "0x"), "0X")
	v, e := strconv.ParseUint(sl, 16, 8)
	if e != nil || v >= pci.NumSlots {
		return 0, 0, bad
	}
	slot = int(v)
	if hasFn {
		w, e := strconv.ParseUint(f, 16, 8)
		if e != nil || w > 7 {
			return 0, 0, bad
		}
		fn = int(w)
	}
	return slot, fn, nil
}
