package pci

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"gemu/bus"
)

// fakePLIC records the level of every source.
type fakePLIC struct{ level map[int]bool }

func (p *fakePLIC) SetLevel(n int, l bool) { p.level[n] = l }

// regs is a BAR-backed register block that remembers writes.
type regs struct{ mem [256]byte }

func (r *regs) Read(off uint64, size int) uint64 {
	var v uint64
	for i := size - 1; i >= 0; i-- {
		v = v<<8 | uint64(r.mem[off+uint64(i)])
	}
	return v
}
func (r *regs) Write(off uint64, size int, val uint64) {
	for i := 0; i < size; i++ {
		r.mem[off+uint64(i)] = byte(val >> (8 * i))
	}
}

type rig struct {
	b    *bus.Bus
	h    *Host
	plic *fakePLIC
}

func newRig(t *testing.T) *rig {
	t.Helper()
	b := bus.New(0x8000_0000, 1<<20)
	p := &fakePLIC{level: map[int]bool{}}
	h := NewHost(b, p)
	if err := h.Map(); err != nil {
		t.Fatal(err)
	}
	return &rig{b, h, p}
}

func ecamAddr(slot, fn, reg int) uint64 {
	return ECAMBase + uint64(slot)<<15 + uint64(fn)<<12 + uint64(reg)
}

func (r *rig) cfgRead(t *testing.T, slot, reg, size int) uint64 {
	t.Helper()
	v, ok := r.b.Load(ecamAddr(slot, 0, reg), size)
	if !ok {
		t.Fatalf("ECAM load %#x failed", ecamAddr(slot, 0, reg))
	}
	return v
}

func (r *rig) cfgWrite(t *testing.T, slot, reg, size int, v uint64) {
	t.Helper()
	if !r.b.Store(ecamAddr(slot, 0, reg), size, v) {
		t.Fatalf("ECAM store %#x failed", ecamAddr(slot, 0, reg))
	}
}

func testFunction(t *testing.T) (*Function, *regs, *regs, *regs) {
	t.Helper()
	f := NewFunction(ID{Vendor: 0x8086, Device: 0x2415, Revision: 1, Class: 0x040100, IntPin: 1,
		Status: StatusFastB2B | StatusDevselMed})
	io, m32, m64 := &regs{}, &regs{}, &regs{}
	for i, b := range []BAR{{Kind: BARIO, Size: 256, Dev: io}, {Kind: BARMem32, Size: 4096, Dev: m32},
		{Kind: BARMem64, Size: 1 << 20, Prefetch: true, Dev: m64}} {
		if err := f.SetBAR(i, b); err != nil {
			t.Fatal(err)
		}
	}
	return f, io, m32, m64
}

func TestHostBridgeAndEmptySlots(t *testing.T) {
	r := newRig(t)
	got := []uint64{
		r.cfgRead(t, 0, VendorID, 4),
		r.cfgRead(t, 0, RevisionID, 4),
		r.cfgRead(t, 0, SubVendorID, 4),
		r.cfgRead(t, 1, VendorID, 4),
		r.cfgRead(t, 1, VendorID, 2),
		r.cfgRead(t, 1, VendorID, 1),
		r.cfgRead(t, 0, 0x100, 4), // beyond a conventional function's 256 bytes
	}
	want := []uint64{0x0008_1b36, 0x0600_0000, 0x1100_1af4, 0xffff_ffff, 0xffff, 0xff, 0xffff_ffff}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("config reads (-want +got):\n%s", d)
	}
	// Bus 1 does not exist.
	if v, _ := r.b.Load(ECAMBase+1<<20, 4); v != 0xffff_ffff {
		t.Errorf("bus 1 read %#x, want all ones", v)
	}
}

func TestAttachSlots(t *testing.T) {
	r := newRig(t)
	a, b := NewFunction(ID{Vendor: 1, IntPin: 1}), NewFunction(ID{Vendor: 2, IntPin: 1})
	sa, err := r.h.Attach(-1, 0, a)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := r.h.Attach(5, 0, b)
	if err != nil {
		t.Fatal(err)
	}
	c := NewFunction(ID{Vendor: 3})
	sc, _ := r.h.Attach(-1, 0, c)
	if d := cmp.Diff([]int{1, 5, 2}, []int{sa, sb, sc}); d != "" {
		t.Errorf("slots (-want +got):\n%s", d)
	}
	if _, err := r.h.Attach(5, 0, NewFunction(ID{})); err == nil {
		t.Error("attaching to an occupied slot succeeded")
	}
	if _, err := r.h.Attach(32, 0, NewFunction(ID{})); err == nil {
		t.Error("attaching to slot 32 succeeded")
	}
}

