package guest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"gemu/tests/rig"
)

// Firmware is Debian's OpenSBI (package opensbi), gemu's default -bios; the
// tests pass it explicitly so that gemu and QEMU run the same firmware.
const Firmware = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"

// Line is one console line and when it arrived (wall time since start).
type Line struct {
	At   time.Duration
	Text string
}

// Mark is an "@@gemu name uptime details" line printed by /init.
type Mark struct {
	Name    string
	Uptime  string // guest seconds, as /proc/uptime says
	Details string
	At      time.Duration // wall time
}

// Transcript is what a run printed.
type Transcript struct {
	Lines    []Line
	ExitCode int           // -1 if killed
	Wall     time.Duration // start to exit
	CPU      time.Duration // user+system time of the emulator process
	Err      error         // timeout or start failure
}

// Marks returns /init's markers in order.
func (t *Transcript) Marks() []Mark {
	var ms []Mark
	for _, l := range t.Lines {
		i := strings.Index(l.Text, "@@gemu ")
		if i < 0 {
			continue
		}
		f := strings.SplitN(l.Text[i+len("@@gemu "):], " ", 3)
		m := Mark{Name: f[0], At: l.At}
		if len(f) > 1 {
			m.Uptime = f[1]
		}
		if len(f) > 2 {
			m.Details = f[2]
		}
		ms = append(ms, m)
	}
	return ms
}

// Mark returns the first marker called name.
func (t *Transcript) Mark(name string) (Mark, bool) {
	for _, m := range t.Marks() {
		if m.Name == name {
			return m, true
		}
	}
	return Mark{}, false
}

// First returns the first line containing s.
func (t *Transcript) First(s string) (Line, bool) {
	for _, l := range t.Lines {
		if strings.Contains(l.Text, s) {
			return l, true
		}
	}
	return Line{}, false
}

// Text is the whole console output.
func (t *Transcript) Text() string {
	var b strings.Builder
	for _, l := range t.Lines {
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	return b.String()
}

// Tail is the last n console lines, for failure messages.
func (t *Transcript) Tail(n int) string {
	l := t.Lines
	if len(l) > n {
		l = l[len(l)-n:]
	}
	var b strings.Builder
	for _, x := range l {
		fmt.Fprintf(&b, "%8.3fs | %s\n", x.At.Seconds(), x.Text)
	}
	return b.String()
}

// Between returns the lines strictly between the first line equal to begin
// and the next line equal to end.
func (t *Transcript) Between(begin, end string) ([]string, bool) {
	var out []string
	in := false
	for _, l := range t.Lines {
		s := strings.TrimSpace(l.Text)
		switch {
		case !in && s == begin:
			in = true
		case in && s == end:
			return out, true
		case in:
			out = append(out, s)
		}
	}
	return out, false
}

// Console lets an interactive run answer what the guest prints: it is
// called for each line (and for each partial line that has waited for
// input, such as a shell prompt); what it returns is typed on the console.
// Returning stop=true kills the emulator.
type Console func(text string, partial bool) (input string, stop bool)

// Run runs an emulator command line with the serial console on its stdio,
// collecting timestamped output, until it exits, console says stop, or
// timeout passes. stderr is merged into the transcript.
func Run(ctx context.Context, argv []string, timeout time.Duration, console Console, echo io.Writer) *Transcript {
	tr := &Transcript{ExitCode: -1}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.WaitDelay = 5 * time.Second
	// Own process group, killed as a whole: no child may keep the console
	// pipe open after a stop or a timeout; killed by the kernel if this
	// process dies first (rig.Detach).
	rig.Detach(cmd)
	killGroup := func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.Cancel = killGroup
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tr.Err = err
		return tr
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		tr.Err = err
		return tr
	}
	cmd.Stdout = pw
	cmd.Stderr = pw
	start := time.Now()
	if err := cmd.Start(); err != nil {
		pw.Close()
		pr.Close()
		tr.Err = err
		return tr
	}
	pw.Close()

	type chunk struct {
		text    string
		partial bool
	}
	lines := make(chan chunk, 256)
	go func() {
		defer close(lines)
		r := bufio.NewReaderSize(pr, 1<<16)
		var cur []byte
		for {
			b, err := r.ReadByte()
			if err != nil {
				if len(cur) > 0 {
					lines <- chunk{string(cur), false}
				}
				return
			}
			if b == '\n' {
				lines <- chunk{strings.TrimRight(string(cur), "\r"), false}
				cur = cur[:0]
				continue
			}
			cur = append(cur, b)
			// A prompt waits for input without a newline.
			if r.Buffered() == 0 {
				lines <- chunk{string(cur), true}
			}
		}
	}()
	stopped := false
	for c := range lines {
		if !c.partial {
			tr.Lines = append(tr.Lines, Line{time.Since(start), c.text})
			if echo != nil {
				fmt.Fprintf(echo, "%8.3f | %s\n", time.Since(start).Seconds(), c.text)
			}
		}
		if console != nil && !stopped {
			in, stop := console(c.text, c.partial)
			if in != "" {
				io.WriteString(stdin, in)
			}
			if stop {
				stopped = true
				killGroup()
			}
		}
	}
	err = cmd.Wait()
	pr.Close()
	tr.Wall = time.Since(start)
	if ps := cmd.ProcessState; ps != nil {
		tr.CPU = ps.UserTime() + ps.SystemTime()
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		tr.ExitCode = 0
	case stopped:
		// killed on purpose
	case ctx.Err() != nil:
		tr.Err = fmt.Errorf("timed out after %v", timeout)
	case errors.As(err, &ee):
		tr.ExitCode = ee.ExitCode()
	default:
		tr.Err = err
	}
	return tr
}

