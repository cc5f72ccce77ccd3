// Command gemu runs a RISC-V guest on an emulation of QEMU's virt board.
// Its flags follow qemu-system-riscv64 (single dash): see `gemu -help`.
//
// The exit status is the guest's: 0 after a sifive_test power-off with
// 0x5555 (or Linux's poweroff), the code of a 0x3333|code<<16 failure, 0
// for a riscv-tests tohost pass and the failing test number (at most 255)
// for a tohost failure. Host errors exit with status 1.
//
// GEMU_CPUPROFILE=FILE in the environment writes a pprof CPU profile of
// the run to FILE; GEMU_TRACE=FILE a Go execution trace (go tool trace),
// which shows when each goroutine, e.g. oto's ALSA writer, waited for a
// processor (tests/realtime uses it to explain dropouts).
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"syscall"

	"gemu/guests"
	"gemu/machine"
)

func main() {
	spareProc()
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// spareProc gives the Go runtime one processor (P) more than it would
// take, unless GOMAXPROCS is set. machine.Run keeps the emulation
// goroutine on one thread, and while the guest runs that goroutine holds
// a P all the time; the host audio path (oto's mux and ALSA writer
// goroutines), the console and the garbage collector share the others.
// With GOMAXPROCS equal to the CPU count, a 2-CPU host left them one P,
// and a goroutine woken behind a busy one waits for a P up to the
// runtime's 10 ms preemption slice, whatever the priority of its thread
// (rt=on); a 1-CPU host left them none but what preemption gave. With
// the spare P they wait only for the kernel, which runs the writer's
// thread first with rt=on.
func spareProc() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + 1)
	}
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "gemu: %v\n", err)
		return 1
	}
	if o.help != "" {
		fmt.Fprint(stdout, o.help)
		return 0
	}
	cfg := o.cfg
	if cfg.Kernel == "" && cfg.BIOS == "" {
		// The main job: the embedded demo guest, bare metal, playing music
		// through AC97, virtio-sound and ivshmem on the speakers (or into a
		// WAV file it names when the host has no audio device).
		configureDemo(&cfg, guests.Demo, stderr)
	}
	if o.traceFile != "" {
		f, err := os.Create(o.traceFile)
		if err != nil {
			fmt.Fprintf(stderr, "gemu: -D: %v\n", err)
			return 1
		}
		defer f.Close()
		cfg.TraceOut = f
	}
	useStdio := o.serial == "mon:stdio" || o.serial == "stdio"
	if useStdio {
		cfg.Console = stdout
	}
	m, err := machine.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "gemu: %v\n", err)
		return 1
	}
	if o.dumpDTB != "" {
		if err := os.WriteFile(o.dumpDTB, m.DTB(), 0o644); err != nil {
			fmt.Fprintf(stderr, "gemu: dumpdtb: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "gemu: dtb dumped to %s. Exiting.\n", o.dumpDTB)
		return 0
	}

	if o.gdb != "" {
		addr, err := m.ListenGDB(o.gdb, o.gdbWait)
		if err != nil {
			fmt.Fprintf(stderr, "gemu: %v\n", err)
			return 1
		}
		switch {
		case addr != nil && o.gdbWait:
			fmt.Fprintf(stderr, "gemu: waiting for gdb on %s\n", addr)
		case addr != nil:
			fmt.Fprintf(stderr, "gemu: gdb stub listening on %s\n", addr)
		}
	}

	if useStdio {
		send := m.SendInput // piped input: wait for the guest, lose nothing
		if f, ok := stdin.(*os.File); ok {
			restore, err := rawMode(int(f.Fd()), !o.mux)
			if err != nil {
				fmt.Fprintf(stderr, "gemu: %v\n", err)
				return 1
			}
			if restore != nil {
				defer restore()
				// A terminal: never block, so Ctrl-A x always works.
				send = func(p []byte) { m.TrySendInput(p) }
			}
		}
		var esc *escaper
		if o.mux {
			esc = &escaper{quit: m.Stop, help: stderr, monitor: m.Monitor, dump: func() {
				// Printed on the emulation goroutine at its next poll: the
				// ring buffer and the -D log belong to it.
				if !m.RequestITraceDump("Ctrl-A t") {
					fmt.Fprint(stderr, "\r\nC-a t: no instruction ring buffer (start gemu with -itrace N)\r\n")
				}
			}}
		}
		go readConsole(stdin, send, m.CloseInput, esc)
	} else {
		m.CloseInput()
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sig)
	go func() {
		if _, ok := <-sig; ok {
			m.Stop()
		}
	}()

	// Not flags, to keep the command line QEMU's: a pprof CPU profile of
	// the run (where boot time goes) and a Go execution trace (what the
	// audio goroutines waited for; tests/realtime -trace).
	for _, p := range []struct {
		env   string
		start func(io.Writer) error
		stop  func()
	}{
		{"GEMU_CPUPROFILE", pprof.StartCPUProfile, pprof.StopCPUProfile},
		{"GEMU_TRACE", trace.Start, trace.Stop},
	} {
		path := os.Getenv(p.env)
		if path == "" {
			continue
		}
		f, err := os.Create(path)
		if err == nil {
			if err = p.start(f); err != nil {
				f.Close()
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "gemu: %s: %v\n", p.env, err)
			return 1
		}
		defer f.Close()
		defer p.stop()
	}
	ex, err := m.Run()
	switch {
	case errors.Is(err, machine.ErrDeadlock):
		fmt.Fprintf(stderr, "\r\ngemu: %v (pc %#x)\n", err, m.Hart.PC())
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "\r\ngemu: %v\n", err)
		if ex.Code == 0 {
			return 1
		}
	case ex.Reason == "quit":
		fmt.Fprintf(stderr, "\r\ngemu: terminated\n")
	case ex.Code != 0:
		fmt.Fprintf(stderr, "gemu: %s\n", ex.Reason)
	}
	return ex.Code
}