func TestBARSizingAndDecode(t *testing.T) {
	r := newRig(t)
	f, io, m32, m64 := testFunction(t)
	if _, err := r.h.Attach(1, 0, f); err != nil {
		t.Fatal(err)
	}
	// Reset values: type bits only, unassigned.
	var reset []uint64
	for i := 0; i < 6; i++ {
		reset = append(reset, r.cfgRead(t, 1, BAR0+4*i, 4))
	}
	if d := cmp.Diff([]uint64{1, 0, 0xc, 0, 0, 0}, reset); d != "" {
		t.Errorf("BARs at reset (-want +got):\n%s", d)
	}
	// Sizing: write all ones, read the mask.
	var sizes []uint64
	for i := 0; i < 6; i++ {
		r.cfgWrite(t, 1, BAR0+4*i, 4, 0xffff_ffff)
		sizes = append(sizes, r.cfgRead(t, 1, BAR0+4*i, 4))
	}
	if d := cmp.Diff([]uint64{0xffff_ff01, 0xffff_f000, 0xfff0_000c, 0xffff_ffff, 0, 0}, sizes); d != "" {
		t.Errorf("BAR sizing (-want +got):\n%s", d)
	}
	r.cfgWrite(t, 1, BAR0, 4, 0x1001)
	r.cfgWrite(t, 1, BAR0+4, 4, 0x4000_0000)
	r.cfgWrite(t, 1, BAR0+8, 4, 0)
	r.cfgWrite(t, 1, BAR0+12, 4, uint64(r.h.HighBase()>>32))
	io.mem[0], m32.mem[0], m64.mem[0] = 0x11, 0x22, 0x33
	high := r.h.HighBase()

	read := func(addr uint64) uint64 { v, _ := r.b.Load(addr, 1); return v }
	// Decoding off: everything reads as master abort.
	if got := []uint64{read(PIOBase + 0x1000), read(0x4000_0000), read(high)}; !cmp.Equal(got, []uint64{0xff, 0xff, 0xff}) {
		t.Errorf("disabled BARs decode: %#x", got)
	}
	r.cfgWrite(t, 1, Command, 1, CmdIO)
	if got := []uint64{read(PIOBase + 0x1000), read(0x4000_0000), read(high)}; !cmp.Equal(got, []uint64{0x11, 0xff, 0xff}) {
		t.Errorf("I/O only: %#x", got)
	}
	r.cfgWrite(t, 1, Command, 2, CmdIO|CmdMemory)
	if got := []uint64{read(PIOBase + 0x1000), read(0x4000_0000), read(high)}; !cmp.Equal(got, []uint64{0x11, 0x22, 0x33}) {
		t.Errorf("I/O+mem: %#x", got)
	}
	// Writes go through to the BAR's device at the right offset.
	r.b.Store(PIOBase+0x1004, 2, 0xbeef)
	if io.mem[4] != 0xef || io.mem[5] != 0xbe {
		t.Errorf("I/O write landed wrong: % x", io.mem[:8])
	}
	// An access straddling the end of a BAR is not decoded.
	if v, _ := r.b.Load(PIOBase+0x10ff, 2); v != 0xffff {
		t.Errorf("straddling read = %#x", v)
	}
	// Moving a BAR unmaps the old address.
	r.cfgWrite(t, 1, BAR0, 4, 0x2001)
	if read(PIOBase+0x1000) != 0xff || read(PIOBase+0x2000) != 0x11 {
		t.Error("moved I/O BAR still decodes at its old port")
	}
}

