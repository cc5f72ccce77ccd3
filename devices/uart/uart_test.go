package uart

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"gemu/clock"
)

type line struct{ level bool }

func (l *line) SetLevel(_ int, level bool) { l.level = level }

type rig struct {
	u   *UART
	out *bytes.Buffer
	irq *line
	clk *clock.Clock
	n   *uint64
}

func newRig() rig {
	n := new(uint64)
	clk := clock.NewDeterministic(0, func() uint64 { return *n })
	irq := &line{}
	out := &bytes.Buffer{}
	u := New(clk, out, busIRQ(irq))
	return rig{u, out, irq, clk, n}
}

func TestTransmit(t *testing.T) {
	r := newRig()
	for _, b := range []byte("hi\n") {
		r.u.Write(THR, 1, uint64(b))
	}
	if r.out.Len() != 0 {
		t.Errorf("output before Flush")
	}
	r.u.Flush()
	if got := r.out.String(); got != "hi\n" {
		t.Errorf("output %q, want %q", got, "hi\n")
	}
	if got := r.u.Read(LSR, 1); got&(LSRTHRE|LSRTEMT) != LSRTHRE|LSRTEMT {
		t.Errorf("LSR = %#x, want THRE|TEMT", got)
	}
	if r.irq.level {
		t.Errorf("IRQ high with IER = 0")
	}
}

// TestTHREProbe replays the UART_BUG_THRE probe of Linux's
// serial8250_do_startup: enabling ETBEI with THR empty must report THRE in
// IIR, twice in a row, and reading IIR clears it.
func TestTHREProbe(t *testing.T) {
	r := newRig()
	var got []uint64
	for i := 0; i < 2; i++ {
		r.u.Write(IER, 1, IERTHRI)
		if !r.irq.level {
			t.Errorf("round %d: IRQ low after enabling THRI", i)
		}
		got = append(got, r.u.Read(IIR, 1))
		got = append(got, r.u.Read(IIR, 1)) // cleared by the first read
		r.u.Write(IER, 1, 0)
	}
	if diff := cmp.Diff([]uint64{IIRTHRI, IIRNoInt, IIRTHRI, IIRNoInt}, got); diff != "" {
		t.Errorf("IIR sequence (-want +got):\n%s", diff)
	}
	// Writing THR with THRI enabled raises THRE again once the byte left.
	r.u.Write(IER, 1, IERTHRI)
	r.u.Read(IIR, 1)
	r.u.Write(THR, 1, 'x')
	if !r.irq.level || r.u.Read(IIR, 1) != IIRTHRI {
		t.Errorf("no THRE interrupt after transmit")
	}
}

func TestReceiveTriggerAndTimeout(t *testing.T) {
	r := newRig()
	r.u.Write(FCR, 1, FCREnable|0x80) // FIFO, trigger 8
	r.u.Write(IER, 1, IERRDI)
	r.u.In.Push([]byte("abc"))
	r.u.Poll()
	if r.irq.level {
		t.Errorf("IRQ with 3 bytes below trigger 8 before timeout")
	}
	if got := r.u.Read(LSR, 1); got&LSRDR == 0 {
		t.Errorf("LSR.DR clear with data")
	}
	// Four character times later, the timeout interrupt fires.
	when, ok := r.clk.Next()
	if !ok || when != 4*r.u.charTimeNs() {
		t.Fatalf("timeout timer at %d,%v want %d", when, ok, 4*r.u.charTimeNs())
	}
	*r.n = uint64(when)
	r.clk.RunDue()
	if got := r.u.Read(IIR, 1); got != IIRFIFO|IIRTimeout || !r.irq.level {
		t.Errorf("IIR = %#x irq=%v, want timeout", got, r.irq.level)
	}
	var got []byte
	for r.u.Read(LSR, 1)&LSRDR != 0 {
		got = append(got, byte(r.u.Read(RBR, 1)))
	}
	if string(got) != "abc" || r.irq.level {
		t.Errorf("read %q irq=%v, want \"abc\" and IRQ low", got, r.irq.level)
	}
	// 20 bytes: the FIFO takes 16, reaching the trigger; the rest wait.
	r.u.In.Push(bytes.Repeat([]byte{'z'}, 20))
	r.u.Poll()
	if got := r.u.Read(IIR, 1); got != IIRFIFO|IIRRDI {
		t.Errorf("IIR = %#x, want RDI", got)
	}
	if r.u.In.Len() != 4 {
		t.Errorf("queue holds %d, want 4", r.u.In.Len())
	}
	n := 0
	for r.u.Read(LSR, 1)&LSRDR != 0 {
		r.u.Read(RBR, 1)
		n++
	}
	if n != 20 {
		t.Errorf("read %d bytes, want 20 (refilled from the queue)", n)
	}
}

