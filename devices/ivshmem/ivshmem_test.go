package ivshmem

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"gemu/bus"
	"gemu/devices/pci"
)

// fakePLIC records line levels.
type fakePLIC struct{ level map[int]bool }

func (p *fakePLIC) SetLevel(src int, l bool) { p.level[src] = l }

// fakeBell records doorbells and hands out pending vectors.
type fakeBell struct {
	rung    [][2]int
	pending uint32
	peers   map[int]int // peer -> vectors
}

func (b *fakeBell) Ring(peer, vector int) error {
	if vector >= b.peers[peer] {
		return ErrNoPeer
	}
	b.rung = append(b.rung, [2]int{peer, vector})
	return nil
}

func (b *fakeBell) TakePending() uint32 {
	v := b.pending
	b.pending = 0
	return v
}

// rig is a board with RAM, a PCI host and one ivshmem at slot 1.
type rig struct {
	t    *testing.T
	bus  *bus.Bus
	plic *fakePLIC
	host *pci.Host
	dev  *Device
}

const (
	ecam1  = pci.ECAMBase + 1<<15 // 00:01.0
	bar0At = pci.MMIOBase
	bar1At = pci.MMIOBase + 0x1000
)

func newRig(t *testing.T, cfg Config) *rig {
	t.Helper()
	b := bus.New(0x8000_0000, 16<<20)
	p := &fakePLIC{level: map[int]bool{}}
	h := pci.NewHost(b, p)
	if err := h.Map(); err != nil {
		t.Fatal(err)
	}
	if cfg.Mem == nil {
		m, err := NewMemory(1 << 20)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Mem = m
	}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Attach(1, 0, d.PCI()); err != nil {
		t.Fatal(err)
	}
	return &rig{t, b, p, h, d}
}

func (r *rig) cfgRead(off uint64, size int) uint64 {
	v, ok := r.bus.Load(ecam1+off, size)
	if !ok {
		r.t.Fatalf("config read %#x failed", off)
	}
	return v
}

func (r *rig) cfgWrite(off uint64, size int, v uint64) {
	if !r.bus.Store(ecam1+off, size, v) {
		r.t.Fatalf("config write %#x failed", off)
	}
}

// assign programs BAR0, BAR1 (doorbell) and BAR2 the way a guest does and
// enables memory decoding; it returns BAR2's CPU address.
func (r *rig) assign() uint64 {
	high := r.host.HighBase()
	r.cfgWrite(pci.BAR0, 4, bar0At)
	r.cfgWrite(pci.BAR0+4, 4, bar1At)
	r.cfgWrite(pci.BAR0+8, 4, high&0xffffffff|0xc)
	r.cfgWrite(pci.BAR0+12, 4, high>>32)
	r.cfgWrite(pci.Command, 2, pci.CmdMemory)
	return high
}

func (r *rig) load(addr uint64, size int) uint64 {
	v, ok := r.bus.Load(addr, size)
	if !ok {
		r.t.Fatalf("load %#x failed", addr)
	}
	return v
}

func (r *rig) store(addr uint64, size int, v uint64) {
	if !r.bus.Store(addr, size, v) {
		r.t.Fatalf("store %#x failed", addr)
	}
}

