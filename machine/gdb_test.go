package machine

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"gemu/gdbstub"
)

func TestGDBAddr(t *testing.T) {
	tests := []struct {
		spec, want string
		ok         bool
	}{
		{"tcp::1234", "127.0.0.1:1234", true},
		{"tcp:localhost:1234", "localhost:1234", true},
		{"tcp:0.0.0.0:1234", "0.0.0.0:1234", true},
		{"tcp:[::1]:1234", "[::1]:1234", true},
		{"tcp::1234,server,nowait", "127.0.0.1:1234", true},
		{"tcp::1234,server=on,wait=off", "127.0.0.1:1234", true},
		{"none", "", true},
		{"tcp::1234,telnet", "", false},
		{"unix:/tmp/gdb.sock", "", false},
		{"1234", "", false},
		{"tcp:1234", "", false},
		{"tcp:", "", false},
		{"tcp::", "", false},
	}
	for _, tc := range tests {
		got, err := GDBAddr(tc.spec)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("GDBAddr(%q) = %q, %v; want %q (ok %v)", tc.spec, got, err, tc.want, tc.ok)
		}
	}
}

func TestListenGDBErrors(t *testing.T) {
	m, err := New(bare((&prog{}).loop().bytes(), nil))
	if err != nil {
		t.Fatal(err)
	}
	defer m.finish()
	if _, err := m.ListenGDB("none", true); err == nil {
		t.Error("-S with -gdb none accepted")
	}
	if a, err := m.ListenGDB("none", false); err != nil || a != nil {
		t.Errorf("-gdb none: %v, %v", a, err)
	}
	if _, err := m.ListenGDB("tcp:127.0.0.1:0", false); err != nil {
		t.Fatal(err)
	}
	if _, err := m.ListenGDB("tcp:127.0.0.1:0", false); err == nil {
		t.Error("a second stub was accepted")
	}
}

// rsp is a minimal gdb: no-ack mode after the handshake.
type rsp struct {
	t      *testing.T
	c      net.Conn
	frames chan gdbstub.Frame
	noAck  bool
}

func dialRSP(t *testing.T, addr net.Addr) *rsp {
	t.Helper()
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	r := &rsp{t: t, c: c, frames: make(chan gdbstub.Frame, 16)}
	go func() {
		var d gdbstub.Decoder
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			d.Feed(buf[:n], func(f gdbstub.Frame) { r.frames <- f })
			if err != nil {
				close(r.frames)
				return
			}
		}
	}()
	t.Cleanup(func() { c.Close() })
	r.cmd("qSupported:swbreak+;hwbreak+")
	if got := r.cmd("QStartNoAckMode"); got != "OK" {
		t.Fatalf("QStartNoAckMode = %q", got)
	}
	r.noAck = true
	return r
}

func (r *rsp) raw(p []byte) {
	r.t.Helper()
	if _, err := r.c.Write(p); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rsp) send(p string) {
	r.t.Helper()
	r.raw(gdbstub.AppendPacket(nil, []byte(p)))
	if !r.noAck {
		if f := <-r.frames; f.Kind != gdbstub.FrameAck {
			r.t.Fatalf("%s: frame %+v, want +", p, f)
		}
	}
}

func (r *rsp) reply() string {
	r.t.Helper()
	select {
	case f, ok := <-r.frames:
		if !ok || f.Kind != gdbstub.FramePacket {
			r.t.Fatalf("frame %+v (open %v), want a packet", f, ok)
		}
		if !r.noAck {
			r.raw([]byte("+"))
		}
		return string(f.Data)
	case <-time.After(20 * time.Second):
		r.t.Fatal("no reply from the stub in 20 s")
	}
	return ""
}

func (r *rsp) cmd(p string) string {
	r.t.Helper()
	r.send(p)
	return r.reply()
}

// reg reads register n as a number.
func (r *rsp) reg(n int) uint64 {
	r.t.Helper()
	h := r.cmd("p" + strconv.FormatInt(int64(n), 16))
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != 8 {
		r.t.Fatalf("p%x = %q", n, h)
	}
	return binary.LittleEndian.Uint64(b)
}

type runResult struct {
	ex  Exit
	err error
}

// startGDB builds a machine for code with a stub on a free port and runs it.
func startGDB(t *testing.T, cfg Config, wait bool) (*Machine, net.Addr, chan runResult) {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.CloseInput()
	addr, err := m.ListenGDB("tcp:127.0.0.1:0", wait)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan runResult, 1)
	go func() {
		ex, err := m.Run()
		done <- runResult{ex, err}
	}()
	t.Cleanup(func() {
		m.Stop()
		<-done
	})
	return m, addr, done
}