func TestNoFIFO(t *testing.T) {
	r := newRig()
	r.u.Write(IER, 1, IERRDI)
	r.u.In.Push([]byte("xy"))
	r.u.Poll()
	if got := r.u.Read(IIR, 1); got != IIRRDI {
		t.Errorf("IIR = %#x, want RDI without FIFO bits", got)
	}
	if got := r.u.Read(RBR, 1); got != 'x' {
		t.Errorf("RBR = %q", rune(got))
	}
	if got := r.u.Read(RBR, 1); got != 'y' {
		t.Errorf("RBR = %q", rune(got))
	}
}

func TestDivisorLatchAndScratch(t *testing.T) {
	r := newRig()
	r.u.Write(LCR, 1, LCRDLAB|0x03)
	r.u.Write(0, 1, 0x02)
	r.u.Write(1, 1, 0x00)
	r.u.Write(LCR, 1, 0x03)
	r.u.Write(SCR, 1, 0x5a)
	r.u.Write(IER, 1, 0x05)
	got := []uint64{r.u.Read(IER, 1), r.u.Read(SCR, 1), r.u.Read(LCR, 1)}
	r.u.Write(LCR, 1, LCRDLAB)
	got = append(got, r.u.Read(0, 1), r.u.Read(1, 1))
	if diff := cmp.Diff([]uint64{0x05, 0x5a, 0x03, 0x02, 0x00}, got); diff != "" {
		t.Errorf("registers (-want +got):\n%s", diff)
	}
	r.u.Flush()
	if r.out.Len() != 0 {
		t.Errorf("DLL write was transmitted")
	}
}

func TestLoopback(t *testing.T) {
	r := newRig()
	r.u.Write(MCR, 1, MCRLoop|MCRRTS|MCROUT2)
	r.u.Write(THR, 1, 'L')
	r.u.Flush()
	if r.out.Len() != 0 {
		t.Errorf("loopback byte reached the output")
	}
	if got := r.u.Read(RBR, 1); got != 'L' {
		t.Errorf("RBR = %#x, want 'L'", got)
	}
	if got := r.u.Read(MSR, 1); got != MSRCTS|MSRDCD {
		t.Errorf("MSR = %#x, want CTS|DCD", got)
	}
	// Overrun: two bytes into a 1-byte holding register.
	r.u.Write(IER, 1, IERRLSI)
	r.u.Write(THR, 1, 1)
	r.u.Write(THR, 1, 2)
	if got := r.u.Read(IIR, 1); got != IIRRLSI {
		t.Errorf("IIR = %#x, want RLS", got)
	}
	if got := r.u.Read(LSR, 1); got&LSROE == 0 {
		t.Errorf("LSR.OE not set")
	}
	if got := r.u.Read(LSR, 1); got&LSROE != 0 || r.irq.level {
		t.Errorf("LSR.OE not cleared by read")
	}
}

// FuzzMMIO feeds random register traffic and input: no panic, and the IRQ
// line always agrees with IIR.
func FuzzMMIO(f *testing.F) {
	f.Add([]byte{1, 2, 2, 0xc7, 3, 0x80, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := newRig()
		for len(data) >= 2 {
			op, v := data[0], data[1]
			data = data[2:]
			switch op >> 5 {
			case 0, 1, 2:
				r.u.Write(uint64(op&15), 1, uint64(v))
			case 3, 4:
				r.u.Read(uint64(op&15), 1)
			case 5:
				if r.u.In.Len() < 4000 { // Push waits when the ring is full
					r.u.In.Push([]byte{v})
				}
				r.u.Poll()
			case 6:
				*r.n += uint64(v) * 10000
				r.clk.RunDue()
			case 7:
				r.u.Flush()
			}
			if want := r.u.iir()&IIRNoInt == 0; r.irq.level != want {
				t.Fatalf("irq %v, IIR says %v", r.irq.level, want)
			}
			if r.u.rxLen < 0 || r.u.rxLen > fifoSize {
				t.Fatalf("rxLen %d", r.u.rxLen)
			}
		}
	})
}

func TestInputQueue(t *testing.T) {
	q := NewInput()
	big := bytes.Repeat([]byte{'a'}, len(q.buf)+10)
	if n := q.TryPush(big); n != len(q.buf) {
		t.Errorf("TryPush took %d, want %d", n, len(q.buf))
	}
	if n := q.TryPush([]byte{'b'}); n != 0 {
		t.Errorf("TryPush on a full ring took %d", n)
	}
	select {
	case <-q.C:
	default:
		t.Errorf("no wake-up token after a push")
	}
	for i := 0; i < 10; i++ {
		q.pop()
	}
	// Push waits for room: the consumer drains from another goroutine.
	done := make(chan struct{})
	go func() {
		q.Push([]byte("xyz0123456789"))
		close(done)
	}()
	got := 0
	for got < len(q.buf)+3 {
		if _, ok := q.pop(); ok {
			got++
		}
	}
	<-done
	if q.Len() != 0 {
		t.Errorf("queue holds %d after draining", q.Len())
	}
}

