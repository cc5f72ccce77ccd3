package machine

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gemu/machine/fdt"
	"gemu/qemuopt"
)

// TestDTBMatchesQEMU compares gemu's device tree, node by node and property
// by property in blob order, with QEMU 7.2's `-machine virt,dumpdtb=` for
// the same flags. Allowed differences: the nodes of devices gemu lacks
// (pmu, fw-cfg, flash), the random rng-seed, and riscv,isa, which names
// what gemu implements.
func TestDTBMatchesQEMU(t *testing.T) {
	qemu, err := exec.LookPath("qemu-system-riscv64")
	if err != nil {
		t.Skip("qemu-system-riscv64 not installed (tests/setup.sh installs qemu-system-misc)")
	}
	dir := t.TempDir()
	kernel := filepath.Join(dir, "k.bin")
	initrd := filepath.Join(dir, "initrd")
	if err := os.WriteFile(kernel, []byte{0x6f, 0, 0, 0}, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(initrd, bytes.Repeat([]byte{1}, 100000), 0o644); err != nil {
		t.Fatal(err)
	}
	_, fwErr := os.Stat(DefaultBIOS)
	for _, tc := range []struct {
		name string
		args []string
		cfg  Config
		fw   bool // needs DefaultBIOS
	}{
		{"smp1", []string{"-m", "128M", "-bios", "none", "-kernel", kernel},
			Config{RAMSize: 128 << 20, BIOS: "none", Kernel: kernel}, false},
		{"smp3", []string{"-m", "128M", "-smp", "3", "-bios", "none", "-kernel", kernel, "-append", "console=ttyS0"},
			Config{RAMSize: 128 << 20, Harts: 3, BIOS: "none", Kernel: kernel, Append: "console=ttyS0"}, false},
		{"smp4-512M", []string{"-m", "512M", "-smp", "4", "-bios", "none", "-kernel", kernel, "-initrd", initrd},
			Config{RAMSize: 512 << 20, Harts: 4, BIOS: "none", Kernel: kernel, Initrd: initrd}, false},
		{"smp8", []string{"-m", "128M", "-smp", "8", "-bios", "none", "-kernel", kernel},
			Config{RAMSize: 128 << 20, Harts: 8, BIOS: "none", Kernel: kernel}, false},
		{"opensbi", []string{"-m", "512M", "-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0 earlycon"},
			Config{RAMSize: 512 << 20, Kernel: kernel, Initrd: initrd, Append: "console=ttyS0 earlycon"}, true},
		{"opensbi-smp3", []string{"-m", "128M", "-smp", "3"},
			Config{RAMSize: 128 << 20, Harts: 3}, true},
		{"devices", []string{"-m", "256M", "-bios", "none", "-kernel", kernel,
			"-audiodev", "none,id=a", "-device", "AC97,audiodev=a",
			"-object", "memory-backend-ram,id=mb,size=1M", "-device", "ivshmem-plain,memdev=mb"},
			Config{RAMSize: 256 << 20, BIOS: "none", Kernel: kernel,
				Audiodevs: qemuopt.MustParseFlag("-audiodev", "none,id=a"),
				Devices:   qemuopt.MustParseFlag("-device", "AC97,audiodev=a", "ivshmem-plain,memdev=mb"),
				Objects:   qemuopt.MustParseFlag("-object", "memory-backend-ram,id=mb,size=1M")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fw && fwErr != nil {
				t.Skipf("%s missing", DefaultBIOS)
			}
			qf := filepath.Join(dir, tc.name+".dtb")
			args := append([]string{"-machine", "virt,dumpdtb=" + qf, "-nographic"}, tc.args...)
			cmd := exec.Command(qemu, args...)
			cmd.Env = append(os.Environ(), "QEMU_AUDIO_DRV=none")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("qemu dumpdtb: %v\n%s", err, out)
			}
			qb, err := os.ReadFile(qf)
			if err != nil {
				t.Fatal(err)
			}
			m, err := New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer m.finish()
			q, g := dtbLines(t, qb), dtbLines(t, m.DTB())
			if q != g {
				t.Errorf("device trees differ (-QEMU +gemu):\n%s", lineDiff(q, g))
			}
		})
	}
}

// dtbLines renders a blob as one line per reservation, node and property,
// in blob order, leaving out what may differ (see TestDTBMatchesQEMU).
func dtbLines(t *testing.T, b []byte) string {
	t.Helper()
	var sb strings.Builder
	be := binary.BigEndian
	for off := be.Uint32(b[16:]); ; off += 16 {
		a, s := be.Uint64(b[off:]), be.Uint64(b[off+8:])
		if a == 0 && s == 0 {
			break
		}
		fmt.Fprintf(&sb, "/memreserve/ %#x %#x\n", a, s)
	}
	var emit func(path string, n *fdt.Node)
	emit = func(path string, n *fdt.Node) {
		switch {
		case path == "/pmu", strings.HasPrefix(path, "/fw-cfg@"), strings.HasPrefix(path, "/flash@"):
			return
		}
		fmt.Fprintf(&sb, "%s {\n", path)
		for _, p := range n.Props {
			v := fmt.Sprintf("%x", p.Value)
			if p.Name == "rng-seed" || p.Name == "riscv,isa" {
				v = "(differs)"
			}
			fmt.Fprintf(&sb, "  %s = %s\n", p.Name, v)
		}
		for _, c := range n.Children {
			emit(strings.TrimSuffix(path, "/")+"/"+c.Name, c)
		}
	}
	emit("/", fdtParse(t, b))
	return sb.String()
}

// lineDiff lists the lines only one side has, in order (a small LCS).
func lineDiff(a, b string) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	l := make([][]int, len(x)+1)
	for i := range l {
		l[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				l[i][j] = l[i+1][j+1] + 1
			} else {
				l[i][j] = max(l[i+1][j], l[i][j+1])
			}
		}
	}
	var sb strings.Builder
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			i++
			j++
		case j < len(y) && (i == len(x) || l[i][j+1] >= l[i+1][j]):
			fmt.Fprintf(&sb, "+ %s\n", y[j])
			j++
		default:
			fmt.Fprintf(&sb, "- %s\n", x[i])
			i++
		}
	}
	return sb.String()
}
