package pci

// Device-tree properties of the host bridge node, as QEMU's virt board writes
// them (hw/riscv/virt.c create_fdt_pcie, create_pcie_irq_map) and as the
// kernel's pci-host-ecam-generic binding expects (Documentation/devicetree/
// bindings/pci/host-generic-pci.yaml). The machine package turns them into
// a node named pci@30000000.

// Compatible is the node's compatible string.
const Compatible = "pci-host-ecam-generic"

// Space codes in the first cell of a PCI address (IEEE 1275 PCI binding,
// phys.hi: ss field).
const (
	spaceIO    = 0x0100_0000
	spaceMem32 = 0x0200_0000
	spaceMem64 = 0x0300_0000
)

// Ranges returns the "ranges" cells (#address-cells 3 on the child side, 2
// on the parent, #size-cells 2): I/O window, 32-bit window, 64-bit window.
func (h *Host) Ranges() []uint32 {
	hi, lo := uint32(h.highBase>>32), uint32(h.highBase)
	return []uint32{
		spaceIO, 0, 0, 0, PIOBase, 0, PIOSize,
		spaceMem32, 0, MMIOBase, 0, MMIOBase, 0, MMIOSize,
		spaceMem64, hi, lo, hi, lo, HighMMIOSize >> 32, HighMMIOSize & 0xffffffff,
	}
}

// Reg returns the "reg" cells of the ECAM window.
func Reg() []uint32 { return []uint32{0, ECAMBase, 0, ECAMSize} }

// BusRange returns the "bus-range" cells.
func BusRange() []uint32 { return []uint32{0, 0xff} }

// InterruptMapMask returns "interrupt-map-mask": the device number bits of
// phys.hi and the pin.
func InterruptMapMask() []uint32 { return []uint32{0x1800, 0, 0, 7} }

// InterruptMap returns the "interrupt-map" for a PLIC with one interrupt
// cell: for each of 4 slots (the mask repeats every 4) and pins INTA..INTD,
// child address (slot<<11, 0, 0), pin, PLIC phandle, source.
func InterruptMap(plicPhandle uint32) []uint32 {
	var m []uint32
	for slot := 0; slot < NumIRQs; slot++ {
		for pin := uint8(1); pin <= 4; pin++ {
			m = append(m, uint32(slot)<<11, 0, 0, uint32(pin), plicPhandle, uint32(IRQFor(slot, pin)))
		}
	}
	return m
}