// Argv is the QEMU-style command line that boots g with the given
// scenario (its name, optionally followed by more kernel parameters such
// as "snd_intel8x0.ac97_clock=1", which /init hands to insmod), an AC97 on audiodev (e.g. "wav,id=snd0,path=out.wav,..."), and
// any extra flags (e.g. "-icount", "shift=3").
func (g *Guest) Argv(emulator, scenario, audiodev string, extra ...string) []string {
	return g.ArgvDevice(emulator, scenario, audiodev, "AC97", extra...)
}

// ArgvDevice is Argv with another sound device model (e.g.
// "virtio-sound-device") on audiodev snd0.
func (g *Guest) ArgvDevice(emulator, scenario, audiodev, device string, extra ...string) []string {
	a := []string{emulator, "-machine", "virt", "-m", "512M", "-nographic",
		"-bios", Firmware, "-kernel", g.Image, "-initrd", g.Initrd,
		"-append", "console=ttyS0 earlycon gemu.scenario=" + scenario}
	if audiodev != "" {
		a = append(a, "-audiodev", audiodev, "-device", device+",audiodev=snd0")
		if strings.HasPrefix(device, "virtio-") {
			// Linux's virtio_snd refuses the legacy virtio-mmio interface,
			// QEMU's default: ask for the modern one, as QEMU needs too.
			a = append(a, "-global", "virtio-mmio.force-legacy=false")
		}
	}
	return append(a, extra...)
}

// WAVAudiodev is a wav audiodev writing S16_LE stereo at rate to path, so
// that the emulator does not resample (QEMU's default is 44100 Hz).
func WAVAudiodev(path string, rate int) string {
	return fmt.Sprintf("wav,id=snd0,path=%s,out.frequency=%d,out.channels=2,out.format=s16", path, rate)
}

// IsPrompt says whether text (a console line so far) ends with prompt,
// ignoring terminal escape sequences such as the cursor position query
// (ESC [6n) busybox's line editor sends after the prompt.
func IsPrompt(text, prompt string) bool {
	return strings.HasSuffix(StripEscapes(text), prompt)
}

// StripEscapes removes ANSI CSI sequences (ESC [ params final-byte).
func StripEscapes(s string) string {
	if !strings.Contains(s, "\x1b") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
				j++
			}
			i = j
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