func TestCommandStatusMasks(t *testing.T) {
	r := newRig(t)
	f, _, _, _ := testFunction(t)
	r.h.Attach(1, 0, f)
	r.cfgWrite(t, 1, Command, 4, 0xffff_ffff) // also writes 1s to every status bit
	r.cfgWrite(t, 1, VendorID, 4, 0)          // read-only
	r.cfgWrite(t, 1, SubVendorID, 4, 0)       // read-only
	r.cfgWrite(t, 1, InterruptLine, 2, 0xffff)
	got := []uint64{r.cfgRead(t, 1, Command, 4), r.cfgRead(t, 1, VendorID, 4),
		r.cfgRead(t, 1, SubVendorID, 4), r.cfgRead(t, 1, InterruptLine, 2)}
	want := []uint64{0x0280_0547, 0x2415_8086, 0x1100_1af4, 0x01ff}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestBusMasterGatesDMA(t *testing.T) {
	r := newRig(t)
	f, _, _, _ := testFunction(t)
	r.h.Attach(1, 0, f)
	buf := make([]byte, 4)
	if err := f.ReadDMA(0x8000_0000, buf); !errors.Is(err, ErrBusMaster) {
		t.Errorf("DMA with bus mastering off: err = %v", err)
	}
	r.cfgWrite(t, 1, Command, 1, CmdIO|CmdBusMaster)
	if err := f.WriteDMA(0x8000_0000, []byte{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	if err := f.ReadDMA(0x8000_0000, buf); err != nil || !cmp.Equal(buf, []byte{1, 2, 3, 4}) {
		t.Errorf("DMA read %v %v", buf, err)
	}
	if err := f.ReadDMA(0x1000, buf); !errors.Is(err, bus.ErrDMA) {
		t.Errorf("DMA outside RAM: err = %v", err)
	}
}

func TestINTxSwizzleAndSharing(t *testing.T) {
	r := newRig(t)
	tests := []struct {
		slot int
		pin  uint8
		irq  int
	}{{0, 1, 32}, {1, 1, 33}, {2, 1, 34}, {3, 1, 35}, {4, 1, 32}, {1, 2, 34}, {1, 4, 32}, {7, 3, 33}}
	for _, tc := range tests {
		if got := IRQFor(tc.slot, tc.pin); got != tc.irq {
			t.Errorf("IRQFor(%d, %d) = %d, want %d", tc.slot, tc.pin, got, tc.irq)
		}
	}
	a, b := NewFunction(ID{IntPin: 1}), NewFunction(ID{IntPin: 1})
	r.h.Attach(1, 0, a)
	r.h.Attach(5, 0, b) // also PLIC 33
	a.SetIRQ(true)
	b.SetIRQ(true)
	a.SetIRQ(false)
	if !r.plic.level[33] {
		t.Error("line dropped while slot 5 still asserts")
	}
	if st := r.cfgRead(t, 5, Status, 2); st&StatusInterrupt == 0 {
		t.Error("status.interrupt not set")
	}
	r.cfgWrite(t, 5, Command, 2, CmdINTxDisable)
	if r.plic.level[33] {
		t.Error("INTx disable did not lower the line")
	}
	r.cfgWrite(t, 5, Command, 2, 0)
	if !r.plic.level[33] {
		t.Error("clearing INTx disable did not re-raise the line")
	}
	b.SetIRQ(false)
	if r.plic.level[33] {
		t.Error("line still high after both deassert")
	}
}

func TestCapabilitiesAndReset(t *testing.T) {
	r := newRig(t)
	f := NewFunction(ID{Vendor: 0x1af4, Device: 0x1110})
	off1, _ := f.AddCapability(0x11, 12)
	off2, _ := f.AddCapability(0x09, 5)
	f.SetBAR(0, BAR{Kind: BARMem32, Size: 256, Dev: &regs{}})
	r.h.Attach(-1, 0, f)
	got := []uint64{r.cfgRead(t, 1, Status, 2) & StatusCapList, r.cfgRead(t, 1, CapPointer, 1),
		r.cfgRead(t, 1, off2, 2), r.cfgRead(t, 1, off1, 2)}
	want := []uint64{StatusCapList, uint64(off2), uint64(off1)<<8 | 0x09, 0x11}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("capability chain (-want +got):\n%s", d)
	}
	r.cfgWrite(t, 1, off1, 2, 0xffff) // header is read-only
	r.cfgWrite(t, 1, BAR0, 4, 0x4000_1000)
	r.cfgWrite(t, 1, Command, 2, CmdMemory)
	if _, ok := f.BARAddress(0); !ok {
		t.Fatal("BAR not decoded")
	}
	r.h.Reset()
	got = []uint64{r.cfgRead(t, 1, off1, 2), r.cfgRead(t, 1, BAR0, 4), r.cfgRead(t, 1, Command, 2)}
	if d := cmp.Diff([]uint64{0x11 | uint64(0)<<8, 0, 0}, got); d != "" {
		t.Errorf("after reset (-want +got):\n%s", d)
	}
	if _, ok := f.BARAddress(0); ok {
		t.Error("BAR still decoded after reset")
	}
}

func TestInterruptMapMatchesQEMU(t *testing.T) {
	// From `qemu-system-riscv64 -M virt,dumpdtb=...` (QEMU 7.2), PLIC phandle 3.
	want := []uint32{
		0x00, 0x00, 0x00, 0x01, 0x03, 0x20, 0x00, 0x00, 0x00, 0x02, 0x03, 0x21, 0x00, 0x00, 0x00, 0x03, 0x03, 0x22, 0x00, 0x00, 0x00, 0x04, 0x03, 0x23,
		0x800, 0x00, 0x00, 0x01, 0x03, 0x21, 0x800, 0x00, 0x00, 0x02, 0x03, 0x22, 0x800, 0x00, 0x00, 0x03, 0x03, 0x23, 0x800, 0x00, 0x00, 0x04, 0x03, 0x20,
		0x1000, 0x00, 0x00, 0x01, 0x03, 0x22, 0x1000, 0x00, 0x00, 0x02, 0x03, 0x23, 0x1000, 0x00, 0x00, 0x03, 0x03, 0x20, 0x1000, 0x00, 0x00, 0x04, 0x03, 0x21,
		0x1800, 0x00, 0x00, 0x01, 0x03, 0x23, 0x1800, 0x00, 0x00, 0x02, 0x03, 0x20, 0x1800, 0x00, 0x00, 0x03, 0x03, 0x21, 0x1800, 0x00, 0x00, 0x04, 0x03, 0x22,
	}
	if d := cmp.Diff(want, InterruptMap(3)); d != "" {
		t.Errorf("interrupt-map (-want +got):\n%s", d)
	}
	b := bus.New(0x8000_0000, 128<<20)
	h := NewHost(b, nil)
	wantRanges := []uint32{0x1000000, 0x00, 0x00, 0x00, 0x3000000, 0x00, 0x10000, 0x2000000, 0x00, 0x40000000, 0x00, 0x40000000, 0x00, 0x40000000, 0x3000000, 0x04, 0x00, 0x04, 0x00, 0x04, 0x00}
	if d := cmp.Diff(wantRanges, h.Ranges()); d != "" {
		t.Errorf("ranges for -m 128M (-want +got):\n%s", d)
	}
}

// FuzzConfigSpace throws arbitrary ECAM and window accesses at a bridge with
// one device: nothing may panic, and read-only identity must survive.
func FuzzConfigSpace(f *testing.F) {
	f.Add([]byte{0x10, 0x08, 4, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0x04, 0x08, 1, 0x07, 0, 0, 0, 0x10, 0x08, 4, 0x01, 0x10, 0, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		b := bus.New(0x8000_0000, 1<<16)
		h := NewHost(b, &fakePLIC{level: map[int]bool{}})
		if err := h.Map(); err != nil {
			t.Fatal(err)
		}
		fn, _, _, _ := testFunction(t)
		h.Attach(1, 0, fn)
		for len(ops) >= 7 {
			reg, slot, size := int(ops[0]), int(ops[1]>>3&31), []int{1, 2, 4, 8}[ops[2]&3]
			val := uint64(ops[3]) | uint64(ops[4])<<8 | uint64(ops[5])<<16 | uint64(ops[6])<<24
			addr := ECAMBase + uint64(slot)<<15 + uint64(ops[1]&7)<<12 + uint64(reg)<<uint(ops[2]>>2&3)
			switch ops[2] >> 4 & 3 {
			case 0:
				b.Store(addr, size, val)
			case 1:
				b.Load(addr, size)
			case 2:
				b.Store(PIOBase+val&0xffff, size, val)
			case 3:
				b.Load(MMIOBase+val&0xfffffff, size)
			}
			fn.SetIRQ(ops[3]&1 == 1)
			ops = ops[7:]
		}
		if v, _ := b.Load(ecamAddr(1, 0, 0), 4); v != 0x2415_8086 {
			t.Fatalf("vendor/device changed to %#x", v)
		}
	})
}

// TestGuestErrors checks the exact -d guest_errors sentences for the
// configuration accesses a driver should not make, that each is reported
// once, and that what Linux's PCI core does while enumerating and enabling
// a device (probing absent slots, sizing every BAR and the ROM BAR,
// read-modify-write of command/status, cache line and latency writes)
// reports nothing.
func TestGuestErrors(t *testing.T) {
	type acc struct {
		write     bool
		slot, reg int
		size      int
		val       uint64
	}
	w := func(slot, reg, size int, v uint64) acc { return acc{true, slot, reg, size, v} }
	rd := func(slot, reg, size int) acc { return acc{false, slot, reg, size, 0} }
	var enumerate []acc
	for s := 0; s < NumSlots; s++ {
		enumerate = append(enumerate, rd(s, VendorID, 4), rd(s, HeaderType, 1))
	}
	for i := 0; i < 6; i++ {
		enumerate = append(enumerate, rd(1, BAR0+4*i, 4), w(1, BAR0+4*i, 4, 0xffff_ffff), w(1, BAR0+4*i, 4, 0))
	}
	enumerate = append(enumerate, w(1, ROMAddress, 4, 0xffff_f800), w(1, ROMAddress, 4, 0),
		w(1, BAR0, 4, 0x1001), w(1, BAR0+4, 4, 0x4000_0000),
		w(1, Command, 4, uint64(StatusFastB2B|StatusDevselMed)<<16|CmdIO|CmdMemory|CmdBusMaster),
		w(1, CacheLineSize, 1, 16), w(1, LatencyTimer, 1, 64), w(1, InterruptLine, 1, 33),
		w(1, VendorID, 4, 0x2415_8086),    // rewriting the same value changes nothing
		w(1, SubVendorID, 4, 0x7600_8384)) // write-once on ICH chipsets
	for _, tc := range []struct {
		name string
		accs []acc
		want []string
	}{
		{"enumerate and enable", enumerate, nil},
		{"8-byte read", []acc{rd(1, BAR0, 8), rd(1, BAR0+8, 8)},
			[]string{"8-byte config read at 00:01.0 offset 0x10: the ECAM takes naturally aligned 1-, 2- and 4-byte accesses only (PCI Express Base spec 3.0 §7.2.2); QEMU refuses it, gemu splits it"}},
		{"8-byte write", []acc{w(1, BAR0, 8, 0x1234_0000_1001)},
			[]string{"8-byte config write of 0x123400001001 at 00:01.0 offset 0x10: the ECAM takes naturally aligned 1-, 2- and 4-byte accesses only (PCI Express Base spec 3.0 §7.2.2); QEMU refuses it, gemu splits it"}},
		{"absent function", []acc{w(3, Command, 2, 7), w(3, Command, 2, 7)},
			[]string{"config write of 0x7 to 00:03.0 offset 0x4 dropped: no function there (PCI Local Bus spec 3.0 §6.1: an access to a function that does not exist ends in master abort; a driver writes only functions whose Vendor ID read back valid)"}},
		{"read-only field", []acc{w(1, InterruptPin-1, 2, 0x0221), w(1, HeaderType, 1, 0x80), w(1, HeaderType, 1, 0x80)},
			[]string{
				"2-byte config write of 0x221 to 00:01.0 offset 0x3c tries to change the Interrupt Pin (offset 0x3d), which is read-only and keeps its value (PCI Local Bus spec 3.0 §6.2.1, §6.2.4)",
				"1-byte config write of 0x80 to 00:01.0 offset 0xe tries to change the Header Type (offset 0xe), which is read-only and keeps its value (PCI Local Bus spec 3.0 §6.2.1, §6.2.4)",
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			f, _, _, _ := testFunction(t)
			if _, err := r.h.Attach(1, 0, f); err != nil {
				t.Fatal(err)
			}
			var got []string
			r.h.GuestError = func(format string, args ...any) { got = append(got, fmt.Sprintf(format, args...)) }
			for _, a := range tc.accs {
				if a.write {
					r.cfgWrite(t, a.slot, a.reg, a.size, a.val)
				} else {
					r.cfgRead(t, a.slot, a.reg, a.size)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("guest errors (-want +got):\n%s", diff)
			}
		})
	}
}