func wait(t *testing.T, done chan runResult) runResult {
	t.Helper()
	select {
	case r := <-done:
		done <- r // for the cleanup
		return r
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return in 20 s")
	}
	return runResult{}
}

func le64(v uint64) string {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	return hex.EncodeToString(b[:])
}

// A gdb session on a bare program: -S, registers, memory, a breakpoint, a
// step, and continue to the power-off.
func TestGDBSession(t *testing.T) {
	p := (&prog{}).addi(t0, zero, 42) // RAMBase+0
	p.addi(t1, zero, 7)               // +4: breakpoint
	p.add(t2, t0, t1)                 // +8
	code := p.finish(0x5555).bytes()
	m, addr, done := startGDB(t, bare(code, nil), true)
	g := dialRSP(t, addr)

	if got := g.cmd("?"); got != "T05thread:1;" {
		t.Errorf("? = %q", got)
	}
	if pc := g.reg(gdbstub.RegPC); pc != MROMBase {
		t.Errorf("pc at -S = %#x, want the boot ROM %#x", pc, MROMBase)
	}
	if got, want := g.cmd("m1000,4"), hex.EncodeToString(m.rom.data[:4]); got != want {
		t.Errorf("boot ROM read %q, want %q", got, want)
	}
	if got := g.cmd("m10000000,1"); got != "E0e" {
		t.Errorf("UART register read %q: devices must not be read for gdb", got)
	}
	if got := g.cmd("Z0,80000004,4"); got != "OK" {
		t.Fatalf("Z0 = %q", got)
	}
	if got := g.cmd("c"); got != "T05swbreak:;thread:1;" {
		t.Fatalf("continue: stop %q", got)
	}
	if pc := g.reg(gdbstub.RegPC); pc != RAMBase+4 {
		t.Errorf("breakpoint: pc %#x", pc)
	}
	if v := g.reg(t0); v != 42 {
		t.Errorf("t0 = %d", v)
	}
	if v := g.reg(t1); v != 0 {
		t.Errorf("t1 = %d before the breakpoint's instruction", v)
	}
	if got := g.cmd("s"); got != "T05thread:1;" {
		t.Fatalf("step: stop %q", got)
	}
	if pc, v := g.reg(gdbstub.RegPC), g.reg(t1); pc != RAMBase+8 || v != 7 {
		t.Errorf("after step: pc %#x t1 %d", pc, v)
	}
	if got, want := g.cmd("m80000000,8"), hex.EncodeToString(code[:8]); got != want {
		t.Errorf("code read %q, want %q", got, want)
	}
	if got := g.cmd("M80001000,4:deadbeef"); got != "OK" {
		t.Errorf("M = %q", got)
	}
	if got := g.cmd("P7=" + le64(1000)); got != "OK" {
		t.Errorf("P t2 = %q", got)
	}
	if got := g.cmd("p" + strconv.FormatInt(gdbstub.RegCSR+0xf14, 16)); got != le64(0) {
		t.Errorf("mhartid = %q", got)
	}
	if got := g.cmd("z0,80000004,4"); got != "OK" {
		t.Errorf("z0 = %q", got)
	}
	if got := g.cmd("c"); got != "W00" {
		t.Errorf("continue to the end: %q, want W00", got)
	}
	r := wait(t, done)
	if r.err != nil || r.ex != (Exit{0, "power off"}) {
		t.Errorf("Run = %+v, %v", r.ex, r.err)
	}
	if v, _ := m.Bus.Read32(RAMBase + 0x1000); v != 0xefbeadde {
		t.Errorf("memory written by gdb = %#x", v)
	}
	if v := m.Hart.X(t2); v != 7+42 {
		t.Errorf("t2 = %d: the add after the step must have run", v)
	}
}

