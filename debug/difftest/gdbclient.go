package difftest

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gemu/gdbstub"
)

// client is the smallest GDB remote protocol client the finder needs to
// drive QEMU's gdbstub (gdb/doc "Remote Protocol"): packets with
// acknowledgements, single steps, registers and memory.
type client struct {
	c   net.Conn
	r   *bufio.Reader
	dec gdbstub.Decoder
	in  [][]byte
	// regnums of QEMU's CSRs and its virtual "priv" register, read from
	// its target description (qXfer:features:read).
	csr  map[string]int
	priv int
	// f0 and fcsr are the regnums of f0 (f0-f31 follow) and fcsr; fcsr
	// is -1 when QEMU describes no FPU.
	f0, fcsr int
	packets  uint64 // packets sent
}

func dial(addr string, wait time.Duration) (*client, error) {
	deadline := time.Now().Add(wait)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			return &client{c: c, r: bufio.NewReader(c), csr: map[string]int{}, priv: -1, fcsr: -1}, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("difftest: connecting to QEMU's gdbstub at %s: %w", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *client) close() { c.c.Close() }

// cmd sends one packet and returns the reply payload.
func (c *client) cmd(p string) (string, error) {
	return c.cmdWait(p, 30*time.Second)
}

// cmdWait is cmd with a reply deadline.
func (c *client) cmdWait(p string, wait time.Duration) (string, error) {
	c.packets++
	if _, err := c.c.Write(gdbstub.AppendPacket(nil, []byte(p))); err != nil {
		return "", err
	}
	return c.reply(wait)
}

// reply reads the next packet and acknowledges it.
func (c *client) reply(wait time.Duration) (string, error) {
	c.c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 4096)
	for len(c.in) == 0 {
		n, err := c.r.Read(buf)
		if err != nil {
			return "", fmt.Errorf("difftest: QEMU's gdbstub: %w", err) // io.EOF: QEMU exited
		}
		c.dec.Feed(buf[:n], func(f gdbstub.Frame) {
			if f.Kind == gdbstub.FramePacket {
				c.in = append(c.in, f.Data)
			}
		})
	}
	d := c.in[0]
	c.in = c.in[1:]
	c.c.Write([]byte("+"))
	return string(d), nil
}

// start does the handshake and reads the register numbers of the CSRs.
func (c *client) start() error {
	if _, err := c.cmd("qSupported:multiprocess+;xmlRegisters=riscv"); err != nil {
		return err
	}
	// Single steps with interrupts and timers live (QEMU's
	// SSTEP_ENABLE without SSTEP_NOIRQ|SSTEP_NOTIMER), as gemu steps.
	if r, err := c.cmd("Qqemu.sstep=1"); err != nil || r != "OK" {
		return fmt.Errorf("difftest: Qqemu.sstep=1: %q %v", r, err)
	}
	xml, err := c.xfer("riscv-csr.xml")
	if err != nil {
		return err
	}
	for _, m := range regRE.FindAllStringSubmatch(xml, -1) {
		n, _ := strconv.Atoi(m[2])
		c.csr[m[1]] = n
	}
	// The virtual "priv" register has no regnum in its description: it is
	// the one just before the CSRs (QEMU 7.2 target/riscv/gdbstub.c
	// registers cpu, fpu, virtual, csr in that order; CSR n is base+n).
	if n, ok := c.csr["mstatus"]; ok {
		c.priv = n - 0x300 - 1
	}
	if c.priv < 0 || len(c.csr) == 0 {
		return errors.New("difftest: QEMU's target description names no CSRs")
	}
	// The FPU registers f0-f31 (named ft0, ..., ft11 by their ABI names
	// in QEMU 7.2 gdb-xml/riscv-64bit-fpu.xml) are the first coprocessor
	// registers, numbered right after x0-x31 and pc (gdbstub/gdbstub.c
	// gdb_register_coprocessor) unless the description says otherwise.
	// fcsr is CSR 3 of the CSR feature, whose regnum is its base plus the
	// CSR number; QEMU lists it only when FS was on at connection time,
	// but reads it for the debugger either way (target/riscv/csr.c fs()
	// and env->debugger).
	if fpu, err := c.xfer("riscv-64bit-fpu.xml"); err == nil && strings.Contains(fpu, `<reg name="ft0"`) {
		c.f0 = 33
		if m := fpuRE.FindStringSubmatch(fpu); m != nil {
			c.f0, _ = strconv.Atoi(m[1])
		}
		c.fcsr = c.priv + 1 + 3
		if n, ok := c.csr["fcsr"]; ok {
			c.fcsr = n
		}
	}
	return nil
}

