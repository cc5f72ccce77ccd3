package machine

import (
	"fmt"
	"os"
	"strings"

	"gemu/devices/ivshmem"
	"gemu/qemuopt"
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
// non-zero (devices/ivshmem package comment says why). gemu has no -object
// types besides memory-backend-*, and refuses the others.

// memBackend is one -object memory-backend-*.
type memBackend struct {
	kind  string // file, ram, memfd
	size  uint64
	path  string
	share bool
	used  bool
}

// memBackendKeys are the memory-backend-* properties gemu reads; the rest
// of QEMU's (host tuning: prealloc, merge, dump, ...) are accepted and have
// no effect here.
var memBackendKeys = []string{"qom-type", "id", "size", "mem-path", "share",
	"prealloc", "merge", "dump", "discard-data", "seal", "hugetlb", "align"}

// newMemBackend reads one -object memory-backend-*.
func newMemBackend(o *qemuopt.Opts) (id string, b *memBackend, err error) {
	qt, _ := o.Get("qom-type")
	kind, isMem := strings.CutPrefix(qt, "memory-backend-")
	if !isMem {
		// Nothing else in gemu takes -object: say so rather than
		// ignore it (QEMU fails on types it lacks, too).
		return "", nil, o.Errorf("unsupported object type %q (gemu has memory-backend-file, memory-backend-ram, memory-backend-memfd)", qt)
	}
	if kind != "file" && kind != "ram" && kind != "memfd" {
		return "", nil, o.Errorf("unsupported memory backend %q (have memory-backend-file, -ram, -memfd)", qt)
	}
	if err := o.Check(memBackendKeys...); err != nil {
		return "", nil, err
	}
	b = &memBackend{kind: kind}
	id = o.String("id", "")
	if b.size, err = o.Size("size", 0); err != nil {
		return "", nil, err
	}
	b.path = o.String("mem-path", "")
	if o.Has("mem-path") && kind != "file" {
		return "", nil, o.Errorf("mem-path is for memory-backend-file")
	}
	if b.share, err = o.Bool("share", false); err != nil {
		return "", nil, err
	}
	switch {
	case id == "":
		return "", nil, o.Errorf("missing id=")
	case b.size == 0:
		return "", nil, o.Errorf("missing size=")
	case kind == "file" && b.path == "":
		return "", nil, o.Errorf("missing mem-path=")
	}
	if err := ivshmem.CheckSize(b.size); err != nil {
		return "", nil, o.Errorf("%v", err)
	}
	return id, b, nil
}

// addMemoryBackends checks every -object at start-up (the files are opened
// by the device that uses them).
func (m *Machine) addMemoryBackends() error {
	m.memBackends = map[string]*memBackend{}
	for _, o := range m.Config.Objects {
		id, b, err := newMemBackend(o)
		if err != nil {
			return err
		}
		if m.memBackends[id] != nil {
			return o.Errorf("duplicate id %q", id)
		}
		m.memBackends[id] = b
	}
	return nil
}

// openMemdev maps the backend named by a device's memdev= option.
func (m *Machine) openMemdev(o *qemuopt.Opts, id string) (*ivshmem.Memory, error) {
	b := m.memBackends[id]
	if b == nil {
		return nil, o.Errorf("no -object memory-backend-* with id %q", id)
	}
	if b.used {
		return nil, o.Errorf("memory backend %q is already in use by another device", id)
	}
	var mem *ivshmem.Memory
	var err error
	if b.kind == "file" {
		mem, err = ivshmem.OpenFile(b.path, b.size, b.share)
	} else {
		mem, err = ivshmem.NewMemory(b.size)
	}
	if err != nil {
		return nil, o.Errorf("%v", err)
	}
	b.used = true
	return mem, nil
}

// addChardevs records every -chardev by id; the device that uses one
// checks it is the kind it needs.
func (m *Machine) addChardevs() error {
	m.chardevs = map[string]*qemuopt.Opts{}
	for _, o := range m.Config.Chardevs {
		id, ok := o.Get("id")
		switch {
		case !ok || id == "":
			return o.Errorf("missing id=")
		case m.chardevs[id] != nil:
			return o.Errorf("duplicate id %q", id)
		}
		m.chardevs[id] = o
	}
	return nil
}

// chardevSocket finds -chardev socket,id=ID,path=P and returns P.
func (m *Machine) chardevSocket(o *qemuopt.Opts, id string) (string, error) {
	c := m.chardevs[id]
	if c == nil {
		return "", o.Errorf("no -chardev with id %q", id)
	}
	if be := c.String("backend", ""); be != "socket" {
		return "", o.Errorf("chardev %q is %q, ivshmem needs a socket", id, be)
	}
	path, ok := c.Get("path")
	if !ok {
		return "", c.Errorf("ivshmem needs a UNIX socket (path=)")
	}
	if server, err := c.Bool("server", false); err != nil {
		return "", err
	} else if server {
		return "", c.Errorf("ivshmem connects to an ivshmem-server; server=on is not supported")
	}
	return path, nil
}

// addIvshmemPlain is `-device ivshmem-plain,memdev=ID`.
func addIvshmemPlain(m *Machine, o *qemuopt.Opts) error {
	id, ok := o.Get("memdev")
	if !ok {
		return o.Errorf("missing memdev= (an -object memory-backend-file id)")
	}
	if _, err := o.Bool("master", false); err != nil { // migration: no effect here
		return err
	}
	mem, err := m.openMemdev(o, id)
	if err != nil {
		return err
	}
	m.AtExit(mem.Close)
	d, err := ivshmem.New(ivshmem.Config{Mem: mem})
	if err != nil {
		return o.Errorf("%v", err)
	}
	return m.plugIvshmem(o, d)
}

// addIvshmemDoorbell is `-device ivshmem-doorbell,chardev=ID[,vectors=N]`.
func addIvshmemDoorbell(m *Machine, o *qemuopt.Opts) error {
	cid, ok := o.Get("chardev")
	if !ok {
		return o.Errorf("missing chardev= (a -chardev socket to an ivshmem-server)")
	}
	if _, err := o.Bool("master", false); err != nil { // migration: no effect here
		return err
	}
	if _, err := o.Bool("ioeventfd", false); err != nil { // KVM tuning: no effect here
		return err
	}
	n, err := o.Uint("vectors", 1)
	if err != nil || n < 1 || n > ivshmem.MaxVectors {
		return o.Errorf("vectors=%s: want 1..%d", o.String("vectors", ""), ivshmem.MaxVectors)
	}
	vectors := int(n)
	intx, err := o.Bool("intx", false)
	if err != nil {
		return err
	}
	path, err := m.chardevSocket(o, cid)
	if err != nil {
		return err
	}
	// Protocol problems are reported from the socket goroutine, which
	// must not use the tracer (it reads the emulation goroutine's clock).
	logf := func(s string) { fmt.Fprintln(os.Stderr, "gemu: "+s) }
	c, err := ivshmem.Dial(path, vectors, logf)
	if err != nil {
		return o.Errorf("%v", err)
	}
	m.AtExit(c.Close)
	d, err := ivshmem.New(ivshmem.Config{Mem: c.Mem, Bell: c, ID: c.ID, Vectors: vectors, INTx: intx})
	if err != nil {
		return o.Errorf("%v", err)
	}
	if err := m.plugIvshmem(o, d); err != nil {
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
func (m *Machine) plugIvshmem(o *qemuopt.Opts, d *ivshmem.Device) error {
	d.Trace = m.Tracer("ivshmem")
	// A shrunk backing file breaks the device (once, on the emulation
	// goroutine), not gemu: devices/ivshmem Memory.
	d.Memory().OnFault = func(err error) { fmt.Fprintln(os.Stderr, "gemu:", o.Errorf("%v", err)) }
	if err := m.attachPCI(o, d.PCI()); err != nil {
		return err
	}
	ring, hasRing := o.Get("ring")
	if hasRing && ring != "gemu" && ring != "scream" {
		return o.Errorf("ring=%s: want gemu or scream", ring)
	}
	id, ok := o.Get("audiodev")
	if !ok {
		if hasRing {
			return o.Errorf("ring= needs audiodev=")
		}
		return nil
	}
	a, err := m.Audiodev(id)
	if err != nil {
		return o.Errorf("%v", err)
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
