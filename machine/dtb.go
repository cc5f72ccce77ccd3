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
	"zicntr", "zicsr", "zifencei", "sstc"}

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

// buildDTB writes the tree QEMU's virt builds (hw/riscv/virt.c
// create_fdt*), with the same node names, compatible strings and
// phandles, plus the riscv,isa-base/riscv,isa-extensions properties Linux
// 6.x prefers. rsv is a flat list of (address, size) pairs for the memory
// reservation block.
func (m *Machine) buildDTB(rsv []uint64, seed [32]byte, initrd bool, initrdStart, initrdEnd uint64) ([]byte, error) {
	root := fdt.NewNode("")
	root.SetU32("#address-cells", 2)
	root.SetU32("#size-cells", 2)
	root.SetString("compatible", "riscv-virtio")
	root.SetString("model", "riscv-virtio,qemu")

	chosen := root.AddNode("chosen")
	chosen.SetString("stdout-path", fmt.Sprintf("/soc/serial@%x", UARTBase))
	chosen.SetBytes("rng-seed", seed[:])
	if m.Config.Append != "" {
		chosen.SetString("bootargs", m.Config.Append)
	}
	if initrd {
		chosen.SetU64("linux,initrd-start", initrdStart)
		chosen.SetU64("linux,initrd-end", initrdEnd)
	}

	mem := root.AddNode(fmt.Sprintf("memory@%x", RAMBase))
	mem.SetString("device_type", "memory")
	mem.SetU64("reg", RAMBase, m.Config.RAMSize)

	cpus := root.AddNode("cpus")
	cpus.SetU32("#address-cells", 1)
	cpus.SetU32("#size-cells", 0)
	cpus.SetU32("timebase-frequency", TimebaseHz)
	cpu := cpus.AddNode("cpu@0")
	cpu.SetU32("phandle", PhandleCPU0)
	cpu.SetString("device_type", "cpu")
	cpu.SetU32("reg", 0)
	cpu.SetString("status", "okay")
	cpu.SetString("compatible", "riscv")
	cpu.SetString("riscv,isa", ISAString())
	cpu.SetString("riscv,isa-base", "rv64i")
	cpu.SetString("riscv,isa-extensions", isaExtensions...)
	cpu.SetString("mmu-type", "riscv,sv48")
	intc := cpu.AddNode("interrupt-controller")
	intc.SetU32("#address-cells", 0)
	intc.SetU32("#interrupt-cells", 1)
	intc.SetEmpty("interrupt-controller")
	intc.SetString("compatible", "riscv,cpu-intc")
	intc.SetU32("phandle", PhandleCPU0Intc)
	cm := cpus.AddNode("cpu-map").AddNode("cluster0").AddNode("core0")
	cm.SetU32("cpu", PhandleCPU0)

	// Linux's syscon-poweroff / syscon-reboot drivers act on the finisher.
	for _, x := range []struct {
		name string
		val  uint32
	}{{"poweroff", 0x5555}, {"reboot", 0x7777}} {
		n := root.AddNode(x.name)
		n.SetU32("value", x.val)
		n.SetU32("offset", 0)
		n.SetU32("regmap", PhandleTest)
		n.SetString("compatible", "syscon-"+x.name)
	}

	soc := root.AddNode("soc")
	soc.SetU32("#address-cells", 2)
	soc.SetU32("#size-cells", 2)
	soc.SetString("compatible", "simple-bus")
	soc.SetEmpty("ranges")

	n := soc.AddNode(fmt.Sprintf("rtc@%x", RTCBase))
	n.SetU32("interrupts", RTCIRQ)
	n.SetU32("interrupt-parent", PhandlePLIC)
	n.SetU64("reg", RTCBase, RTCSize)
	n.SetString("compatible", "google,goldfish-rtc")

	n = soc.AddNode(fmt.Sprintf("serial@%x", UARTBase))
	n.SetU32("interrupts", UARTIRQ)
	n.SetU32("interrupt-parent", PhandlePLIC)
	n.SetU32("clock-frequency", UARTClockHz)
	n.SetU64("reg", UARTBase, UARTSize)
	n.SetString("compatible", "ns16550a")

	n = soc.AddNode(fmt.Sprintf("test@%x", TestBase))
	n.SetU32("phandle", PhandleTest)
	n.SetU64("reg", TestBase, TestSize)
	n.SetString("compatible", "sifive,test1", "sifive,test0", "syscon")

	n = soc.AddNode(fmt.Sprintf("plic@%x", PLICBase))
	n.SetU32("phandle", PhandlePLIC)
	n.SetU32("riscv,ndev", 95) // sources 1..95
	n.SetU64("reg", PLICBase, PLICSize)
	// Context 0 = M external (cause 11), context 1 = S external (cause 9).
	n.SetU32("interrupts-extended", PhandleCPU0Intc, 11, PhandleCPU0Intc, 9)
	n.SetEmpty("interrupt-controller")
	n.SetString("compatible", "sifive,plic-1.0.0", "riscv,plic0")
	n.SetU32("#address-cells", 0)
	n.SetU32("#interrupt-cells", 1)

	n = soc.AddNode(fmt.Sprintf("clint@%x", CLINTBase))
	// M software (cause 3) and M timer (cause 7).
	n.SetU32("interrupts-extended", PhandleCPU0Intc, 3, PhandleCPU0Intc, 7)
	n.SetU64("reg", CLINTBase, CLINTSize)
	n.SetString("compatible", "sifive,clint0", "riscv,clint0")

	for _, fn := range m.fdtHooks {
		fn(root)
	}

	var res []fdt.Reservation
	for i := 0; i+1 < len(rsv); i += 2 {
		res = append(res, fdt.Reservation{Address: rsv[i], Size: rsv[i+1]})
	}
	b, err := root.Blob(res, 0)
	if err != nil {
		return nil, fmt.Errorf("machine: device tree: %w", err)
	}
	return b, nil
}