// gdb attaching to a running guest stops it; Ctrl-C stops it again; k ends
// the run.
func TestGDBInterruptAndKill(t *testing.T) {
	_, addr, done := startGDB(t, bare((&prog{}).loop().bytes(), nil), false)
	g := dialRSP(t, addr)
	if got := g.cmd("?"); got != "T05thread:1;" {
		t.Errorf("? after attaching = %q", got)
	}
	// Into the loop (the stop above may have come anywhere, even before
	// the boot ROM ran), then run freely and interrupt.
	g.cmd("Z0,80000000,4")
	if got := g.cmd("c"); got != "T05swbreak:;thread:1;" {
		t.Fatalf("stop %q", got)
	}
	g.cmd("z0,80000000,4")
	g.send("c")
	g.raw([]byte{0x03})
	if got := g.reply(); got != "T02thread:1;" {
		t.Errorf("Ctrl-C: stop %q", got)
	}
	if pc := g.reg(gdbstub.RegPC); pc != RAMBase {
		t.Errorf("pc %#x, want the loop at %#x", pc, RAMBase)
	}
	g.send("k")
	r := wait(t, done)
	if r.err != nil || r.ex.Reason != "killed by gdb" {
		t.Errorf("Run = %+v, %v", r.ex, r.err)
	}
}

// timerIRQProgram takes a machine timer interrupt while spinning; the handler
// at RAMBase+0x100 powers off.
func timerIRQProgram() []byte {
	p := &prog{}
	p.la(t0, RAMBase).addi(t0, t0, 0x100).csrw(0x305, t0) // mtvec
	p.lui(t0, (CLINTBase+0x4000)>>12)                     // mtimecmp
	p.lui(t2, (CLINTBase+0xc000)>>12)
	p.addi(t2, t2, -8) // mtime
	p.ld(t1, t2, 0).li(t3, 100).add(t1, t1, t3).sd(t1, t0, 0)
	p.addi(t4, zero, 0x80).csrw(0x304, t4) // mie = MTIE
	p.addi(t4, zero, 8).csrw(0x300, t4)    // mstatus.MIE
	p.loop()
	for len(p.words) < 0x100/4 {
		p.emit(0x13) // nop
	}
	return p.finish(0x5555).bytes()
}

// A breakpoint on the first instruction of a trap handler is hit when an
// interrupt enters it.
func TestGDBBreakInInterruptHandler(t *testing.T) {
	_, addr, done := startGDB(t, bare(timerIRQProgram(), nil), true)
	g := dialRSP(t, addr)
	g.cmd("Z0,80000100,4")
	if got := g.cmd("c"); got != "T05swbreak:;thread:1;" {
		t.Fatalf("stop %q", got)
	}
	if pc := g.reg(gdbstub.RegPC); pc != RAMBase+0x100 {
		t.Errorf("pc %#x, want the handler", pc)
	}
	if cause := g.reg(gdbstub.RegCSR + 0x342); cause != 1<<63|7 {
		t.Errorf("mcause %#x, want the machine timer interrupt", cause)
	}
	g.cmd("z0,80000100,4")
	if got := g.cmd("c"); got != "W00" {
		t.Errorf("end: %q", got)
	}
	wait(t, done)
}

// Breakpoints that are never hit do not change what a deterministic guest
// does: same instruction count, same timer wake-up.
func TestGDBBreakpointsKeepDeterminism(t *testing.T) {
	type outcome struct {
		Instret, Woke, Cmp uint64
	}
	measure := func(m *Machine) outcome {
		now, _ := m.Bus.Read64(RAMBase + 0x2000)
		cmpv, _ := m.Bus.Read64(RAMBase + 0x2008)
		return outcome{m.Hart.Instret(), now, cmpv}
	}
	_, plain := run(t, bare(timerProgram(50000), nil))
	want := measure(plain)

	m, addr, done := startGDB(t, bare(timerProgram(50000), nil), true)
	g := dialRSP(t, addr)
	g.cmd("Z0,80100000,4") // never executed
	if got := g.cmd("c"); got != "W00" {
		t.Fatalf("end: %q", got)
	}
	wait(t, done)
	if diff := cmp.Diff(want, measure(m)); diff != "" {
		t.Errorf("run under gdb differs (-plain +gdb):\n%s", diff)
	}
}

