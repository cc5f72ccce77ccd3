package machine

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"gemu/devices/ivshmem"
)

// ivshmem (devices/ivshmem) as QEMU spells it on the command line:
//
//	-object memory-backend-file,id=hm,size=1M,share=on,mem-path=/dev/shm/x
//	-device ivshmem-plain,memdev=hm[,master=on|off][,addr=SLOT]
//	-chardev socket,path=/tmp/ivshmem_socket,id=ch0
//	-device ivshmem-doorbell,chardev=ch0[,vectors=N][,ioeventfd=on|off]
//
// memory-backend-ram and memory-backend-memfd are accepted too (anonymous
// memory only this process sees). gemu extensions (not in QEMU): on either
// device, audiodev=ID plays the audio ring at the start of the shared
// memory on that -audiodev, in gemu's ring layout (devices/ivshmem/ring.go;
// ring=gemu, the default) or Scream's IVSHMEM layout (ring=scream,
// devices/ivshmem/scream.go); on ivshmem-doorbell,
// intx=on gives the function INTA, asserted while IntrStatus & IntrMask is
// non-zero (devices/ivshmem package comment says why). -object types other
// than memory-backend-* are left to whoever handles them.

func init() {
	RegisterTrace("ivshmem", "ivshmem register accesses, doorbells, server protocol and audio ring state")
	RegisterBoard("ivshmem", parseMemoryBackends)
	RegisterDevice("ivshmem-plain", addIvshmemPlain)
	RegisterDevice("ivshmem-doorbell", addIvshmemDoorbell)
}

// memBackend is one -object memory-backend-*.
type memBackend struct {
	raw   string
	kind  string // file, ram, memfd
	size  uint64
	path  string
	share bool
	used  bool
}

type memBackendsKey struct{}

// ParseSize reads a QEMU size: a number with an optional B, K, M, G or T
// suffix (powers of 1024, either case).
func ParseSize(s string) (uint64, error) {
	mult := uint64(1)
	num := s
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'b', 'B':
			num = s[:n-1]
		case 'k', 'K':
			mult, num = 1<<10, s[:n-1]
		case 'm', 'M':
			mult, num = 1<<20, s[:n-1]
		case 'g', 'G':
			mult, num = 1<<30, s[:n-1]
		case 't', 'T':
			mult, num = 1<<40, s[:n-1]
		}
	}
	v, err := strconv.ParseUint(num, 0, 64)
	if err != nil || v > ^uint64(0)/mult {
		return 0, fmt.Errorf("size %q: want a number with an optional K, M, G or T suffix", s)
	}
	return v * mult, nil
}

// parseOnOff reads QEMU's boolean spellings.
func parseOnOff(key, v string) (bool, error) {
	switch v {
	case "on", "yes", "true", "y":
		return true, nil
	case "off", "no", "false", "n":
		return false, nil
	}
	return false, fmt.Errorf("%s=%s: want on or off", key, v)
}

