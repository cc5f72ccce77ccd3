package machine

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"gemu/devices/block"
	"gemu/devices/virtio"
	"gemu/qemuopt"
)

// Block storage and global properties: -drive, -blockdev, -snapshot,
// -device virtio-blk-device and virtio-blk-pci, and -global.
//
// -drive file=F[,if=none|virtio][,format=raw][,id=ID][,readonly=on]
// [,snapshot=on][,cache=MODE][,addr=SLOT] opens an image (package
// devices/block). As on QEMU 7.2's virt board, if=none only defines the
// drive for a -device virtio-blk-device,drive=ID or virtio-blk-pci,drive=ID;
// if=virtio also creates a virtio-blk-pci for it (at addr=, else the first
// free slot) after every -device, as QEMU's drive_new appends its device
// to the -device list; the default interface (ide) has no controller on
// virt, so the drive stays unused (QEMU says nothing either).
//
// -blockdev driver=file,node-name=N,filename=F[,read-only=on] and
// -blockdev driver=raw,node-name=N,file=M|file.driver=file,file.filename=F
// define the same thing in QEMU's newer syntax; drive= names the node.
//
// -global DRIVER.PROP=VALUE sets a default property of every DRIVER:
// virtio-mmio.force-legacy (the transports' interface: legacy by default,
// as QEMU's virt board) and the properties -device DRIVER,help lists.

// drive is one -drive or -blockdev node.
type drive struct {
	id   string
	img  *block.File
	opts *qemuopt.Opts
	used bool
}

// global is one -global DRIVER.PROP=VALUE.
type global struct {
	driver, prop, value string
	opts                *qemuopt.Opts
}

// machineGlobals are the -global properties of devices the board itself
// creates (not through -device).
var machineGlobals = map[string][]prop{
	"virtio-mmio": {{"force-legacy", "bool", "legacy (version 1) interface; default on, as QEMU's virt"}},
}

// addGlobals checks every -global and records it.
func (m *Machine) addGlobals() error {
	m.virtioLegacy = true
	for _, o := range m.Config.Globals {
		g := global{driver: o.String("driver", ""), prop: o.String("property", ""), opts: o}
		g.value, _ = o.Get("value")
		if err := o.Check("driver", "property", "value"); err != nil {
			return err
		}
		if g.driver == "" || g.prop == "" {
			return o.Errorf("want DRIVER.PROPERTY=VALUE or driver=D,property=P,value=V")
		}
		var props []prop
		if p, ok := machineGlobals[g.driver]; ok {
			props = p
		} else if t, ok := deviceTypes[g.driver]; ok {
			props = t.props
		} else {
			return o.Errorf("gemu has no global properties for %q (it has: %s)", g.driver, globalNames())
		}
		i := slices.IndexFunc(props, func(p prop) bool { return p.name == g.prop && p.name != "id" })
		if i < 0 {
			var names []string
			for _, p := range props {
				if p.name != "id" {
					names = append(names, p.name)
				}
			}
			// QEMU: "can't apply global D.P=V: Property 'D.P' not found".
			return o.Errorf("can't apply global %s.%s=%s: property '%s.%s' not found (known: %s)",
				g.driver, g.prop, g.value, g.driver, g.prop, strings.Join(names, ", "))
		}
		if props[i].typ == "bool" {
			if _, err := qemuopt.ParseBool(g.value); err != nil {
				return o.Errorf("can't apply global %s.%s=%s: parameter '%s' expects 'on' or 'off'", g.driver, g.prop, g.value, g.prop)
			}
		}
		if g.driver == "virtio-mmio" && g.prop == "force-legacy" {
			m.virtioLegacy, _ = qemuopt.ParseBool(g.value)
		}
		m.globals = append(m.globals, g)
	}
	return nil
}

func globalNames() string {
	var names []string
	for d, ps := range machineGlobals {
		for _, p := range ps {
			names = append(names, d+"."+p.name)
		}
	}
	slices.Sort(names)
	return strings.Join(names, ", ") + " and the -device properties"
}

// applyGlobals adds the -global defaults for a -device's type to o where
// the -device line does not set them itself (QEMU's object_apply_globals).
func (m *Machine) applyGlobals(name string, o *qemuopt.Opts) {
	for _, g := range m.globals {
		if g.driver == name && !o.Has(g.prop) {
			o.Items = append(o.Items, qemuopt.Item{Key: g.prop, Value: g.value})
		}
	}
}

func warn(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "gemu: warning: "+format+"\n", args...)
}

