package machine

import (
	"fmt"
	"slices"
	"strings"

	"gemu/qemuopt"
)

// deviceType is one -device model: its constructor and the properties it
// takes, which both check the user's options and print -device NAME,help.
type deviceType struct {
	category string // QEMU's -device help heading: "Sound devices", "Misc devices"
	bus      string // "PCI" or "virtio-bus"
	desc     string
	props    []prop
	add      func(m *Machine, o *qemuopt.Opts) error
}

// prop is one -device property, with QEMU's type name.
type prop struct{ name, typ, help string }

// Properties several device types share.
var (
	propID       = prop{"id", "str", "device name"}
	propPCIAddr  = prop{"addr", "int32", "Slot and optional function number, example: 06.0 or 06"}
	propPCIBus   = prop{"bus", "str", "the PCI bus (pcie.0, the only one)"}
	propAudiodev = prop{"audiodev", "str", "ID of an audiodev to use as a backend"}
)

// deviceTypes are the -device models, by QEMU's name (exact and
// case-sensitive, as in QEMU).
var deviceTypes = map[string]deviceType{
	"AC97": {"Sound devices", "PCI", "Intel 82801AA AC97 Audio",
		[]prop{propAudiodev, propPCIAddr, propID, propPCIBus}, addAC97},
	"virtio-sound-device": {"Sound devices", "virtio-bus", "Virtio Sound",
		append([]prop{propAudiodev, {"bus", "str", "virtio-mmio-bus.N (0..7; default: the highest free slot)"}, propID}, soundProps...), addVirtioSound},
	"virtio-sound-pci": {"Sound devices", "PCI", "Virtio Sound",
		append([]prop{propAudiodev, propPCIAddr, propID, propPCIBus,
			{"vectors", "uint32", "MSI-X vectors (default 2; the board has no MSI controller)"}}, soundProps...), addVirtioSoundPCI},
	"virtio-blk-device": {"Storage devices", "virtio-bus", "Virtio Block",
		append([]prop{{"bus", "str", "virtio-mmio-bus.N (0..7; default: the highest free slot)"}, propID}, blkProps...), addVirtioBlk},
	"virtio-blk-pci": {"Storage devices", "PCI", "Virtio Block",
		append([]prop{propPCIAddr, propID, propPCIBus,
			{"vectors", "uint32", "MSI-X vectors (default 2; the board has no MSI controller)"}}, blkProps...), addVirtioBlkPCI},
	"ivshmem-plain": {"Misc devices", "PCI", "Inter-VM shared memory",
		[]prop{{"memdev", "link<memory-backend>", "ID of the -object memory-backend-* to share"},
			{"master", "bool", "accepted, no effect (no migration)"},
			propAudiodev, {"ring", "str", "gemu: audio ring layout, gemu (default) or scream"},
			propPCIAddr, propID, propPCIBus}, addIvshmemPlain},
	"ivshmem-doorbell": {"Misc devices", "PCI", "Inter-VM shared memory",
		[]prop{{"chardev", "str", "ID of a -chardev socket connected to an ivshmem-server"},
			{"vectors", "uint32", "number of MSI-X vectors (default 1)"},
			{"ioeventfd", "bool", "accepted, no effect (KVM tuning)"},
			{"master", "bool", "accepted, no effect (no migration)"},
			{"intx", "bool", "gemu: INTA asserted while IntrStatus & IntrMask"},
			propAudiodev, {"ring", "str", "gemu: audio ring layout, gemu (default) or scream"},
			propPCIAddr, propID, propPCIBus}, addIvshmemDoorbell},
}

// addDevice creates one -device after checking its properties.
func (m *Machine) addDevice(o *qemuopt.Opts) error {
	name, _ := o.Get("driver")
	t, ok := deviceTypes[name]
	if !ok {
		return o.Errorf("unknown device %q (known: %s; -device help lists them)", name, strings.Join(DeviceNames(), ", "))
	}
	m.applyGlobals(name, o)
	known := []string{"driver"}
	for _, p := range t.props {
		known = append(known, p.name)
	}
	if err := o.Check(known...); err != nil {
		return err
	}
	return t.add(m, o)
}

// DeviceNames returns the -device names, sorted.
func DeviceNames() []string {
	var names []string
	for n := range deviceTypes {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// DeviceHelp is what -device help prints: QEMU's layout
// (softmmu/qdev-monitor.c qdev_print_devinfo), grouped by category.
func DeviceHelp() string {
	var b strings.Builder
	cats := map[string][]string{}
	var order []string
	for _, n := range DeviceNames() {
		c := deviceTypes[n].category
		if cats[c] == nil {
			order = append(order, c)
		}
		cats[c] = append(cats[c], n)
	}
	slices.Sort(order)
	for i, c := range order {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s:\n", c)
		for _, n := range cats[c] {
			t := deviceTypes[n]
			fmt.Fprintf(&b, "name %q, bus %s, desc %q\n", n, t.bus, t.desc)
		}
	}
	return b.String()
}

// DevicePropsHelp is what -device NAME,help prints: "NAME options:" and one
// property a line, sorted, as QEMU's qdev_device_help and
// qom/object_interfaces.c object_property_help lay them out.
func DevicePropsHelp(name string) (string, error) {
	t, ok := deviceTypes[name]
	if !ok {
		return "", fmt.Errorf("-device %s,help: unknown device %q (known: %s)", name, name, strings.Join(DeviceNames(), ", "))
	}
	var lines []string
	for _, p := range t.props {
		lines = append(lines, propHelp(p.name, p.typ, p.help))
	}
	slices.Sort(lines)
	return name + " options:\n" + strings.Join(lines, "\n") + "\n", nil
}

// propHelp lays out one property as object_property_help does:
// "  name=<type>", padded to 24 columns, " - ", the description.
func propHelp(name, typ, help string) string {
	s := fmt.Sprintf("  %s=<%s>", name, typ)
	if help == "" {
		return s
	}
	return fmt.Sprintf("%-24s - %s", s, help)
}
