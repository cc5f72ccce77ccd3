package machine

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strings"

	"gemu/machine/fdt"
)

// ISA extensions the hart implements, in the canonical order of the
// unprivileged spec's "ISA Extension Naming Conventions" chapter: single
// letters in IMAFDC order, then Z extensions ordered by their category
// letter (all of these are 'i') and alphabetically within it, then S
// extensions.
var isaExtensions = []string{"i", "m", "a", "f", "d", "c",
	"zicntr", "zicsr", "zifencei", "zihintpause", "sstc"}

// ISAString is the riscv,isa property: "rv64imafdc_zicntr_zicsr_...".
func ISAString() string {
	var single, multi []string
	for _, e := range isaExtensions {
		if len(e) == 1 {
			single = append(single, e)
		} else {
			multi = append(multi, e)
		}
	}
	return "rv64" + strings.Join(single, "") + "_" + strings.Join(multi, "_")
}

// seed returns the /chosen/rng-seed bytes: random in real-time mode, fixed
// in deterministic mode so that runs repeat exactly (Linux mixes the seed
// into its entropy pool).
func (m *Machine) seed() [32]byte {
	if m.Config.Deterministic {
		return sha256.Sum256([]byte("gemu deterministic rng-seed"))
	}
	var s [32]byte
	if _, err := rand.Read(s[:]); err != nil {
		return sha256.Sum256([]byte(err.Error()))
	}
	return s
}