// addDrives opens every -drive and -blockdev image.
func (m *Machine) addDrives() error {
	m.drives = map[string]*drive{}
	add := func(d *drive) error {
		if m.drives[d.id] != nil {
			d.img.Close()
			return d.opts.Errorf("duplicate ID '%s' for drive", d.id)
		}
		m.drives[d.id] = d
		m.AtExit(d.img.Close)
		return nil
	}
	blockWarn := func(s string) { fmt.Fprintf(os.Stderr, "gemu: warning: %s\n", s) }
	for i, o := range m.Config.Drives {
		if err := o.Check("file", "if", "format", "id", "readonly", "snapshot", "cache",
			"media", "aio", "discard", "detect-zeroes", "werror", "rerror", "index", "addr"); err != nil {
			return err
		}
		opt := block.Options{File: o.String("file", ""), Format: o.String("format", ""),
			Cache: o.String("cache", ""), Warn: blockWarn}
		var err error
		if opt.ReadOnly, err = o.Bool("readonly", false); err != nil {
			return err
		}
		if opt.Snapshot, err = o.Bool("snapshot", m.Config.Snapshot); err != nil {
			return err
		}
		if media := o.String("media", "disk"); media != "disk" {
			return o.Errorf("media=%s: gemu has disks only", media)
		}
		iface := o.String("if", "ide")
		id := o.String("id", "")
		switch iface {
		case "none":
			if id == "" {
				// QEMU names it none0, none1, ... (blockdev.c drive_new).
				id = fmt.Sprintf("none%d", i)
			}
		case "virtio":
			if id == "" {
				// QEMU: virtio0, virtio1, ... (drive_new, unit ids of
				// an interface without buses).
				id = fmt.Sprintf("virtio%d", len(m.driveDevices))
			}
			dev := "virtio-blk-pci,drive=" + id
			if a, ok := o.Get("addr"); ok {
				dev += ",addr=" + a
			}
			d, err := qemuopt.ParseFlag("-device", dev)
			if err != nil {
				return o.Errorf("%v", err)
			}
			m.driveDevices = append(m.driveDevices, d)
		case "ide", "scsi", "sd", "mtd", "pflash", "floppy":
			warn("%s: the virt board has no %s controller; the drive is not attached (QEMU ignores it too)", o.Raw, iface)
			if id == "" {
				id = fmt.Sprintf("%s%d", iface, i)
			}
		default:
			return o.Errorf("invalid if option %q", iface)
		}
		if opt.File == "" {
			return o.Errorf("no file= (gemu has no removable media)")
		}
		img, err := block.Open(opt)
		if err != nil {
			return o.Errorf("%v", err)
		}
		if err := add(&drive{id: id, img: img, opts: o}); err != nil {
			return err
		}
	}
	return m.addBlockdevs(add, blockWarn)
}

// addBlockdevs opens -blockdev nodes: a file node, or a raw node on a
// file node (named, or nested as file.driver=file,file.filename=F).
func (m *Machine) addBlockdevs(add func(*drive) error, blockWarn func(string)) error {
	files := map[string]block.Options{}
	var raws []*qemuopt.Opts
	for _, o := range m.Config.Blockdevs {
		node := o.String("node-name", "")
		if node == "" {
			return o.Errorf("parameter 'node-name' is missing (gemu needs it to find the node)")
		}
		opt, err := blockdevOptions(o, "")
		if err != nil {
			return err
		}
		switch drv := o.String("driver", ""); drv {
		case "file", "host_device":
			if opt.File = o.String("filename", ""); opt.File == "" {
				return o.Errorf("parameter 'filename' is missing")
			}
			files[node] = opt
		case "raw":
			raws = append(raws, o)
		case "qcow2":
			return o.Errorf("driver=qcow2: gemu reads raw images only (convert with qemu-img convert -O raw)")
		default:
			return o.Errorf("driver=%s: gemu's block drivers are file, host_device and raw", drv)
		}
		if err := o.Check("driver", "node-name", "filename", "file", "file.driver", "file.filename",
			"read-only", "auto-read-only", "cache.direct", "cache.no-flush", "discard", "detect-zeroes", "locking"); err != nil {
			return err
		}
	}
	for _, o := range raws {
		node := o.String("node-name", "")
		opt, _ := blockdevOptions(o, "")
		if ref, ok := o.Get("file"); ok {
			f, ok := files[ref]
			if !ok {
				return o.Errorf("cannot find device='' nor node-name='%s'", ref)
			}
			delete(files, ref)
			f.ReadOnly = f.ReadOnly || opt.ReadOnly
			opt = f
		} else {
			if d := o.String("file.driver", "file"); d != "file" && d != "host_device" {
				return o.Errorf("file.driver=%s: only file", d)
			}
			if opt.File = o.String("file.filename", ""); opt.File == "" {
				return o.Errorf("parameter 'file' is missing")
			}
		}
		opt.Format = "raw"
		opt.Warn = blockWarn
		img, err := block.Open(opt)
		if err != nil {
			return o.Errorf("%v", err)
		}
		if err := add(&drive{id: node, img: img, opts: o}); err != nil {
			return err
		}
	}
	for _, o := range m.Config.Blockdevs {
		node := o.String("node-name", "")
		opt, ok := files[node]
		if !ok {
			continue
		}
		// A bare file node: QEMU lets a device use it directly (as raw,
		// without format probing).
		opt.Format = "raw"
		img, err := block.Open(opt)
		if err != nil {
			return o.Errorf("%v", err)
		}
		if err := add(&drive{id: node, img: img, opts: o}); err != nil {
			return err
		}
	}
	return nil
}