// The debugger reads and writes virtual memory through the page tables of
// S mode.
func TestGDBVirtualMemory(t *testing.T) {
	m, err := New(bare((&prog{}).loop().bytes(), nil))
	if err != nil {
		t.Fatal(err)
	}
	defer m.finish()
	if _, err := m.ListenGDB("tcp:127.0.0.1:0", false); err != nil {
		t.Fatal(err)
	}
	g := m.gdb()
	// Sv39 root at RAMBase+0x10000 points VA 0x40000000 to a level-1
	// table whose first entry is a 2 MiB leaf mapping it to RAMBase (RWX,
	// A, D); the next 2 MiB are unmapped.
	root := uint64(RAMBase + 0x10000)
	m.Bus.Write64(root+8*1, (root+0x1000)>>12<<10|1)
	m.Bus.Write64(root+0x1000, RAMBase>>12<<10|0xcf)
	m.Bus.Write32(RAMBase+0x20, 0x11223344)
	if !g.WriteRegister(gdbstub.RegCSR+0x180, 8<<60|root>>12) || !g.WriteRegister(gdbstub.RegPriv, 1) {
		t.Fatal("cannot set satp and priv")
	}
	buf := make([]byte, 4)
	if n := g.ReadMemory(0x40000020, buf); n != 4 || binary.LittleEndian.Uint32(buf) != 0x11223344 {
		t.Errorf("virtual read: %d bytes %x", n, buf)
	}
	if n := g.ReadMemory(0x80000020, buf); n != 0 {
		t.Errorf("unmapped virtual address read %d bytes", n)
	}
	// A read running off the end of the mapping stops there.
	end := uint64(0x40000000 + 2<<20 - 2)
	if n := g.ReadMemory(end, buf); n != 2 {
		t.Errorf("read across the end of the mapping: %d bytes, want 2", n)
	}
	if !g.WriteMemory(0x40000024, []byte{1, 2}) {
		t.Error("virtual write failed")
	}
	if v, _ := m.Bus.Read16(RAMBase + 0x24); v != 0x0201 {
		t.Errorf("virtual write landed as %#x", v)
	}
	if g.WriteMemory(end, []byte{1, 2, 3, 4}) {
		t.Error("write across the end of the mapping succeeded")
	}
	if v, _ := m.Bus.Read16(end - 0x40000000 + RAMBase); v != 0 {
		t.Error("a failed write wrote part of its data")
	}
}

// Closing gdb while the guest is stopped lets it run on to its end, with
// gdb's breakpoints gone; so does detaching.
func TestGDBDisconnectRunsOn(t *testing.T) {
	for _, detach := range []bool{false, true} {
		code := (&prog{}).addi(t0, zero, 1).finish(0x5555).bytes()
		_, addr, done := startGDB(t, bare(code, nil), true)
		g := dialRSP(t, addr)
		g.cmd("Z0,80000004,4")
		if detach {
			if got := g.cmd("D"); got != "OK" {
				t.Errorf("D = %q", got)
			}
		}
		g.c.Close()
		if r := wait(t, done); r.err != nil || r.ex != (Exit{0, "power off"}) {
			t.Errorf("detach %v: Run = %+v, %v", detach, r.ex, r.err)
		}
	}
}

// Ctrl-C reaches a hart sleeping in WFI with nothing armed (no deadlock
// report while gdb may still stop it).
func TestGDBInterruptWFI(t *testing.T) {
	_, addr, done := startGDB(t, bare((&prog{}).wfi().loop().bytes(), nil), false)
	g := dialRSP(t, addr)
	g.send("c")
	g.raw([]byte{0x03})
	if got := g.reply(); got != "T02thread:1;" {
		t.Errorf("Ctrl-C: stop %q", got)
	}
	g.send("k")
	if r := wait(t, done); r.err != nil {
		t.Errorf("Run: %v", r.err)
	}
}

// While gdb holds a real-time machine, virtual time stands still: the
// guest's first mtime read cannot include the time spent stopped.
func TestGDBPauseHoldsTime(t *testing.T) {
	p := (&prog{}).lui(t2, (CLINTBase+0xc000)>>12)
	p.addi(t2, t2, -8).ld(t1, t2, 0) // mtime
	p.la(t0, RAMBase+0x2000).sd(t1, t0, 0)
	cfg := bare(p.finish(0x5555).bytes(), nil)
	cfg.Deterministic = false
	begin := time.Now()
	m, addr, done := startGDB(t, cfg, true)
	g := dialRSP(t, addr)
	const hold = 300 * time.Millisecond
	time.Sleep(hold)
	if got := g.cmd("c"); got != "W00" {
		t.Fatalf("end: %q", got)
	}
	wait(t, done)
	total := time.Since(begin)
	ticks, _ := m.Bus.Read64(RAMBase + 0x2000)
	// Virtual time is host time minus the pause, which lasted at least hold.
	if seen := time.Duration(ticks * 100); seen > total-hold {
		t.Errorf("guest saw mtime %v after a run of %v held for %v: the pause leaked into virtual time", seen, total, hold)
	}
}