// buildDTB writes the tree QEMU 7.2's virt builds (hw/riscv/virt.c
// create_fdt*), node for node: the same node names, properties, values,
// phandles and order, so `dtc -I dtb -O dts` of gemu's and QEMU's
// `-machine virt,dumpdtb=FILE` differ only in the nodes of devices gemu
// lacks (pmu, fw-cfg, flash), the riscv,isa string (what gemu implements)
// and the random rng-seed. TestDTBMatchesQEMU checks it.
//
// QEMU builds the tree with libfdt, whose fdt_add_subnode and fdt_setprop
// insert a new node or property before its siblings, so QEMU's blob lists
// them in the reverse of the order virt.c creates them; the order here is
// the blob's. The memory reservation block stays empty, as QEMU's: the
// firmware protects and reserves its own memory (OpenSBI adds a
// /reserved-memory node).
func (m *Machine) buildDTB(seed [32]byte, initrd bool, initrdStart, initrdEnd uint64) ([]byte, error) {
	nh := len(m.Harts)
	root := fdt.NewNode("")
	root.SetU32("#address-cells", 2)
	root.SetU32("#size-cells", 2)
	root.SetString("compatible", "riscv-virtio")
	root.SetString("model", "riscv-virtio,qemu")

	chosen := root.AddNode("chosen")
	if initrd {
		// QEMU 7.2 writes one cell each (qemu_fdt_setprop_cell); the
		// initrd always ends below 4 GiB (under the tree, which sits
		// below 3 GiB), but a larger value keeps its 64 bits.
		for _, p := range []struct {
			name string
			v    uint64
		}{{"linux,initrd-end", initrdEnd}, {"linux,initrd-start", initrdStart}} {
			if p.v>>32 == 0 {
				chosen.SetU32(p.name, uint32(p.v))
			} else {
				chosen.SetU64(p.name, p.v)
			}
		}
	}
	chosen.SetBytes("rng-seed", seed[:])
	if m.Config.Append != "" {
		chosen.SetString("bootargs", m.Config.Append)
	}
	chosen.SetString("stdout-path", fmt.Sprintf("/soc/serial@%x", UARTBase))

	// Linux's syscon-poweroff / syscon-reboot drivers act on the finisher.
	for _, x := range []struct {
		name string
		val  uint32
	}{{"poweroff", 0x5555}, {"reboot", 0x7777}} {
		n := root.AddNode(x.name)
		n.SetU32("value", x.val)
		n.SetU32("offset", 0)
		n.SetU32("regmap", m.PhandleTest())
		n.SetString("compatible", "syscon-"+x.name)
	}

	// QEMU's dynamic sysbus (platform bus): empty, since gemu plugs no
	// device into it, but present as in QEMU's tree.
	pb := root.AddNode(fmt.Sprintf("platform-bus@%x", PlatformBusBase))
	pb.SetU32("interrupt-parent", m.PhandlePLIC())
	pb.SetU32("ranges", 0, 0, PlatformBusBase, PlatformBusSize)
	pb.SetU32("#address-cells", 1)
	pb.SetU32("#size-cells", 1)
	pb.SetString("compatible", "qemu,platform", "simple-bus")

	mem := root.AddNode(fmt.Sprintf("memory@%x", RAMBase))
	mem.SetString("device_type", "memory")
	mem.SetU64("reg", RAMBase, m.Config.RAMSize)

	cpus := root.AddNode("cpus")
	cpus.SetU32("#address-cells", 1)
	cpus.SetU32("#size-cells", 0)
	cpus.SetU32("timebase-frequency", TimebaseHz)
	for id := range nh {
		cpu := cpus.AddNode(fmt.Sprintf("cpu@%d", id))
		cpu.SetU32("phandle", m.phandleCPU(id))
		cpu.SetString("device_type", "cpu")
		cpu.SetU32("reg", uint32(id))
		cpu.SetString("status", "okay")
		cpu.SetString("compatible", "riscv")
		cpu.SetString("riscv,isa", ISAString())
		cpu.SetString("mmu-type", "riscv,sv48")
		intc := cpu.AddNode("interrupt-controller")
		intc.SetU32("#interrupt-cells", 1)
		intc.SetEmpty("interrupt-controller")
		intc.SetString("compatible", "riscv,cpu-intc")
		intc.SetU32("phandle", m.phandleIntc(id))
	}
	// One cluster (one socket), a core per hart: QEMU 7.2's
	// create_fdt_socket names them core<index in the socket>.
	cluster := cpus.AddNode("cpu-map").AddNode("cluster0")
	for id := range nh {
		cluster.AddNode(fmt.Sprintf("core%d", id)).SetU32("cpu", m.phandleCPU(id))
	}

	soc := root.AddNode("soc")
	soc.SetU32("#address-cells", 2)
	soc.SetU32("#size-cells", 2)
	soc.SetString("compatible", "simple-bus")
	soc.SetEmpty("ranges")

	n := soc.AddNode(fmt.Sprintf("rtc@%x", RTCBase))
	n.SetU32("interrupts", RTCIRQ)
	n.SetU32("interrupt-parent", m.PhandlePLIC())
	n.SetU64("reg", RTCBase, RTCSize)
	n.SetString("compatible", "google,goldfish-rtc")

	n = soc.AddNode(fmt.Sprintf("serial@%x", UARTBase))
	n.SetU32("interrupts", UARTIRQ)
	n.SetU32("interrupt-parent", m.PhandlePLIC())
	n.SetU32("clock-frequency", UARTClockHz)
	n.SetU64("reg", UARTBase, UARTSize)
	n.SetString("compatible", "ns16550a")

	n = soc.AddNode(fmt.Sprintf("test@%x", TestBase))
	n.SetU32("phandle", m.PhandleTest())
	n.SetU64("reg", TestBase, TestSize)
	n.SetString("compatible", "sifive,test1", "sifive,test0", "syscon")

	// The PCIe host and the virtio-mmio slots come here (their hooks),
	// then the PLIC and the CLINT, which virt.c creates first.
	for _, fn := range m.fdtHooks {
		fn(root)
	}

	var plicInts, clintInts []uint32
	for id := range nh {
		ic := m.phandleIntc(id)
		// Context 2h = M external (cause 11), 2h+1 = S external (9);
		// M software (3) and M timer (7) from the CLINT.
		plicInts = append(plicInts, ic, 11, ic, 9)
		clintInts = append(clintInts, ic, 3, ic, 7)
	}
	n = soc.AddNode(fmt.Sprintf("plic@%x", PLICBase))
	n.SetU32("phandle", m.PhandlePLIC())
	// QEMU writes VIRT_IRQCHIP_NUM_SOURCES (96), counting source 0.
	n.SetU32("riscv,ndev", PLICSources)
	n.SetU64("reg", PLICBase, PLICSize)
	n.SetU32("interrupts-extended", plicInts...)
	n.SetEmpty("interrupt-controller")
	n.SetString("compatible", "sifive,plic-1.0.0", "riscv,plic0")
	n.SetU32("#address-cells", 0)
	n.SetU32("#interrupt-cells", 1)

	n = soc.AddNode(fmt.Sprintf("clint@%x", CLINTBase))
	n.SetU32("interrupts-extended", clintInts...)
	n.SetU64("reg", CLINTBase, CLINTSize)
	n.SetString("compatible", "sifive,clint0", "riscv,clint0")

	b, err := root.Blob(nil, 0)
	if err != nil {
		return nil, fmt.Errorf("machine: device tree: %w", err)
	}
	return b, nil
}

// Phandles are numbered as QEMU 7.2's virt numbers them (create_fdt_socket
// walks the harts from the last down, giving each cpu node and then its
// interrupt controller the next phandle; the PLIC and the test device
// follow): with N harts, cpu@i is 2(N-1-i)+1, its interrupt controller
// 2(N-1-i)+2, the PLIC 2N+1 and the test device 2N+2.
func (m *Machine) phandleCPU(id int) uint32  { return uint32(2*(len(m.Harts)-1-id) + 1) }
func (m *Machine) phandleIntc(id int) uint32 { return m.phandleCPU(id) + 1 }

// PhandlePLIC is the PLIC's phandle, the interrupt-parent of device nodes.
func (m *Machine) PhandlePLIC() uint32 { return uint32(2*len(m.Harts) + 1) }

// PhandleTest is the finisher's phandle (the poweroff/reboot regmap).
func (m *Machine) PhandleTest() uint32 { return uint32(2*len(m.Harts) + 2) }
