package main

import (
	"fmt"
	"io"
	"strings"

	"golang.org/x/sys/unix"
)

// rawMode puts the terminal on fd in raw mode the way QEMU's stdio
// character device does (no echo, no line editing, no CR/NL translation
// on input; output post-processing kept) and returns a function restoring
// it. With signals false, Ctrl-C and friends reach the guest instead of
// killing gemu. It returns nil, nil when fd is not a terminal.
func rawMode(fd int, signals bool) (restore func(), err error) {
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, nil // not a terminal
	}
	t := *old
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag |= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.IEXTEN
	if !signals {
		t.Lflag &^= unix.ISIG
	}
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &t); err != nil {
		return nil, fmt.Errorf("console: raw mode: %w", err)
	}
	return func() { _ = unix.IoctlSetTermios(fd, unix.TCSETS, old) }, nil
}

// escaper implements QEMU's mux escapes on console input: Ctrl-A x quits,
// Ctrl-A Ctrl-A sends one Ctrl-A, Ctrl-A h prints help, Ctrl-A c switches
// to the monitor and back; gemu adds Ctrl-A t, which prints the
// instruction ring buffer (-itrace); other Ctrl-A sequences are
// swallowed.
type escaper struct {
	pending bool
	quit    func()
	dump    func() // Ctrl-A t: print the instruction ring buffer
	help    io.Writer

	// monitor runs one line of gemu's monitor (machine.Monitor); Ctrl-A c
	// switches the console between the guest and the monitor, as on QEMU.
	monitor func(line string) string
	inMon   bool
	line    []byte
}

const ctrlA = 0x01

// filter returns the bytes of p meant for the guest.
func (e *escaper) filter(p []byte) []byte {
	out := p[:0:0]
	for _, b := range p {
		if e.pending {
			e.pending = false
			switch b {
			case ctrlA:
				out = append(out, ctrlA)
			case 'x', 'X':
				e.quit()
				return out
			case 't', 'T':
				if e.dump != nil {
					e.dump()
				}
			case 'h', 'H', '?':
				fmt.Fprint(e.help, "\r\nC-a h    print this help\r\nC-a x    exit emulator\r\nC-a c    switch between console and monitor\r\nC-a t    print the last instructions (-itrace)\r\nC-a C-a  send C-a\r\n")
			case 'c', 'C':
				if e.monitor != nil {
					e.inMon = !e.inMon
					e.line = e.line[:0]
					if e.inMon {
						fmt.Fprint(e.help, "\r\ngemu monitor - type 'help' for more information\r\n(gemu) ")
					} else {
						fmt.Fprint(e.help, "\r\n")
					}
				}
			}
			continue
		}
		if b == ctrlA {
			e.pending = true
			continue
		}
		if e.inMon {
			e.monitorByte(b)
			continue
		}
		out = append(out, b)
	}
	return out
}

// monitorByte is one typed byte in monitor mode: echoed, collected into a
// line, the line run on Enter.
func (e *escaper) monitorByte(b byte) {
	switch b {
	case '\r', '\n':
		fmt.Fprint(e.help, "\r\n")
		out := e.monitor(string(e.line))
		fmt.Fprint(e.help, strings.ReplaceAll(out, "\n", "\r\n"))
		fmt.Fprint(e.help, "(gemu) ")
		e.line = e.line[:0]
	case 0x7f, '\b':
		if len(e.line) > 0 {
			e.line = e.line[:len(e.line)-1]
			fmt.Fprint(e.help, "\b \b")
		}
	default:
		if b >= ' ' && len(e.line) < 256 {
			e.line = append(e.line, b)
			fmt.Fprintf(e.help, "%c", b)
		}
	}
}

// readConsole copies stdin to the machine until EOF or quit.
func readConsole(in io.Reader, send func([]byte), closeInput func(), esc *escaper) {
	buf := make([]byte, 256)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			p := buf[:n]
			if esc != nil {
				p = esc.filter(p)
			}
			if len(p) > 0 {
				send(append([]byte(nil), p...))
			}
		}
		if err != nil {
			closeInput()
			return
		}
	}
}