// Watchpoints stop before the access, with the pc at the instruction (as
// QEMU's do; gdb steps over it and compares the values itself): a write
// watchpoint on a store into the watched bytes, a read watchpoint on a
// load, an access watchpoint on either; accesses next to them do not stop.
func TestGDBWatchpoints(t *testing.T) {
	p := (&prog{}).la(t0, RAMBase+0x1000)
	p.sw(zero, t0, 0)                 // +12: next to the watched word
	p.addi(t1, zero, 5).sw(t1, t0, 4) // +20: stores into it
	p.lw(t1, t0, 4)                   // +24: reads it
	p.addi(t1, zero, 6).sw(t1, t0, 8) // +32: the next word
	code := p.finish(0x5555).bytes()
	_, addr, done := startGDB(t, bare(code, nil), true)
	g := dialRSP(t, addr)
	if got := g.cmd("Z2,80001004,4"); got != "OK" {
		t.Fatalf("Z2 = %q", got)
	}
	if got := g.cmd("c"); got != "T05watch:80001004;thread:1;" {
		t.Fatalf("stop %q", got)
	}
	if pc := g.reg(gdbstub.RegPC); pc != RAMBase+20 {
		t.Errorf("pc %#x, want the store at %#x", pc, RAMBase+20)
	}
	if got := g.cmd("m80001004,4"); got != "00000000" {
		t.Errorf("watched word %s before the store ran", got)
	}
	// gdb steps over it with the watchpoint out
	g.cmd("z2,80001004,4")
	if got := g.cmd("s"); got != "T05thread:1;" {
		t.Fatalf("step: %q", got)
	}
	if got := g.cmd("m80001004,4"); got != "05000000" {
		t.Errorf("watched word %s after the store", got)
	}
	if got := g.cmd("Z3,80001004,4"); got != "OK" {
		t.Fatalf("Z3 = %q", got)
	}
	if got := g.cmd("c"); got != "T05rwatch:80001004;thread:1;" {
		t.Fatalf("read stop %q", got)
	}
	if pc := g.reg(gdbstub.RegPC); pc != RAMBase+24 {
		t.Errorf("pc %#x, want the load at %#x", pc, RAMBase+24)
	}
	g.cmd("z3,80001004,4")
	if got := g.cmd("Z4,80001006,8"); got != "OK" {
		t.Fatalf("Z4 = %q", got)
	}
	if got := g.cmd("c"); got != "T05awatch:80001006;thread:1;" {
		t.Fatalf("access stop %q", got)
	}
	if pc := g.reg(gdbstub.RegPC); pc != RAMBase+24 {
		t.Errorf("pc %#x, want the load at %#x", pc, RAMBase+24)
	}
	g.cmd("z4,80001006,8")
	if got := g.cmd("c"); got != "W00" {
		t.Errorf("end: %q", got)
	}
	wait(t, done)
}

// FuzzGDBMemory: whatever gdb asks (addresses, lengths) and whatever the
// guest left in satp and its page tables, debugger memory access stays
// inside RAM and the boot ROM and never panics.
func FuzzGDBMemory(f *testing.F) {
	cfg := bare((&prog{}).loop().bytes(), nil)
	cfg.RAMSize = 16 << 20
	m, err := New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	defer m.finish()
	if _, err := m.ListenGDB("tcp:127.0.0.1:0", false); err != nil {
		f.Fatal(err)
	}
	g := m.gdb()
	root := uint64(RAMBase + 0x10000)
	f.Add(uint64(0x40000000), uint16(64), uint64(8<<60|root>>12), uint8(1), []byte{0xcf, 0, 0, 0x20})
	f.Add(uint64(RAMBase+16<<20-3), uint16(8), uint64(0), uint8(3), []byte{1, 2, 3})
	f.Add(uint64(0xffffffffffffff00), uint16(0x400), uint64(9<<60|root>>12), uint8(0), []byte{0x01})
	f.Fuzz(func(t *testing.T, addr uint64, n uint16, satp uint64, priv uint8, tables []byte) {
		if len(tables) > 0x3000 {
			tables = tables[:0x3000]
		}
		m.Bus.WriteDMA(root, tables)
		g.WriteRegister(gdbstub.RegPriv, uint64(priv&3))
		g.WriteRegister(gdbstub.RegCSR+0x180, satp)
		buf := make([]byte, n)
		if got := g.ReadMemory(addr, buf); got < 0 || got > len(buf) {
			t.Fatalf("ReadMemory returned %d for %d bytes", got, len(buf))
		}
		g.WriteMemory(addr, buf)
	})
}