// TestGuestErrors checks the exact -d guest_errors sentence of each mistake
// a driver can make with the registers, that each is reported once, and
// that a correct driver's initialisation (xv6's uartinit, Linux's divisor
// programming) reports nothing.
func TestGuestErrors(t *testing.T) {
	type acc struct {
		write bool
		off   uint64
		size  int
		val   uint64
	}
	w := func(off uint64, val uint64) acc { return acc{true, off, 1, val} }
	good := []acc{
		w(IER, 0), w(LCR, LCRDLAB), w(THR, 3), w(IER, 0), w(LCR, 3),
		w(FCR, FCREnable|FCRClearRX|FCRClearTX), w(IER, IERRDI|IERTHRI),
		w(FCR, 0), w(THR, 'x'), w(MCR, MCRDTR|MCRRTS|MCROUT2), w(SCR, 0x55),
		{false, LSR, 1, 0}, {false, MSR, 1, 0}, {false, IIR, 1, 0},
	}
	for _, tc := range []struct {
		name string
		accs []acc
		want []string
	}{
		{"correct driver", good, nil},
		{"undecoded read", []acc{{false, 8, 1, 0}, {false, 0x10, 1, 0}},
			[]string{"1-byte read at offset 0x8 returns 0: the 16550 has registers at offsets 0-7 only (PC16550D datasheet §8.6, Summary of Registers; QEMU decodes 8 bytes, hw/char/serial.c serial_mm_realize)"}},
		{"undecoded write", []acc{w(0xff, 0x41)},
			[]string{"1-byte write of 0x41 at offset 0xff ignored: the 16550 has registers at offsets 0-7 only (PC16550D datasheet §8.6, Summary of Registers; QEMU decodes 8 bytes, hw/char/serial.c serial_mm_realize)"}},
		{"wide", []acc{{true, THR, 4, 'A'}, {false, LSR, 4, 0}},
			[]string{"4-byte write of THR (offset 0): 16550 registers are single bytes at consecutive offsets (PC16550D datasheet §8.6, Summary of Registers); QEMU and gemu use the low byte, a 16550 on a byte-wide bus would see the next registers too"}},
		{"LSR", []acc{w(LSR, 0x60), w(LSR, 0)},
			[]string{"write 0x60 to LSR (offset 5) ignored: the Line Status Register is read-only, writing it is for factory test only (PC16550D datasheet §8.6, Line Status Register)"}},
		{"MSR", []acc{w(MSR, 0x10)},
			[]string{"write 0x10 to MSR (offset 6) ignored: the Modem Status Register is read-only; the modem outputs are set in MCR, offset 4 (PC16550D datasheet §8.6, Modem Status Register)"}},
		{"FCR", []acc{w(FCR, FCRClearRX|FCRClearTX)},
			[]string{"FCR write 0x6 has bit 0 (FIFO enable) clear: a 16550A ignores the other FCR bits then (PC16550D datasheet §8.6, FIFO Control Register: FCR0 must be 1 when the other bits are written)"}},
		{"DLAB left set", []acc{w(LCR, LCRDLAB), w(THR, 1), w(IER, 0), w(THR, 'h'), w(THR, 'i')},
			[]string{"write 0x68 to offset 0 went to the divisor latch DLL, not THR, because LCR.DLAB (bit 7) is still set after the divisor was programmed: clear it by writing LCR (PC16550D datasheet §8.6, Line Control Register and Divisor Latches)"}},
		{"divisor 0", []acc{w(LCR, LCRDLAB), w(THR, 0), w(IER, 0), w(LCR, 3)},
			[]string{"LCR.DLAB cleared with divisor latch 0 (DLL = DLM = 0): the baud generator has no valid divisor and a 16550 sends nothing (PC16550D datasheet §8.6, Programmable Baud Generator); QEMU and gemu ignore the baud rate"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig()
			var got []string
			r.u.GuestError = func(format string, args ...any) { got = append(got, fmt.Sprintf(format, args...)) }
			for _, a := range tc.accs {
				if a.write {
					r.u.Write(a.off, a.size, a.val)
				} else {
					r.u.Read(a.off, a.size)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("guest errors (-want +got):\n%s", diff)
			}
		})
	}
}