var fpuRE = regexp.MustCompile(`<reg name="ft0"[^>]*regnum="([0-9]+)"`)

// breakpoint inserts (Z0) or removes (z0) a breakpoint at a.
func (c *client) breakpoint(insert bool, a uint64) error {
	op := "z0"
	if insert {
		op = "Z0"
	}
	r, err := c.cmd(fmt.Sprintf("%s,%x,4", op, a))
	if err != nil {
		return err
	}
	if r != "OK" {
		return fmt.Errorf("difftest: QEMU refused %s at 0x%x: %q", op, a, r)
	}
	return nil
}

// errNoStop: QEMU did not stop at the breakpoint in time.
var errNoStop = errors.New("difftest: QEMU did not reach the block end")

// cont continues QEMU until it stops (a breakpoint); if it has not
// stopped after wait, it interrupts it and returns errNoStop.
func (c *client) cont(wait time.Duration) error {
	r, err := c.cmdWait("c", wait)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.c.Write([]byte{0x03})
		if _, err := c.reply(30 * time.Second); err != nil {
			return err
		}
		return errNoStop
	}
	if err != nil {
		return err
	}
	if !strings.HasPrefix(r, "T") && !strings.HasPrefix(r, "S") {
		return fmt.Errorf("difftest: QEMU stopped with %q", r)
	}
	return nil
}

var regRE = regexp.MustCompile(`<reg name="([a-z0-9]+)"[^>]*regnum="([0-9]+)"`)

func (c *client) xfer(annex string) (string, error) {
	var b strings.Builder
	for off := 0; ; {
		r, err := c.cmd(fmt.Sprintf("qXfer:features:read:%s:%x,%x", annex, off, 0x3000))
		if err != nil {
			return "", err
		}
		if r == "" || r[0] != 'm' && r[0] != 'l' {
			return "", fmt.Errorf("difftest: qXfer %s: %q", annex, r)
		}
		data, _ := gdbstub.Unescape([]byte(r[1:]))
		b.Write(data)
		off += len(data)
		if r[0] == 'l' {
			return b.String(), nil
		}
	}
}

// step single-steps the hart and returns the stop reply.
func (c *client) step() error {
	r, err := c.cmd("s")
	if err != nil {
		return err
	}
	if !strings.HasPrefix(r, "T") && !strings.HasPrefix(r, "S") {
		return fmt.Errorf("difftest: QEMU stopped with %q", r)
	}
	return nil
}

// regs reads x0..x31 and pc.
func (c *client) regs() ([33]uint64, error) {
	var v [33]uint64
	r, err := c.cmd("g")
	if err != nil {
		return v, err
	}
	b, err := hex.DecodeString(r)
	if err != nil || len(b) < 33*8 {
		return v, fmt.Errorf("difftest: bad g reply %q", r)
	}
	for i := range v {
		v[i] = le(b[8*i : 8*i+8])
	}
	return v, nil
}

// reg reads register n.
func (c *client) reg(n int) (uint64, error) {
	r, err := c.cmd(fmt.Sprintf("p%x", n))
	if err != nil {
		return 0, err
	}
	b, err := hex.DecodeString(r)
	if err != nil || len(b) == 0 {
		return 0, fmt.Errorf("difftest: bad p%x reply %q", n, r)
	}
	return le(b), nil
}

// mem reads n bytes at virtual address a.
func (c *client) mem(a uint64, n int) ([]byte, error) {
	r, err := c.cmd(fmt.Sprintf("m%x,%x", a, n))
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(r, "E") {
		return nil, fmt.Errorf("difftest: QEMU cannot read 0x%x: %s", a, r)
	}
	return hex.DecodeString(r)
}

func le(b []byte) uint64 {
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}
