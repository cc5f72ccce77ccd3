package gdbstub

import (
	"encoding/xml"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeTarget is a hart with registers in a map and RAM at memBase.
type fakeTarget struct {
	regs     map[int]uint64
	mem      []byte
	bps      []bpOp
	nthreads int // Threads (0: 1)
	selected int // SelectThread
}

func (f *fakeTarget) Threads() int        { return max(f.nthreads, 1) }
func (f *fakeTarget) SelectThread(id int) { f.selected = id }
func (f *fakeTarget) ThreadInfo(id int) string {
	return "CPU#" + strconv.Itoa(id-1) + " [running]"
}

type bpOp struct {
	Kind   BreakKind
	Addr   uint64
	Length uint64
	Insert bool
}

const memBase = 0x80000000

// testCSRs is the fake target's CSR list; fcsr (3) is there to check that
// the FP CSRs are not described twice.
var testCSRs = []CSR{{"fcsr", 3}, {"satp", 0x180}, {"mhartid", 0xf14}, {"mstatus", 0x300}}

func newFake() *fakeTarget {
	ft := &fakeTarget{regs: map[int]uint64{}, mem: make([]byte, 0x100)}
	for i := 1; i < 32; i++ {
		ft.regs[i] = uint64(i) * 0x1111
	}
	ft.regs[RegPC] = memBase + 0x78
	ft.regs[RegF0+1] = 0x400921fb54442d18 // pi
	ft.regs[RegCSR+3] = 0xe0              // fcsr
	ft.regs[RegCSR+0x300] = 0xa00000000
	ft.regs[RegPriv] = 3
	for i := range ft.mem {
		ft.mem[i] = byte(i)
	}
	return ft
}

func (f *fakeTarget) ReadRegister(n int) (uint64, bool) {
	if n == 0 {
		return 0, true
	}
	v, ok := f.regs[n]
	return v, ok
}

func (f *fakeTarget) WriteRegister(n int, v uint64) bool {
	if _, ok := f.regs[n]; !ok || n == RegCSR+0xf14 {
		return false
	}
	f.regs[n] = v
	return true
}

func (f *fakeTarget) ReadMemory(addr uint64, p []byte) int {
	n := 0
	for i := range p {
		a := addr + uint64(i)
		if a < memBase || a-memBase >= uint64(len(f.mem)) {
			break
		}
		p[i] = f.mem[a-memBase]
		n++
	}
	return n
}

func (f *fakeTarget) WriteMemory(addr uint64, p []byte) bool {
	if addr < memBase || addr-memBase > uint64(len(f.mem)) || uint64(len(p)) > uint64(len(f.mem))-(addr-memBase) {
		return false
	}
	copy(f.mem[addr-memBase:], p)
	return true
}

func (f *fakeTarget) Breakpoint(kind BreakKind, addr, length uint64, insert bool) error {
	if kind >= WatchWrite {
		return ErrUnsupported
	}
	if addr == 0 {
		return net.ErrClosed // any failure
	}
	f.bps = append(f.bps, bpOp{kind, addr, length, insert})
	return nil
}

// session is a stub serving a fake machine on one end of a net.Pipe and a
// gdb-like client on the other.
type session struct {
	t       *testing.T
	stub    *Stub
	target  *fakeTarget
	client  net.Conn
	frames  chan Frame
	noAck   bool
	wake    chan struct{}
	hit     chan Stop     // what the fake machine hits while it runs
	exit    chan int      // the guest ends with this code while running
	results chan Resume   // every Resume Serve returned
	quit    atomic.Bool   // what the machine's quit function reports
	done    chan struct{} // the machine goroutine ended
}

func newSession(t *testing.T) *session {
	t.Helper()
	s := &session{
		t:       t,
		target:  newFake(),
		frames:  make(chan Frame, 64),
		wake:    make(chan struct{}, 1),
		hit:     make(chan Stop),
		exit:    make(chan int),
		results: make(chan Resume, 16),
		done:    make(chan struct{}),
	}
	s.stub = New(func() {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}, testCSRs)
	srv, cli := net.Pipe()
	s.client = cli
	if !s.stub.Attach(srv) {
		t.Fatal("Attach refused the first connection")
	}
	go func() {
		var d Decoder
		buf := make([]byte, 4096)
		for {
			n, err := cli.Read(buf)
			d.Feed(buf[:n], func(f Frame) { s.frames <- f })
			if err != nil {
				close(s.frames)
				return
			}
		}
	}()
	go s.machine()
	t.Cleanup(func() {
		cli.Close()
		<-s.done
		s.stub.Close()
	})
	return s
}

// machine plays the emulation goroutine: stopped at start-up, it serves gdb;
// running, it waits for a scripted stop or an interrupt.
func (s *session) machine() {
	defer close(s.done)
	why := Stop{Kind: StopAttach}
	for {
		r := s.stub.Serve(s.target, why, s.wake, s.quit.Load)
		s.results <- r
		switch r.Action {
		case Kill, Quit:
			return
		case Step:
			s.target.regs[RegPC] += 4
			why = Stop{Kind: StopStep, Thread: r.Thread}
			continue
		}
		if r.Action == Detach && !s.stub.Attached() {
			return
		}
	wait:
		for {
			select {
			case why = <-s.hit:
				break wait
			case code := <-s.exit:
				s.stub.Exit(code)
				return
			case <-s.wake:
				if s.stub.Interrupted() {
					why = Stop{Kind: StopInterrupt}
					break wait
				}
				if !s.stub.Attached() {
					return
				}
			}
		}
	}
}

func (s *session) sendRaw(p string) {
	s.t.Helper()
	if _, err := s.client.Write([]byte(p)); err != nil {
		s.t.Fatalf("write: %v", err)
	}
}

// frame returns the next frame from the stub.
func (s *session) frame() Frame {
	s.t.Helper()
	f, ok := <-s.frames
	if !ok {
		s.t.Fatal("connection closed")
	}
	return f
}

// packet returns the next packet from the stub, acking it.
func (s *session) packet() string {
	s.t.Helper()
	f := s.frame()
	if f.Kind != FramePacket {
		s.t.Fatalf("got frame kind %d, want a packet", f.Kind)
	}
	if !s.noAck {
		s.sendRaw("+")
	}
	return string(f.Data)
}

// send sends a packet and checks the stub's ack (before no-ack mode). Like
// gdb, it frames p as it is: binary data in p is escaped already.
func (s *session) send(p string) {
	s.t.Helper()
	s.sendRaw("$" + p + "#" + hexSum(p))
	if !s.noAck {
		if f := s.frame(); f.Kind != FrameAck {
			s.t.Fatalf("%q: got frame kind %d, want +", p, f.Kind)
		}
	}
}

// cmd sends a packet and returns the reply.
func (s *session) cmd(p string) string {
	s.t.Helper()
	s.send(p)
	return s.packet()
}

func (s *session) handshake() {
	s.t.Helper()
	r := s.cmd("qSupported:swbreak+;hwbreak+;qRelocInsn+;fork-events+;xmlRegisters=i386")
	if !strings.Contains(r, "PacketSize=4000") || !strings.Contains(r, "qXfer:features:read+") {
		s.t.Fatalf("qSupported = %q", r)
	}
	if r := s.cmd("QStartNoAckMode"); r != "OK" {
		s.t.Fatalf("QStartNoAckMode = %q", r)
	}
	s.noAck = true
}

func TestCommands(t *testing.T) {
	s := newSession(t)
	s.handshake()
	tests := []struct{ send, want string }{
		{"?", "T05thread:1;"},
		{"vMustReplyEmpty", ""},
		{"Hg0", "OK"},
		{"Hc-1", "OK"},
		{"Hg2", "E16"},
		{"qC", "QC1"},
		{"qfThreadInfo", "m1"},
		{"qsThreadInfo", "l"},
		{"qAttached", "1"},
		{"qAttached:1", "1"},
		{"qTStatus", ""},
		{"qSymbol::", "OK"},
		{"T1", "OK"},
		{"T2", "E01"},
		{"vCont?", "vCont;c;C;s;S"},
		{"p20", "7800008000000000"},      // pc
		{"p1", "1111000000000000"},       // ra
		{"p0", "0000000000000000"},       // zero
		{"p22", "182d4454fb210940"},      // f1
		{"p44", "e0000000"},              // fcsr: 32 bits
		{"p42", "xxxxxxxx"},              // fflags: unavailable
		{"p1041", "0300000000000000"},    // priv
		{"p341", "000000000a000000"},     // mstatus
		{"p9999", "E16"},                 // not in the description
		{"p", "E16"},                     // no number
		{"pzz", "E16"},                   // not hex
		{"P20=7c00008000000000", "OK"},   // set pc
		{"p20", "7c00008000000000"},      // and read it back
		{"P20=7c", "E16"},                // short value
		{"Pf55=0100000000000000", "E0e"}, // mhartid: read-only here
		{"m80000000,4", "00010203"},      // memory
		{"m800000fe,8", "feff"},          // partial read at the end
		{"m70000000,4", "E0e"},           // unmapped
		{"m80000000", "E16"},             // no length
		{"m80000000,0", ""},              // nothing
		{"M80000010,2:abcd", "OK"},       // write
		{"m80000010,3", "abcd12"},        // read back
		{"M80000010,2:abc", "E16"},       // odd hex
		{"M80000010,3:abcd", "E16"},      // length mismatch
		{"M70000000,1:00", "E0e"},        // unmapped
		{"X80000020,0:", "OK"},           // gdb's X probe
		{"X80000020,3:}\x03}]*", "OK"},   // escaped # and }, and *
		{"m80000020,3", "237d2a"},        // read back
		{"X80000020,2:}", "E16"},         // dangling escape
		{"Z0,80000078,2", "OK"},          // breakpoint
		{"Z0,80000078,2", "OK"},          // again: idempotent
		{"Z1,80000080,4", "OK"},          // hardware breakpoint
		{"Z2,80000000,8", ""},            // watchpoint: unsupported here
		{"Z0,0,4", "E01"},                // the target refused
		{"Z5,80000078,2", "E16"},         // no such type
		{"Z0,80000078", "E16"},           // no kind
		{"z0,80000078,2", "OK"},          // remove
		{"z0,80000078,2", "OK"},          // remove again: nothing to do
		{"qXfer:features:read:other.xml:0,10", "E00"},
		{"qXfer:features:read:target.xml:ffffff,10", "l"},
		{"qXfer:features:read:target.xml:0", "E16"},
		{"vCont;x", "E16"},
		{"vCont;c:zz", "E16"},
		{"Qfoo", ""},
		{"!", ""},
	}
	for _, tc := range tests {
		if got := s.cmd(tc.send); got != tc.want {
			t.Errorf("%q: reply %q, want %q", tc.send, got, tc.want)
		}
	}
	want := []bpOp{
		{BreakSoftware, 0x80000078, 2, true},
		{BreakHardware, 0x80000080, 4, true},
		{BreakSoftware, 0x80000078, 2, false},
	}
	if diff := cmp.Diff(want, s.target.bps); diff != "" {
		t.Errorf("breakpoint operations (-want +got):\n%s", diff)
	}
}

func TestRegistersGAndG(t *testing.T) {
	s := newSession(t)
	s.handshake()
	g := s.cmd("g")
	if len(g) != 33*16 {
		t.Fatalf("g reply has %d hex digits, want %d", len(g), 33*16)
	}
	if g[16:32] != "1111000000000000" || g[32*16:] != "7800008000000000" {
		t.Errorf("g = %s", g)
	}
	// G: change ra and pc, keep sp (x's), x0 ignored.
	regs := []byte(g)
	copy(regs[0:], "ffffffffffffffff")
	copy(regs[16:], "2222000000000000")
	copy(regs[32:], "xxxxxxxxxxxxxxxx")
	copy(regs[32*16:], "0000008000000000")
	if r := s.cmd("G" + string(regs)); r != "OK" {
		t.Fatalf("G = %q", r)
	}
	got := map[int]uint64{1: s.target.regs[1], 2: s.target.regs[2], RegPC: s.target.regs[RegPC]}
	want := map[int]uint64{1: 0x2222, 2: 0x2222, RegPC: 0x80000000}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("registers after G (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"G", "G123", "G" + strings.Repeat("0", 34*16), "G" + strings.Repeat("z", 16)} {
		if r := s.cmd(bad); r != "E16" {
			t.Errorf("%.20q: reply %q", bad, r)
		}
	}
}

func TestTargetDescription(t *testing.T) {
	s := newSession(t)
	s.handshake()
	var doc []byte
	for {
		r := s.cmd("qXfer:features:read:target.xml:" + strconv.FormatInt(int64(len(doc)), 16) + ",200")
		if r == "" || (r[0] != 'm' && r[0] != 'l') {
			t.Fatalf("qXfer reply %q", r)
		}
		doc = append(doc, r[1:]...)
		if r[0] == 'l' {
			break
		}
	}
	var tgt struct {
		Arch     string `xml:"architecture"`
		Features []struct {
			Name string `xml:"name,attr"`
			Regs []struct {
				Name   string `xml:"name,attr"`
				Bits   int    `xml:"bitsize,attr"`
				Regnum int    `xml:"regnum,attr"`
			} `xml:"reg"`
		} `xml:"feature"`
	}
	if err := xml.Unmarshal(doc, &tgt); err != nil {
		t.Fatalf("target.xml does not parse: %v\n%s", err, doc)
	}
	if tgt.Arch != "riscv:rv64" {
		t.Errorf("architecture %q", tgt.Arch)
	}
	byName := map[string]int{}
	var features []string
	for _, f := range tgt.Features {
		features = append(features, f.Name)
		for _, r := range f.Regs {
			if _, dup := byName[r.Name]; dup {
				t.Errorf("register %s twice", r.Name)
			}
			byName[r.Name] = r.Regnum
		}
	}
	wantFeatures := []string{"org.gnu.gdb.riscv.cpu", "org.gnu.gdb.riscv.fpu", "org.gnu.gdb.riscv.csr", "org.gnu.gdb.riscv.virtual"}
	if diff := cmp.Diff(wantFeatures, features); diff != "" {
		t.Errorf("features (-want +got):\n%s", diff)
	}
	want := map[string]int{"zero": 0, "a0": 10, "t6": 31, "pc": 32, "ft0": 33, "ft11": 64,
		"fflags": 66, "frm": 67, "fcsr": 68, "mstatus": 65 + 0x300, "satp": 65 + 0x180, "priv": RegPriv}
	for n, num := range want {
		if byName[n] != num {
			t.Errorf("%s: regnum %d, want %d", n, byName[n], num)
		}
	}
}

func (s *session) result() Resume {
	s.t.Helper()
	return <-s.results
}

// TestThreads: a target with four harts is four threads (QEMU's numbering,
// 1..4); Hg selects whose registers gdb reads, a stop names the hart that
// stopped and selects it, and a step steps the thread vCont names.
func TestThreads(t *testing.T) {
	s := newSession(t)
	s.target.nthreads = 4
	s.handshake()
	for _, c := range []struct{ send, want string }{
		{"qfThreadInfo", "m1,2,3,4"},
		{"qsThreadInfo", "l"},
		{"qC", "QC1"},
		{"T3", "OK"},
		{"T5", "E01"},
		{"T0", "E01"},
		{"qThreadExtraInfo,2", string(appendHex(nil, []byte("CPU#1 [running]")))},
		{"qThreadExtraInfo,9", "E01"},
		{"Hg3", "OK"},
		{"qC", "QC3"},
		{"Hg5", "E16"},
		{"Hg0", "OK"},
		{"qC", "QC3"},
		{"Hc-1", "OK"},
	} {
		if got := s.cmd(c.send); got != c.want {
			t.Errorf("%s: %q, want %q", c.send, got, c.want)
		}
	}
	if s.target.selected != 3 {
		t.Errorf("Hg3 selected thread %d", s.target.selected)
	}
	// continue; hart 1 (thread 2) hits a breakpoint
	s.send("vCont;c")
	if r := s.result(); r.Action != Continue {
		t.Fatalf("vCont;c: %+v", r)
	}
	s.hit <- Stop{Kind: StopBreak, Thread: 2}
	if r := s.packet(); r != "T05swbreak:;thread:2;" {
		t.Errorf("stop of thread 2: %q", r)
	}
	if s.target.selected != 2 || s.cmd("qC") != "QC2" {
		t.Errorf("after the stop thread %d is selected, want 2", s.target.selected)
	}
	// gdb steps thread 4 (scheduler-locking or a step over a breakpoint)
	s.send("vCont;s:4")
	if r := s.result(); r.Action != Step || r.Thread != 4 {
		t.Fatalf("vCont;s:4: %+v", r)
	}
	if r := s.packet(); r != "T05thread:4;" {
		t.Errorf("step of thread 4: %q", r)
	}
	// step the current thread, continue the others
	s.send("vCont;s:4;c")
	if r := s.result(); r.Action != Step || r.Thread != 4 {
		t.Fatalf("vCont;s:4;c: %+v", r)
	}
	s.packet()
	// plain s steps the Hc thread, else the Hg one
	s.cmd("Hg1")
	s.cmd("Hc2")
	s.send("s")
	if r := s.result(); r.Action != Step || r.Thread != 2 {
		t.Fatalf("s after Hc2: %+v", r)
	}
	s.packet()
	s.cmd("Hg3")
	s.send("s")
	if r := s.result(); r.Action != Step || r.Thread != 3 {
		t.Fatalf("s after a stop and Hg3: %+v", r)
	}
	s.packet()
}

// TestMultiprocess: when gdb offers multiprocess+ the stub accepts it, as
// QEMU does, and writes thread ids as QEMU's p01.0N (gdb: "Thread 1.N");
// it reads both forms.
func TestMultiprocess(t *testing.T) {
	s := newSession(t)
	s.target.nthreads = 2
	r := s.cmd("qSupported:multiprocess+;swbreak+;hwbreak+")
	if !strings.Contains(r, ";multiprocess+") {
		t.Fatalf("qSupported = %q", r)
	}
	for _, c := range []struct{ send, want string }{
		{"qfThreadInfo", "mp01.01,p01.02"},
		{"qC", "QCp01.01"},
		{"Hgp1.2", "OK"},
		{"qC", "QCp01.02"},
		{"Hg1", "OK"},
		{"Tp1.2", "OK"},
		{"Tp1.3", "E01"},
		{"qThreadExtraInfo,p1.2", string(appendHex(nil, []byte("CPU#1 [running]")))},
		{"Hcp1.-1", "OK"},
	} {
		if got := s.cmd(c.send); got != c.want {
			t.Errorf("%s: %q, want %q", c.send, got, c.want)
		}
	}
	s.send("vCont;s:p1.2;c:p1.-1")
	if r := s.result(); r.Action != Step || r.Thread != 2 {
		t.Fatalf("vCont;s:p1.2: %+v", r)
	}
	if r := s.packet(); r != "T05thread:p01.02;" {
		t.Errorf("stop reply %q", r)
	}
}

func TestRunControl(t *testing.T) {
	s := newSession(t)
	s.handshake()
	s.cmd("Z0,80000078,2")
	s.cmd("Z1,80000100,4")

	steps := []struct {
		name   string
		send   string
		action Action
		stop   *Stop // what the machine hits while running
		ctrlC  bool
		reply  string
	}{
		{"continue to a breakpoint", "c", Continue, &Stop{Kind: StopBreak}, false, "T05swbreak:;thread:1;"},
		{"continue to a hardware breakpoint", "c", Continue, &Stop{Kind: StopHWBreak}, false, "T05hwbreak:;thread:1;"},
		{"step", "s", Step, nil, false, "T05thread:1;"},
		{"vCont step", "vCont;s:1;c", Step, nil, false, "T05thread:1;"},
		{"vCont step for all threads", "vCont;s", Step, nil, false, "T05thread:1;"},
		{"vCont another thread first", "vCont;s:2;c:1", Continue, &Stop{Kind: StopBreak}, false, "T05swbreak:;thread:1;"},
		{"C with a signal", "C05", Continue, &Stop{Kind: StopWatch, Type: WatchWrite, Addr: 0x80001000}, false, "T05watch:80001000;thread:1;"},
		{"S with a signal", "S05", Step, nil, false, "T05thread:1;"},
		{"Ctrl-C", "c", Continue, nil, true, "T02thread:1;"},
	}
	for _, st := range steps {
		s.send(st.send)
		if r := s.result(); r.Action != st.action {
			t.Fatalf("%s: Resume %+v, want action %d", st.name, r, st.action)
		}
		switch {
		case st.stop != nil:
			s.hit <- *st.stop
		case st.ctrlC:
			s.sendRaw("\x03")
		}
		if r := s.packet(); r != st.reply {
			t.Errorf("%s: stop reply %q, want %q", st.name, r, st.reply)
		}
	}
	if r := s.cmd("?"); r != "T02thread:1;" {
		t.Errorf("? after Ctrl-C = %q", r)
	}

	// c ADDR moves the pc first.
	s.send("c80000040")
	if r := s.result(); r.Action != Continue || s.target.regs[RegPC] != 0x80000040 {
		t.Fatalf("c ADDR: %+v, pc %#x", r, s.target.regs[RegPC])
	}
	s.hit <- Stop{Kind: StopBreak}
	s.packet()

	// Detach: OK, every breakpoint removed, the machine runs on.
	if r := s.cmd("D;1"); r != "OK" {
		t.Errorf("D = %q", r)
	}
	if r := s.result(); r.Action != Detach {
		t.Errorf("D: Resume %+v", r)
	}
	var removed []bpOp
	for _, op := range s.target.bps {
		if !op.Insert {
			removed = append(removed, op)
		}
	}
	if len(removed) != 2 {
		t.Errorf("after D the removed breakpoints are %+v, want both", removed)
	}
}

// Without swbreak+ from gdb the stop reply carries no reason.
func TestStopReplyWithoutSwbreak(t *testing.T) {
	s := newSession(t)
	s.cmd("qSupported:vContSupported+")
	s.send("c")
	s.result()
	s.hit <- Stop{Kind: StopBreak}
	if r := s.packet(); r != "T05thread:1;" {
		t.Errorf("stop reply %q", r)
	}
}

func TestKill(t *testing.T) {
	for _, pkt := range []string{"k", "vKill;1"} {
		s := newSession(t)
		s.handshake()
		s.send(pkt)
		if r := s.result(); r.Action != Kill {
			t.Errorf("%s: Resume %+v", pkt, r)
		}
	}
}

func TestExitReply(t *testing.T) {
	s := newSession(t)
	s.handshake()
	s.send("c")
	s.result()
	s.exit <- 3
	if r := s.packet(); r != "W03" {
		t.Errorf("exit reply %q", r)
	}
}

func TestQuitWhileStopped(t *testing.T) {
	s := newSession(t)
	s.handshake()
	s.quit.Store(true)
	s.wake <- struct{}{}
	if r := s.result(); r.Action != Quit {
		t.Errorf("Resume %+v, want Quit", r)
	}
}

func TestDisconnectDetaches(t *testing.T) {
	s := newSession(t)
	s.handshake()
	s.cmd("Z0,80000078,2")
	s.client.Close()
	if r := s.result(); r.Action != Detach {
		t.Errorf("Resume %+v, want Detach", r)
	}
	want := []bpOp{{BreakSoftware, 0x80000078, 2, true}, {BreakSoftware, 0x80000078, 2, false}}
	if diff := cmp.Diff(want, s.target.bps); diff != "" {
		t.Errorf("breakpoints (-want +got):\n%s", diff)
	}
}

func TestSecondConnectionRefused(t *testing.T) {
	s := newSession(t)
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if s.stub.Attach(a) {
		t.Error("a second connection was attached")
	}
}

func TestAcks(t *testing.T) {
	s := newSession(t)
	// A bad checksum is answered with -.
	s.sendRaw("$g#00")
	if f := s.frame(); f.Kind != FrameNack {
		t.Fatalf("bad checksum: frame kind %d, want -", f.Kind)
	}
	// A - from gdb makes the stub send its last packet again.
	s.send("qC")
	first := s.frame()
	s.sendRaw("-")
	again := s.frame()
	if diff := cmp.Diff(first, again); diff != "" || string(first.Data) != "QC1" {
		t.Errorf("resent packet differs or wrong (%q):\n%s", first.Data, diff)
	}
	s.sendRaw("+")
	// After QStartNoAckMode, no + precedes replies.
	s.handshake()
	s.send("qC")
	if f := s.frame(); f.Kind != FramePacket || string(f.Data) != "QC1" {
		t.Errorf("no-ack mode: got %+v", f)
	}
}

// FuzzCommand feeds any packet to a stopped stub: never a panic, and
// memory outside the fake target's RAM is never touched.
func FuzzCommand(f *testing.F) {
	for _, seed := range []string{"g", "G00", "p20", "P20=00", "m80000000,10", "M80000000,1:00",
		"X80000000,1:}", "Z0,80000000,2", "z1,0,4", "vCont;s:1;c", "qXfer:features:read:target.xml:0,ffffffffffffffff",
		"qSupported:swbreak+", "c80000000", "C05;80000000", "Hg-1", "T1", "mffffffffffffffff,ffffffffffffffff"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		s := New(nil, testCSRs)
		ft := newFake()
		reply, _, _ := s.command(ft, p)
		if len(reply) > MaxPacket {
			t.Fatalf("reply of %d bytes", len(reply))
		}
		if len(ft.mem) != 0x100 {
			t.Fatal("fake memory resized")
		}
	})
}