// blockdevOptions reads read-only and the cache options of a -blockdev.
func blockdevOptions(o *qemuopt.Opts, prefix string) (block.Options, error) {
	var opt block.Options
	var err error
	if opt.ReadOnly, err = o.Bool(prefix+"read-only", false); err != nil {
		return opt, err
	}
	noFlush, err := o.Bool(prefix+"cache.no-flush", false)
	if err != nil {
		return opt, err
	}
	if noFlush {
		opt.Cache = "unsafe"
	}
	return opt, nil
}

// blkProps are the properties of both virtio block devices (QEMU 7.2
// hw/block/virtio-blk.c virtio_blk_properties, the ones gemu has).
var blkProps = []prop{
	{"drive", "str", "Node name or ID of a block device to use as a backend"},
	{"serial", "str", "GET_ID answer (up to 20 bytes)"},
	{"write-cache", "OnOffAuto", "on/off/auto (auto: the drive's cache mode)"},
}

// newBlk creates a virtio block device on the drive o names and marks the
// drive used; the caller plugs it into a transport.
func (m *Machine) newBlk(o *qemuopt.Opts) (*virtio.Blk, *drive, error) {
	name := o.String("driver", "")
	id, ok := o.Get("drive")
	if !ok || id == "" {
		return nil, nil, o.Errorf("drive property not set")
	}
	d := m.drives[id]
	if d == nil {
		return nil, nil, o.Errorf("Property '%s.drive' can't find value '%s'", name, id)
	}
	if d.used {
		return nil, nil, o.Errorf("Property '%s.drive' can't take value '%s', it's in use", name, id)
	}
	switch wc := o.String("write-cache", "auto"); wc {
	case "auto":
	case "on", "off":
		d.img.SetWriteCache(wc == "on")
	default:
		return nil, nil, o.Errorf("write-cache=%s: want on, off or auto", wc)
	}
	dev := virtio.NewBlk(d.img, o.String("serial", ""))
	dev.Trace = m.Tracer("virtio")
	return dev, d, nil
}

// addVirtioBlk is `-device virtio-blk-device,drive=ID[,bus=virtio-mmio-bus.N]`.
func addVirtioBlk(m *Machine, o *qemuopt.Opts) error {
	dev, d, err := m.newBlk(o)
	if err != nil {
		return err
	}
	if _, _, err := m.plugVirtio(o, dev); err != nil {
		return err
	}
	d.used = true
	return nil
}

// addVirtioBlkPCI is `-device virtio-blk-pci,drive=ID[,addr=SLOT]` and
// what -drive if=virtio creates: QEMU's 1af4:1042 with class
// PCI_CLASS_STORAGE_SCSI and vectors = queues + 1 = 2
// (hw/virtio/virtio-blk-pci.c).
func addVirtioBlkPCI(m *Machine, o *qemuopt.Opts) error {
	dev, d, err := m.newBlk(o)
	if err != nil {
		return err
	}
	vectors, err := o.Uint("vectors", 2)
	if err != nil {
		return err
	}
	if vectors > 64 {
		return o.Errorf("vectors=%d: at most 64", vectors)
	}
	p := virtio.NewPCI(m.Bus, dev, virtio.PCIConfig{Class: 0x010000, Vectors: int(vectors)})
	p.Trace = m.Tracer("virtio")
	p.GuestErrors = m.GuestError("virtio-blk-pci")
	if err := m.attachPCI(o, p.Function()); err != nil {
		return err
	}
	d.used = true
	return nil
}