// BenchmarkGDBRun measures the guest's speed under the stub: with no
// breakpoint (plain batches) and with one that is never hit (the hart runs
// one instruction at a time with a pc check before each). Compare with
// BenchmarkRunLoop.
func BenchmarkGDBRun(b *testing.B) {
	const iters = 2_000_000 // 2 instructions each
	p := (&prog{}).li(t3, iters)
	p.addi(t3, t3, -1).bne(t3, zero, -4)
	code := p.finish(0x5555).bytes()
	for _, bps := range []int{0, 1, 8} {
		b.Run(fmt.Sprintf("breakpoints=%d", bps), func(b *testing.B) {
			var instr uint64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				m, err := New(bare(code, nil))
				if err != nil {
					b.Fatal(err)
				}
				m.CloseInput()
				if _, err := m.ListenGDB("tcp:127.0.0.1:0", false); err != nil {
					b.Fatal(err)
				}
				for j := 0; j < bps; j++ {
					m.gdb().Breakpoint(gdbstub.BreakSoftware, 0x80100000+4*uint64(j), 4, true)
				}
				b.StartTimer()
				if ex, err := m.Run(); err != nil || ex.Code != 0 {
					b.Fatalf("exit %+v, %v", ex, err)
				}
				instr += m.Hart.Instret()
			}
			b.ReportMetric(float64(instr)/b.Elapsed().Seconds()/1e6, "MIPS")
		})
	}
}

// With two harts gdb sees two threads: a breakpoint only hart 1 reaches
// stops the machine naming thread 2, Hg picks whose registers gdb reads, a
// step runs only the hart it names, and a watchpoint hit by hart 1 names
// thread 2 as well.
func TestGDBHarts(t *testing.T) {
	p := (&prog{}).bne(a0, zero, 12) // +0: hart 1 to +12
	p.addi(t1, zero, 1)              // +4: hart 0
	p.loop()                         // +8: hart 0 spins
	p.addi(t2, zero, 2)              // +12: hart 1 only
	p.la(t0, RAMBase+0x1000)         // +16, +20, +24
	p.sw(t2, t0, 0)                  // +28: the watched store
	p.finish(0x5555)
	cfg := bare(p.bytes(), nil)
	cfg.Harts = 2
	_, addr, done := startGDB(t, cfg, true)
	g := dialRSP(t, addr)
	for _, c := range []struct{ send, want string }{
		{"qfThreadInfo", "m1,2"},
		{"qsThreadInfo", "l"},
		{"Z0,8000000c,4", "OK"},
		{"c", "T05swbreak:;thread:2;"},
		{"qC", "QC2"},
	} {
		if got := g.cmd(c.send); got != c.want {
			t.Fatalf("%s: %q, want %q", c.send, got, c.want)
		}
	}
	if pc, id := g.reg(gdbstub.RegPC), g.reg(gdbstub.RegX0+a0); pc != RAMBase+12 || id != 1 {
		t.Errorf("thread 2: pc %#x a0 %d, want %#x and hart ID 1", pc, id, RAMBase+12)
	}
	g.cmd("Hg1")
	if pc, id := g.reg(gdbstub.RegPC), g.reg(gdbstub.RegX0+a0); pc != RAMBase+8 || id != 0 {
		t.Errorf("thread 1: pc %#x a0 %d, want %#x and hart ID 0", pc, id, RAMBase+8)
	}
	// step hart 1 past the breakpoint: hart 0 does not move
	g.cmd("z0,8000000c,4")
	if got := g.cmd("vCont;s:2"); got != "T05thread:2;" {
		t.Fatalf("vCont;s:2: %q", got)
	}
	if pc := g.reg(gdbstub.RegPC); pc != RAMBase+16 {
		t.Errorf("thread 2 stepped to %#x, want %#x", pc, RAMBase+16)
	}
	g.cmd("Hg1")
	if pc := g.reg(gdbstub.RegPC); pc != RAMBase+8 {
		t.Errorf("thread 1 moved to %#x during thread 2's step", pc)
	}
	if got := g.cmd("Z2,80001000,4"); got != "OK" {
		t.Fatalf("Z2: %q", got)
	}
	if got := g.cmd("c"); got != "T05watch:80001000;thread:2;" {
		t.Fatalf("watchpoint: %q", got)
	}
	if pc := g.reg(gdbstub.RegPC); pc != RAMBase+28 {
		t.Errorf("watch stop at %#x, want the store at %#x", pc, RAMBase+28)
	}
	g.cmd("z2,80001000,4")
	if got := g.cmd("c"); got != "W00" {
		t.Errorf("end: %q", got)
	}
	wait(t, done)
}