func TestConfigSpace(t *testing.T) {
	type header struct {
		Vendor, Device, Command      uint64
		Revision, Class, Pin, CapPtr uint64
		SubVendor, Subsystem         uint64
		BAR                          [6]uint64
	}
	read := func(r *rig) header {
		var h header
		h.Vendor = r.cfgRead(pci.VendorID, 2)
		h.Device = r.cfgRead(pci.DeviceID, 2)
		h.Command = r.cfgRead(pci.Command, 2)
		h.Revision = r.cfgRead(pci.RevisionID, 1)
		h.Class = r.cfgRead(pci.RevisionID, 4) >> 8
		h.Pin = r.cfgRead(pci.InterruptPin, 1)
		h.CapPtr = r.cfgRead(pci.CapPointer, 1)
		h.SubVendor = r.cfgRead(pci.SubVendorID, 2)
		h.Subsystem = r.cfgRead(pci.SubsystemID, 2)
		// BAR sizing: write all ones, read the mask back (PCI 3.0 6.2.5.1).
		for i := range h.BAR {
			off := uint64(pci.BAR0 + 4*i)
			r.cfgWrite(off, 4, 0xffffffff)
			h.BAR[i] = r.cfgRead(off, 4)
		}
		return h
	}
	tests := []struct {
		name string
		cfg  Config
		want header
	}{
		{"plain", Config{}, header{
			Vendor: 0x1af4, Device: 0x1110, Revision: 1, Class: 0x050000,
			SubVendor: 0x1af4, Subsystem: 0x1100,
			BAR: [6]uint64{0xffffff00, 0, 0xfff0000c, 0xffffffff, 0, 0},
		}},
		{"doorbell", Config{Bell: &fakeBell{}, ID: 3, Vectors: 2}, header{
			Vendor: 0x1af4, Device: 0x1110, Revision: 1, Class: 0x050000,
			SubVendor: 0x1af4, Subsystem: 0x1100, CapPtr: 0x40,
			BAR: [6]uint64{0xffffff00, 0xfffff000, 0xfff0000c, 0xffffffff, 0, 0},
		}},
		{"doorbell intx", Config{Bell: &fakeBell{}, Vectors: 1, INTx: true}, header{
			Vendor: 0x1af4, Device: 0x1110, Revision: 1, Class: 0x050000,
			SubVendor: 0x1af4, Subsystem: 0x1100, CapPtr: 0x40, Pin: 1,
			BAR: [6]uint64{0xffffff00, 0xfffff000, 0xfff0000c, 0xffffffff, 0, 0},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.cfg)
			if diff := cmp.Diff(tc.want, read(r)); diff != "" {
				t.Errorf("config space (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMSIXCapability(t *testing.T) {
	r := newRig(t, Config{Bell: &fakeBell{}, Vectors: 4})
	got := [3]uint64{r.cfgRead(0x40, 4), r.cfgRead(0x44, 4), r.cfgRead(0x48, 4)}
	// ID 0x11, next 0, table size 4 (N-1 = 3); table BIR 1 offset 0; PBA BIR 1 offset 0x800.
	want := [3]uint64{0x0003_0011, 0x1, 0x801}
	if got != want {
		t.Errorf("MSI-X capability = %#x, want %#x", got, want)
	}
	r.cfgWrite(0x43, 1, 0xc0) // enable + mask are writable
	if v := r.cfgRead(0x42, 2); v != 0xc003 {
		t.Errorf("message control after enable = %#x, want 0xc003", v)
	}
	r.assign()
	r.store(bar1At+0x10, 4, 0xfee00000)
	r.store(bar1At+0x800, 4, 0xffffffff) // PBA is read-only
	if v, p := r.load(bar1At+0x10, 4), r.load(bar1At+0x800, 4); v != 0xfee00000 || p != 0 {
		t.Errorf("table entry 1 = %#x, PBA = %#x; want 0xfee00000, 0", v, p)
	}
}

func TestBAR2(t *testing.T) {
	r := newRig(t, Config{})
	mem := r.dev.Memory()
	at := r.assign()
	if at < 0x1_0000_0000 {
		t.Fatalf("high window at %#x, want above 4 GiB", at)
	}
	tests := []struct {
		off  uint64
		size int
		val  uint64
	}{
		{0, 4, 0x4c414221},
		{4, 4, 0xcafef00d},
		{8, 8, 0x0123456789abcdef},
		{17, 1, 0x5a},
		{18, 2, 0xbeef},
		{mem.Size() - 8, 8, 0x1122334455667788},
	}
	for _, tc := range tests {
		r.store(at+tc.off, tc.size, tc.val)
		if got := r.load(at+tc.off, tc.size); got != tc.val {
			t.Errorf("BAR2+%#x/%d = %#x, want %#x", tc.off, tc.size, got, tc.val)
		}
	}
	// The guest's bytes are the memory's bytes (little-endian), the same
	// check tests/linux's ivshmem scenario makes on QEMU's /dev/shm file.
	want := []byte{0x21, 0x42, 0x41, 0x4c, 0x0d, 0xf0, 0xfe, 0xca, 0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01}
	if diff := cmp.Diff(want, mem.Bytes()[:16]); diff != "" {
		t.Errorf("shared memory (-want +got):\n%s", diff)
	}
	// Disabling memory decoding unmaps the BARs: master abort reads ones.
	r.cfgWrite(pci.Command, 2, 0)
	if got := r.load(at, 4); got != 0xffffffff {
		t.Errorf("BAR2 with memory decoding off = %#x, want 0xffffffff", got)
	}
}

func TestRegisters(t *testing.T) {
	bell := &fakeBell{peers: map[int]int{1: 1, 7: 2}}
	r := newRig(t, Config{Bell: bell, ID: 5, Vectors: 2, INTx: true})
	r.assign()
	line := pci.IRQFor(1, 1)
	if got := r.load(bar0At+RegIVPosition, 4); got != 5 {
		t.Errorf("IVPosition = %d, want 5", got)
	}
	r.store(bar0At+RegIVPosition, 4, 9) // read-only
	if got := r.load(bar0At+RegIVPosition, 4); got != 5 {
		t.Errorf("IVPosition after write = %d, want 5", got)
	}
	// Doorbells: peer 7 vector 1, peer 1 vector 0; vector bits 15:8 ignored;
	// unknown peer and vector counted as bad.
	for _, v := range []uint64{7<<16 | 1, 1<<16 | 0x300, 2 << 16, 7<<16 | 5} {
		r.store(bar0At+RegDoorbell, 4, v)
	}
	if diff := cmp.Diff([][2]int{{7, 1}, {1, 0}}, bell.rung); diff != "" {
		t.Errorf("doorbells (-want +got):\n%s", diff)
	}
	if r.dev.BadDoorbells != 2 {
		t.Errorf("BadDoorbells = %d, want 2", r.dev.BadDoorbells)
	}
	if got := r.load(bar0At+RegDoorbell, 4); got != 0 {
		t.Errorf("Doorbell reads %#x, want 0", got)
	}
	// A peer interrupt on vector 1: IntrStatus bit 1; INTx only when masked in.
	bell.pending = 1 << 1
	r.dev.Poll()
	if r.plic.level[line] {
		t.Error("INTx asserted with IntrMask 0")
	}
	r.store(bar0At+RegIntrMask, 4, 0xffffffff)
	if !r.plic.level[line] {
		t.Error("INTx not asserted with status and mask set")
	}
	if got := r.load(bar0At+RegIntrMask, 4); got != 0xffffffff {
		t.Errorf("IntrMask = %#x", got)
	}
	if got := r.load(bar0At+RegIntrStatus, 4); got != 2 {
		t.Errorf("IntrStatus = %#x, want 2", got)
	}
	if got := r.load(bar0At+RegIntrStatus, 4); got != 0 {
		t.Errorf("IntrStatus after read = %#x, want 0 (read-to-clear)", got)
	}
	if r.plic.level[line] {
		t.Error("INTx still asserted after IntrStatus was read")
	}
	// Narrow accesses as QEMU 7.2 treats them: reads at a register's
	// address see its low bytes, elsewhere 0; writes store the
	// zero-extended value into the register at address & ~3.
	if got := r.load(bar0At+RegIntrMask, 1); got != 0xff {
		t.Errorf("byte 0 of IntrMask = %#x, want 0xff", got)
	}
	if got := r.load(bar0At+RegIntrMask+1, 1); got != 0 {
		t.Errorf("byte 1 of IntrMask = %#x, want 0", got)
	}
	r.store(bar0At+RegIntrMask+2, 1, 0x5a)
	if got := r.load(bar0At+RegIntrMask, 4); got != 0x5a {
		t.Errorf("IntrMask after a byte write at +2 = %#x, want 0x5a", got)
	}
	// A 2-byte write at Doorbell+1 becomes 0x00000701 at 0xc: peer 0
	// (unknown here), vector 1.
	r.store(bar0At+RegDoorbell+1, 2, 7<<8|1)
	if r.dev.BadDoorbells != 3 {
		t.Errorf("BadDoorbells after a narrow doorbell write = %d, want 3", r.dev.BadDoorbells)
	}
	if got := r.load(bar0At+0x10, 4); got != 0 {
		t.Errorf("reserved register = %#x, want 0", got)
	}
	// Reset clears the registers and drops the line.
	bell.pending = 1
	r.dev.Poll()
	r.host.Reset()
	if r.plic.level[line] || r.dev.intrMask != 0 || r.dev.intrStatus != 0 {
		t.Error("reset left interrupt state behind")
	}
}

func TestPlainIgnoresDoorbell(t *testing.T) {
	r := newRig(t, Config{})
	r.assign()
	r.store(bar0At+RegDoorbell, 4, 1<<16)
	r.dev.Poll()
	if got := r.load(bar0At+RegIVPosition, 4); got != 0 {
		t.Errorf("IVPosition = %d, want 0", got)
	}
	if r.dev.Rung != 0 || r.dev.BadDoorbells != 0 {
		t.Errorf("plain device rang a doorbell")
	}
}

func TestNewErrors(t *testing.T) {
	odd := &Memory{b: make([]byte, 3<<12)}
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no memory", Config{}},
		{"size not a power of two", Config{Mem: odd}},
		{"no vectors", Config{Mem: &Memory{b: make([]byte, 4096)}, Bell: &fakeBell{}}},
		{"too many vectors", Config{Mem: &Memory{b: make([]byte, 4096)}, Bell: &fakeBell{}, Vectors: 33}},
	}
	for _, tc := range tests {
		if _, err := New(tc.cfg); err == nil {
			t.Errorf("%s: New succeeded", tc.name)
		}
	}
}

func TestOpenFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name  string
		share bool
		want  byte
	}{
		{"share=on", true, 0x77},
		{"share=off", false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			m, err := OpenFile(path, 64<<10, tc.share)
			if err != nil {
				t.Fatal(err)
			}
			m.Write(100, 1, 0x77)
			if got := m.Read(100, 1); got != 0x77 {
				t.Errorf("mapping reads %#x", got)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) != 64<<10 || b[100] != tc.want {
				t.Errorf("file: %d bytes, byte 100 = %#x; want %d, %#x", len(b), b[100], 64<<10, tc.want)
			}
			if err := m.Close(); err != nil {
				t.Error(err)
			}
		})
	}
	if _, err := OpenFile(filepath.Join(dir, "x"), 3000, true); err == nil {
		t.Error("size 3000 accepted")
	}
	if _, err := OpenFile(dir, 4096, true); err == nil {
		t.Error("a directory accepted as mem-path")
	}
}

func TestMemoryBounds(t *testing.T) {
	m, _ := NewMemory(4096)
	m.Write(4095, 2, 0xffff) // straddles the end: ignored
	m.Write(1<<40, 8, 1)
	if got := m.Read(4095, 2); got != 0 {
		t.Errorf("straddling read = %#x", got)
	}
	if m.Bytes()[4095] != 0 {
		t.Error("straddling write landed")
	}
}

// BenchmarkBAR2 measures one guest 4-byte store plus load through the
// hart's slow path (bus region lookup, PCI window, BAR2, shared memory).
func BenchmarkBAR2(b *testing.B) {
	r := newRig(&testing.T{}, Config{})
	at := r.assign()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		off := uint64(i*4) & 0xffff
		r.bus.Store(at+off, 4, uint64(i))
		if v, _ := r.bus.Load(at+off, 4); v != uint64(uint32(i)) {
			b.Fatalf("read %#x", v)
		}
	}
}