// parseMemoryBackend parses one -object argument; ok is false for other
// object types.
func parseMemoryBackend(arg string) (id string, b *memBackend, ok bool, err error) {
	// The same option syntax as -device, with the type first or given as
	// qom-type=TYPE anywhere.
	opt, err := ParseDeviceOpt(arg)
	if strings.Contains(arg, "qom-type=") {
		opt, err = ParseDeviceOpt("_," + arg)
		if t, has := opt.Get("qom-type"); has && err == nil {
			opt.Name = t
		}
	}
	if err != nil {
		msg := err.Error() // "-device ARG: why"
		if i := strings.Index(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		return "", nil, false, fmt.Errorf("-object %s: %s", arg, msg)
	}
	kind, isMem := strings.CutPrefix(opt.Name, "memory-backend-")
	if !isMem {
		return "", nil, false, nil
	}
	bad := func(format string, args ...any) (string, *memBackend, bool, error) {
		return "", nil, true, fmt.Errorf("-object %s: %s", arg, fmt.Sprintf(format, args...))
	}
	if kind != "file" && kind != "ram" && kind != "memfd" {
		return bad("unsupported memory backend %q (have memory-backend-file, -ram, -memfd)", opt.Name)
	}
	b = &memBackend{raw: arg, kind: kind}
	for _, k := range opt.Keys {
		v := opt.Props[k]
		switch k {
		case "id":
			id = v
		case "size":
			if b.size, err = ParseSize(v); err != nil {
				return bad("%v", err)
			}
		case "mem-path":
			if kind != "file" {
				return bad("mem-path is for memory-backend-file")
			}
			b.path = v
		case "share":
			if b.share, err = parseOnOff(k, v); err != nil {
				return bad("%v", err)
			}
		case "prealloc", "merge", "dump", "discard-data", "seal", "hugetlb", "align", "qom-type":
			// Host tuning QEMU offers; no effect here.
		default:
			return bad("unknown option %q (known: id, size, mem-path, share)", k)
		}
	}
	switch {
	case id == "":
		return bad("missing id=")
	case b.size == 0:
		return bad("missing size=")
	case kind == "file" && b.path == "":
		return bad("missing mem-path=")
	}
	if err := ivshmem.CheckSize(b.size); err != nil {
		return bad("%v", err)
	}
	return id, b, true, nil
}

// parseMemoryBackends checks every -object at start-up: memory-backend-*
// are the only objects gemu has (the files are opened by the device that
// uses them).
func parseMemoryBackends(m *Machine) error {
	backends := map[string]*memBackend{}
	for _, arg := range m.Config.Objects {
		id, b, ok, err := parseMemoryBackend(arg)
		if err != nil {
			return err
		}
		if !ok {
			// Nothing else in gemu takes -object: say so rather than
			// ignore it (QEMU fails on types it lacks, too).
			return fmt.Errorf("-object %s: unsupported object type (gemu has memory-backend-file, memory-backend-ram, memory-backend-memfd)", arg)
		}
		if backends[id] != nil {
			return fmt.Errorf("-object %s: duplicate id %q", arg, id)
		}
		backends[id] = b
	}
	m.SetValue(memBackendsKey{}, backends)
	return nil
}

// openMemdev maps the backend named by a device's memdev= option.
func (m *Machine) openMemdev(opt DeviceOpt, id string) (*ivshmem.Memory, error) {
	backends, _ := m.Value(memBackendsKey{}).(map[string]*memBackend)
	b := backends[id]
	if b == nil {
		return nil, fmt.Errorf("-device %s: no -object memory-backend-* with id %q", opt.Raw, id)
	}
	if b.used {
		return nil, fmt.Errorf("-device %s: memory backend %q is already in use by another device", opt.Raw, id)
	}
	var mem *ivshmem.Memory
	var err error
	if b.kind == "file" {
		mem, err = ivshmem.OpenFile(b.path, b.size, b.share)
	} else {
		mem, err = ivshmem.NewMemory(b.size)
	}
	if err != nil {
		return nil, fmt.Errorf("-device %s: %v", opt.Raw, err)
	}
	b.used = true
	return mem, nil
}

// chardevSocket finds -chardev socket,id=ID,path=P and returns P.
func (m *Machine) chardevSocket(opt DeviceOpt, id string) (string, error) {
	for _, arg := range m.Config.Chardevs {
		c, err := ParseDeviceOpt(arg)
		if err != nil {
			continue
		}
		if cid, _ := c.Get("id"); cid != id {
			continue
		}
		if c.Name != "socket" {
			return "", fmt.Errorf("-device %s: chardev %q is %q, ivshmem needs a socket", opt.Raw, id, c.Name)
		}
		path, ok := c.Get("path")
		if !ok {
			return "", fmt.Errorf("-chardev %s: ivshmem needs a UNIX socket (path=)", arg)
		}
		if s, ok := c.Get("server"); ok {
			if on, _ := parseOnOff("server", s); on {
				return "", fmt.Errorf("-chardev %s: ivshmem connects to an ivshmem-server; server=on is not supported", arg)
			}
		}
		return path, nil
	}
	return "", fmt.Errorf("-device %s: no -chardev with id %q", opt.Raw, id)
}

// addIvshmemPlain is `-device ivshmem-plain,memdev=ID`.
func addIvshmemPlain(m *Machine, opt DeviceOpt) error {
	if err := opt.Check("memdev", "master", "addr", "id", "bus", "audiodev", "ring"); err != nil {
		return err
	}
	id, ok := opt.Get("memdev")
	if !ok {
		return fmt.Errorf("-device %s: missing memdev= (an -object memory-backend-file id)", opt.Raw)
	}
	if err := checkMaster(opt); err != nil {
		return err
	}
	mem, err := m.openMemdev(opt, id)
	if err != nil {
		return err
	}
	m.AtExit(mem.Close)
	d, err := ivshmem.New(ivshmem.Config{Mem: mem})
	if err != nil {
		return fmt.Errorf("-device %s: %v", opt.Raw, err)
	}
	return m.plugIvshmem(opt, d)
}

func checkMaster(opt DeviceOpt) error {
	if v, ok := opt.Get("master"); ok {
		if _, err := parseOnOff("master", v); err != nil {
			return fmt.Errorf("-device %s: %v", opt.Raw, err)
		}
	}
	return nil
}

// addIvshmemDoorbell is `-device ivshmem-doorbell,chardev=ID[,vectors=N]`.
func addIvshmemDoorbell(m *Machine, opt DeviceOpt) error {
	if err := opt.Check("chardev", "vectors", "ioeventfd", "master", "addr", "id", "bus", "audiodev", "ring", "intx"); err != nil {
		return err
	}
	cid, ok := opt.Get("chardev")
	if !ok {
		return fmt.Errorf("-device %s: missing chardev= (a -chardev socket to an ivshmem-server)", opt.Raw)
	}
	if err := checkMaster(opt); err != nil {
		return err
	}
	vectors := 1
	if v, ok := opt.Get("vectors"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > ivshmem.MaxVectors {
			return fmt.Errorf("-device %s: vectors=%s: want 1..%d", opt.Raw, v, ivshmem.MaxVectors)
		}
		vectors = n
	}
	if v, ok := opt.Get("ioeventfd"); ok {
		if _, err := parseOnOff("ioeventfd", v); err != nil { // QEMU's KVM tuning: no effect here
			return fmt.Errorf("-device %s: %v", opt.Raw, err)
		}
	}
	intx := false
	if v, ok := opt.Get("intx"); ok {
		var err error
		if intx, err = parseOnOff("intx", v); err != nil {
			return fmt.Errorf("-device %s: %v", opt.Raw, err)
		}
	}
	path, err := m.chardevSocket(opt, cid)
	if err != nil {
		return err
	}
	// Protocol problems are reported from the socket goroutine, which
	// must not use the tracer (it reads the emulation goroutine's clock).
	logf := func(s string) { fmt.Fprintln(os.Stderr, "gemu: "+s) }
	c, err := ivshmem.Dial(path, vectors, logf)
	if err != nil {
		return fmt.Errorf("-device %s: %v", opt.Raw, err)
	}
	m.AtExit(c.Close)
	d, err := ivshmem.New(ivshmem.Config{Mem: c.Mem, Bell: c, ID: c.ID, Vectors: vectors, INTx: intx})
	if err != nil {
		return fmt.Errorf("-device %s: %v", opt.Raw, err)
	}
	if err := m.plugIvshmem(opt, d); err != nil {
		return err
	}
	m.OnPoll(d.Poll)
	done := m.AddHostInput() // a peer may ring a guest waiting with no timer
	m.AtExit(func() error { done(); return nil })
	c.Start(m.Wake)
	return nil
}

// plugIvshmem attaches the function, its trace and (audiodev=) the ring
// player.
func (m *Machine) plugIvshmem(opt DeviceOpt, d *ivshmem.Device) error {
	d.Trace = m.Tracer("ivshmem")
	if err := m.attachPCI(opt, d.PCI()); err != nil {
		return err
	}
	ring, hasRing := opt.Get("ring")
	if hasRing && ring != "gemu" && ring != "scream" {
		return fmt.Errorf("-device %s: ring=%s: want gemu or scream", opt.Raw, ring)
	}
	id, ok := opt.Get("audiodev")
	if !ok {
		if hasRing {
			return fmt.Errorf("-device %s: ring= needs audiodev=", opt.Raw)
		}
		return nil
	}
	a, err := m.Audiodev(id)
	if err != nil {
		return fmt.Errorf("-device %s: %v", opt.Raw, err)
	}
	if ring == "scream" {
		p := ivshmem.NewScreamPlayer(d.Memory(), m.Clock, nil)
		p.UseAudiodev(a)
		p.Trace = d.Trace
		d.Audio = p
	} else {
		p := ivshmem.NewPlayer(d.Memory(), m.Clock, nil)
		p.UseAudiodev(a)
		p.Trace = d.Trace
		d.Audio = p
	}
	m.AtExit(func() error { d.Audio.Close(); return nil })
	return nil
}
